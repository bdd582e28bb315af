// OpenAPI 3 generated from the route schemas at /api/v1/openapi.json, browsable docs at /docs.
import { after, before, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, createTestApp, type TestApp } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';

const ORDER_PATHS: [string, string][] = [
  ['post', '/api/v1/orders'],
  ['get', '/api/v1/orders'],
  ['get', '/api/v1/orders/{id}'],
  ['patch', '/api/v1/orders/{id}'],
  ['post', '/api/v1/orders/{id}/cancel'],
  ['post', '/api/v1/orders/{id}/quick-process'],
  ['get', '/api/v1/orders/{id}/shipments'],
  ['get', '/api/v1/orders/{id}/shipments/{sid}'],
  ['post', '/api/v1/orders/{id}/shipments/{sid}/complete'],
  ['get', '/api/v1/orders/{id}/payments/{pid}'],
  ['post', '/api/v1/orders/{id}/payments/{pid}/{action}'],
  ['get', '/api/v1/orders/{id}/comments'],
  ['post', '/api/v1/orders/{id}/comments'],
];

forEachDialect('OpenAPI and docs', (dialect) => {
  let t: TestApp;
  before(async () => {
    t = await createTestApp(dialect);
  });
  after(async () => {
    await t?.close();
  });

  it('serves an OpenAPI 3 document with every orders path, Basic security and the list parameters', async () => {
    const res = await call(t.app, undefined, 'GET', '/api/v1/openapi.json');
    assert.equal(res.statusCode, 200);
    assert.match(String(res.headers['content-type']), /^application\/json/);
    const doc = res.json();
    assert.match(doc.openapi, /^3\./);
    assert.equal(typeof doc.info.title, 'string');
    assert.equal(typeof doc.info.version, 'string');
    for (const [method, path] of ORDER_PATHS) assert.ok(doc.paths[path]?.[method], `missing ${method.toUpperCase()} ${path}`);
    // /api/v0 is served but not documented twice
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/api/v0')));
    assert.deepEqual(doc.components.securitySchemes.basic, { type: 'http', scheme: 'basic' });
    const list = doc.paths['/api/v1/orders'].get;
    const names = list.parameters.map((p: { name: string; in: string }) => `${p.in}:${p.name}`);
    for (const n of ['page', 'page_size', 'sort', 'expand', 'status', 'id', 'created_at-from', 'created_at-to', 'updated_at-from', 'updated_at-to', 'archived_at-from', 'shipments_completed_at-to']) {
      assert.ok(names.includes(`query:${n}`), `GET /orders lacks ${n}`);
    }
    const create = doc.paths['/api/v1/orders'].post;
    const body = create.requestBody.content['application/json'].schema;
    assert.ok(body.properties.products && body.required.includes('products'));
    assert.equal(body.additionalProperties, false);
    for (const code of ['200', '400', '401', '403', '404', '409', '429']) assert.ok(create.responses[code], `POST /orders documents no ${code}`);
  });

  it('does not need credentials for the document and the docs, and the docs are HTML', async () => {
    const final = await call(t.app, undefined, 'GET', '/docs');
    assert.equal(final.statusCode, 200);
    assert.match(String(final.headers['content-type']), /text\/html/);
    assert.match(final.body, /<html/i);
    assert.match(final.body, /swagger/i);
    const spec = await call(t.app, undefined, 'GET', '/docs/json');
    assert.equal(spec.statusCode, 200);
    assert.ok(spec.json().paths['/api/v1/orders']);
  });
});
