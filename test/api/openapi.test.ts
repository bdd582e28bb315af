// OpenAPI 3.1 generated from the route schemas at /api/v1/openapi.json, browsable docs at /docs;
// the whole document (every front end) as a generator sees it; the component naming on its own.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Type } from 'typebox';
import { nameComponents } from '../../src/api/openapi.js';
import { deliveryHeaders } from '../../src/delivery/signer.js';
import { TEST_TOPIC, TOPICS } from '../../src/webhooks/topics.js';
import { call, createTestApp, type TestApp } from '../helpers/app.js';
import { forEachDialect } from '../helpers/database.js';
import { startLiveServer, type LiveServer } from '../helpers/live-server.js';

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
    assert.deepEqual(create.requestBody.content['application/json'].schema, { $ref: '#/components/schemas/CreateOrderBody' });
    const body = doc.components.schemas.CreateOrderBody;
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

type Json = { [key: string]: any };
const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'];

function operations(doc: Json): [string, Json][] {
  return (['paths', 'webhooks'] as const).flatMap((section) =>
    Object.entries(doc[section] ?? {}).flatMap(([path, item]) =>
      Object.entries(item as Json)
        .filter(([method]) => METHODS.includes(method))
        .map(([method, op]): [string, Json] => [`${section} ${method.toUpperCase()} ${path}`, op as Json]),
    ),
  );
}

function refsIn(value: unknown, found: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, found);
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) k === '$ref' && typeof v === 'string' ? found.push(v) : refsIn(v, found);
  return found;
}

forEachDialect('OpenAPI document of the whole server', (dialect) => {
  let s: LiveServer;
  let doc: Json;
  before(async () => {
    s = await startLiveServer(dialect);
    const res = await fetch(`http://127.0.0.1:${s.port}/api/v1/openapi.json`);
    assert.equal(res.status, 200);
    doc = (await res.json()) as Json;
  });
  after(async () => {
    await s?.close();
  });

  it('is OpenAPI 3.1 with servers, and every operation has a unique operationId and a summary', () => {
    assert.equal(doc.openapi, '3.1.0');
    assert.ok(Array.isArray(doc.servers) && doc.servers.length > 0 && typeof doc.servers[0].url === 'string');
    const ops = operations(doc);
    // orders, webhooks, listen, the XML actions, and the webhook messages
    for (const where of ['paths GET /api/v1/orders/{id}', 'paths POST /api/v1/webhooks', 'paths GET /api/v1/webhooks/listen', 'paths GET /webhooks/{action}', 'paths POST /webhooks/{action}', 'webhooks POST order.created']) {
      assert.ok(ops.some(([name]) => name === where), `the document lacks ${where}`);
    }
    for (const [name, op] of ops) {
      assert.match(String(op.operationId), /^[a-z][A-Za-z0-9]+$/, `${name} has no operationId`);
      assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${name} has no summary`);
    }
    const ids = ops.map(([, op]) => op.operationId);
    assert.equal(new Set(ids).size, ids.length, `operationIds repeat: ${ids.filter((id, i) => ids.indexOf(id) !== i).join(', ')}`);
    assert.ok(!Object.keys(doc.paths).some((p) => p.startsWith('/api/v0')), '/api/v0 is documented');
  });

  it('names its schemas: no def-N, every $ref resolves, the resources are components', () => {
    const names = Object.keys(doc.components.schemas);
    assert.deepEqual(names.filter((n) => n.startsWith('def-')), []);
    for (const name of ['Order', 'OrderProduct', 'Payment', 'Shipment', 'Comment', 'Subscription', 'Delivery', 'DeliveryDetail', 'Attempt', 'Topic', 'Error', 'OrderMessage', 'TestMessage', 'CreateOrderBody']) {
      assert.ok(names.includes(name), `no component ${name}`);
    }
    for (const ref of refsIn(doc)) {
      assert.match(ref, /^#\/components\/schemas\/[A-Z][A-Za-z0-9]*$/);
      assert.ok(doc.components.schemas[ref.split('/').pop()!], `${ref} points nowhere`);
    }
    // a list answer refers to the component instead of a copy
    const list = doc.paths['/api/v1/orders'].get.responses['200'].content['application/json'].schema;
    assert.deepEqual(list.properties.data.items, { $ref: '#/components/schemas/Order' });
    assert.deepEqual(doc.paths['/api/v1/webhooks'].post.responses['404'].content['application/json'].schema, { $ref: '#/components/schemas/Error' });
  });

  it('types every id in a path as an integer', () => {
    const idParams = operations(doc).flatMap(([name, op]) => (op.parameters ?? []).filter((p: Json) => p.in === 'path' && ['id', 'sid', 'pid'].includes(p.name)).map((p: Json) => [name, p] as const));
    assert.ok(idParams.length >= 12);
    for (const [name, p] of idParams) {
      // webhooks' delivery ids are message ids (msg_…), strings by nature
      if (name.includes('/deliveries/')) assert.equal(p.schema.type, 'string', name);
      else assert.equal(p.schema.type, 'integer', `${name}: ${p.name} is ${p.schema.type}`);
    }
  });

  it("describes each topic's message: body schema and the headers storehook sends", () => {
    const sent = Object.keys(deliveryHeaders({ messageId: 'msg_x', timestampSec: 1, signature: 'v1,x', topic: 'order.created', attempt: 1, version: '0' })).sort();
    for (const topic of [...TOPICS.map((t) => t.name), TEST_TOPIC]) {
      const op = doc.webhooks[topic]?.post;
      assert.ok(op, `no webhooks entry for ${topic}`);
      const resource = TOPICS.find((t) => t.name === topic)?.resource;
      const body = resource === undefined ? 'TestMessage' : { order: 'OrderMessage', product: 'ProductMessage', stock_item: 'StockItemMessage', customer: 'CustomerMessage', subscription_health: 'SubscriptionHealthMessage' }[resource];
      assert.deepEqual(op.requestBody.content['application/json'].schema, { $ref: `#/components/schemas/${body}` });
      const headers = op.parameters.filter((p: Json) => p.in === 'header').map((p: Json) => p.name).sort();
      assert.deepEqual(headers, sent, `${topic}: the documented headers are not the ones src/delivery/signer.ts sends`);
      assert.deepEqual(op.security, [], 'a message carries a signature, not the API credentials');
    }
    assert.deepEqual(doc.components.schemas.OrderMessage.properties.data, { $ref: '#/components/schemas/Order' });
    assert.deepEqual(doc.components.schemas.ProductMessage.properties.data, { $ref: '#/components/schemas/Product' });
    assert.deepEqual(doc.components.schemas.CustomerMessage.properties.data, { $ref: '#/components/schemas/Customer' });
  });
});

describe('nameComponents: a schema with a PascalCase title is a component', () => {
  const Line = Type.Object({ sku: Type.String() }, { title: 'Line' });
  const Basket = Type.Object({ lines: Type.Array(Line), note: Type.Object({ text: Type.String() }, { title: 'not a name' }) }, { title: 'Basket' });
  const doc = (schema: unknown, extra: Json = {}): Json => ({
    openapi: '3.1.0',
    paths: { '/basket': { get: { responses: { 200: { content: { 'application/json': { schema } } } } } } },
    components: { schemas: {} },
    ...extra,
  });

  it('moves titled schemas, nested ones too, into components.schemas and leaves a $ref', () => {
    const out = nameComponents(doc(JSON.parse(JSON.stringify(Basket))));
    assert.deepEqual(out.paths['/basket'].get.responses[200].content['application/json'].schema, { $ref: '#/components/schemas/Basket' });
    assert.deepEqual(out.components.schemas.Basket.properties.lines.items, { $ref: '#/components/schemas/Line' });
    assert.deepEqual(out.components.schemas.Line, { type: 'object', required: ['sku'], properties: { sku: { type: 'string' } }, title: 'Line' });
    // a title that is not a type name stays where it is
    assert.equal(out.components.schemas.Basket.properties.note.title, 'not a name');
  });

  it('renames a def-N component to its title and rewrites the refs', () => {
    const out = nameComponents(doc({ $ref: '#/components/schemas/def-0' }, { components: { schemas: { 'def-0': JSON.parse(JSON.stringify(Line)) } } }));
    assert.deepEqual(Object.keys(out.components.schemas), ['Line']);
    assert.deepEqual(out.paths['/basket'].get.responses[200].content['application/json'].schema, { $ref: '#/components/schemas/Line' });
  });

  it('refuses two different schemas under one title, naming it', () => {
    const other = Type.Object({ sku: Type.Integer() }, { title: 'Line' });
    const both = doc({ type: 'object', properties: { a: JSON.parse(JSON.stringify(Line)), b: JSON.parse(JSON.stringify(other)) } });
    assert.throws(() => nameComponents(both), /two different schemas have the title "Line"/);
  });
});
