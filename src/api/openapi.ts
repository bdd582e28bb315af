/**
 * The OpenAPI document: what @fastify/swagger is given (3.1, servers, security, the `webhooks`
 * section), and the step after it that names the schemas. A generator names types after
 * `components.schemas`, so the convention is: **a schema with a PascalCase `title` is a
 * component**. Wherever such a schema appears (route schemas, other components), it is moved to
 * `components.schemas[title]` and replaced by a `$ref`. Validation never sees this step: it works
 * on the generated document only.
 */
import type { FastifyDynamicSwaggerOptions } from '@fastify/swagger';
import { isDeepStrictEqual } from 'node:util';
import { CustomerMessage, OrderMessage, ProductMessage, StockItemMessage, SubscriptionHealthMessage, TestMessage } from '../webhooks/contract.js';
import { TEST_TOPIC, TOPICS, type TopicResource } from '../webhooks/topics.js';
import { VERSION } from '../version.js';

/** A title that makes a schema a component: PascalCase, usable as a type name in any language. */
export const COMPONENT_TITLE = /^[A-Z][A-Za-z0-9]*$/;

type Node = { [key: string]: unknown };

const isNode = (value: unknown): value is Node => typeof value === 'object' && value !== null && !Array.isArray(value);

// JSON Schema 2020-12 keywords whose value is a schema, a list of schemas or a map of schemas.
const ONE_SCHEMA = ['items', 'additionalProperties', 'not', 'contains', 'if', 'then', 'else', 'propertyNames', 'unevaluatedItems', 'unevaluatedProperties', 'contentSchema'];
const SCHEMA_LIST = ['allOf', 'anyOf', 'oneOf', 'prefixItems'];
const SCHEMA_MAP = ['properties', 'patternProperties', '$defs', 'dependentSchemas'];

// Words about a schema, which @fastify/swagger may move out of it (to a parameter), not its shape.
const ANNOTATIONS = new Set(['description', 'example', 'examples']);
const withoutAnnotations = (schema: Node): Node => Object.fromEntries(Object.entries(schema).filter(([key]) => !ANNOTATIONS.has(key)));

class ComponentHoister {
  readonly found = new Map<string, Node>();

  /** The schema with every titled schema inside it (and itself, unless `keep`) replaced by a `$ref`. */
  schema(input: unknown, keep?: string): unknown {
    if (!isNode(input)) return input;
    const out: Node = { ...input };
    for (const key of ONE_SCHEMA) if (isNode(out[key])) out[key] = this.schema(out[key]);
    for (const key of SCHEMA_LIST) if (Array.isArray(out[key])) out[key] = (out[key] as unknown[]).map((s) => this.schema(s));
    for (const key of SCHEMA_MAP) {
      const map = out[key];
      if (isNode(map)) out[key] = Object.fromEntries(Object.entries(map).map(([name, s]) => [name, this.schema(s)]));
    }
    const title = out.title;
    if (typeof title !== 'string' || !COMPONENT_TITLE.test(title) || title === keep) return out;
    this.add(title, out);
    return { $ref: `#/components/schemas/${title}` };
  }

  add(title: string, schema: Node): void {
    const known = this.found.get(title);
    if (known && !isDeepStrictEqual(withoutAnnotations(known), withoutAnnotations(schema))) {
      // Two shapes under one name would make one of them silently wrong in every generated client.
      throw new Error(`OpenAPI: two different schemas have the title "${title}"; give one of them another title (a schema with a PascalCase title is a component).`);
    }
    // @fastify/swagger moves a parameter schema's description to the parameter: keep the fuller copy.
    this.found.set(title, { ...schema, ...known });
  }

  /** Every `schema` inside an operation: parameters, request bodies, responses and their headers. */
  operation(operation: Node): Node {
    return this.walk(operation) as Node;
  }

  private walk(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((v) => this.walk(v));
    if (!isNode(value)) return value;
    return Object.fromEntries(Object.entries(value).map(([key, v]) => [key, key === 'schema' ? this.schema(v) : this.walk(v)]));
  }
}

/**
 * Names the document's schemas: titled schemas become components (see the top of this file), and
 * the `def-N` entries @fastify/swagger makes for schemas with an `$id` take their title instead.
 */
export function nameComponents<T extends object>(document: T): T {
  const doc = structuredClone(document) as Node;
  const hoister = new ComponentHoister();
  const components = isNode(doc.components) ? doc.components : {};
  const given = isNode(components.schemas) ? components.schemas : {};

  // `def-N` → its title, so the refs below can be rewritten to the name.
  const renamed = new Map<string, string>();
  for (const [name, schema] of Object.entries(given)) {
    const title = isNode(schema) ? schema.title : undefined;
    if (/^def-\d+$/.test(name) && typeof title === 'string' && COMPONENT_TITLE.test(title)) renamed.set(`#/components/schemas/${name}`, `#/components/schemas/${title}`);
  }
  const withNames = renamed.size === 0 ? doc : (JSON.parse(JSON.stringify(doc), (key, value: unknown) => (key === '$ref' && typeof value === 'string' ? (renamed.get(value) ?? value) : value)) as Node);

  const schemas: Node = {};
  for (const [name, schema] of Object.entries((withNames.components as Node | undefined)?.schemas ?? {})) {
    const title = isNode(schema) && typeof schema.title === 'string' && COMPONENT_TITLE.test(schema.title) ? schema.title : undefined;
    const named = renamed.has(`#/components/schemas/${name}`) && title ? title : name;
    const body = hoister.schema(schema, named);
    if (title === named && isNode(body)) hoister.add(named, body);
    else schemas[named] = body;
  }
  for (const section of ['paths', 'webhooks'] as const) {
    const items = withNames[section];
    if (!isNode(items)) continue;
    withNames[section] = Object.fromEntries(Object.entries(items).map(([path, item]) => [path, isNode(item) ? hoister.operation(item) : item]));
  }
  for (const [title, schema] of hoister.found) schemas[title] = schema;
  withNames.components = { ...(withNames.components as Node), schemas: Object.fromEntries(Object.entries(schemas).sort(([a], [b]) => a.localeCompare(b))) };
  return withNames as T;
}

// ---- the webhooks section: what storehook POSTs to a subscriber ---------------------------------

/**
 * The headers of every message (src/delivery/signer.ts `deliveryHeaders`; test/api/openapi.test.ts
 * keeps the two lists equal).
 */
export const MESSAGE_HEADERS: Record<string, { description: string; example: string }> = {
  'webhook-id': { description: 'the message id, the same on every retry and resend: your idempotency key', example: 'msg_Jq3CkP0zv2yQk6fLr1n8uQhX9wE' },
  'webhook-timestamp': { description: 'the time of this attempt, unix seconds; reject messages more than 5 minutes away from your clock', example: '1795886400' },
  'webhook-signature': {
    description: 'Standard Webhooks v1: `v1,` + base64(HMAC-SHA256(key, "<webhook-id>.<webhook-timestamp>.<raw body>")), the key being the UTF-8 bytes of the subscription uuid (lowercase). Space-separated when there are several.',
    example: 'v1,K6t3Ez0Qb7Y2m1cU9xW4vHn8pR5sL0aJdF3gT6yNqMk=',
  },
  'webhook-topic': { description: 'the topic, as in the body', example: 'order.created' },
  'webhook-attempt': { description: '1 for the first attempt, 2 for the first retry, …', example: '1' },
  'user-agent': { description: '`storehook/<version>`', example: `storehook/${VERSION}` },
  'content-type': { description: 'always JSON', example: 'application/json' },
};

type Document = NonNullable<FastifyDynamicSwaggerOptions['openapi']>;
type PathItem = NonNullable<Extract<Document, { webhooks?: unknown }>['webhooks']>[string];

function messageOperation(topic: string, summary: string, description: string, schema: string): PathItem {
  return {
    post: {
      operationId: `${topic.replace(/[._](\w)/g, (_m, c: string) => c.toUpperCase())}Message`,
      summary,
      description: `${description}\n\nSent as a POST to the subscription's URL, signed (see the \`webhook-signature\` header; docs/webhooks.md). Answer 2xx within 15 seconds; anything else is retried (not for webhook.test).`,
      tags: ['webhook messages'],
      // storehook calls the receiver: the API's Basic auth does not apply.
      security: [],
      parameters: Object.entries(MESSAGE_HEADERS).map(([name, h]) => ({ in: 'header', name, required: true, description: h.description, schema: { type: 'string' }, example: h.example })),
      requestBody: { required: true, content: { 'application/json': { schema: { $ref: `#/components/schemas/${schema}` } } } },
      responses: {
        '2XX': { description: 'received; storehook marks the message delivered' },
        '4XX': { description: 'refused; retried on the schedule (410 Gone disables the subscription)' },
        '5XX': { description: 'failed; retried on the schedule' },
      },
    },
  };
}

/** Which message body (component) and which GET each topic's resource has. */
const MESSAGE_OF_RESOURCE: Record<TopicResource, { schema: string; path: string }> = {
  order: { schema: 'OrderMessage', path: 'orders/{id}' },
  product: { schema: 'ProductMessage', path: 'products/{id}' },
  stock_item: { schema: 'StockItemMessage', path: 'stock-items/{id}' },
  customer: { schema: 'CustomerMessage', path: 'customers/{id}' },
  subscription_health: { schema: 'SubscriptionHealthMessage', path: 'webhooks/{uuid}' },
};

function webhooksSection(): Record<string, PathItem> {
  const section: Record<string, PathItem> = {};
  for (const topic of TOPICS) {
    const { schema, path } = MESSAGE_OF_RESOURCE[topic.resource];
    const data =
      topic.resource === 'subscription_health'
        ? `\`data\` is the health of another subscription of the store (the one this is about never receives it), as GET /api/v1/${path} shows it in \`health\`, named by its non-secret \`reference\`, topic and URL: never its uuid, which is its signing key.`
        : `\`data\` is the ${topic.resource.replace('_', ' ')} as GET /api/v1/${path} renders it, with the subscription's expands.`;
    section[topic.name] = messageOperation(topic.name, `${topic.name}: ${topic.description}`, data, schema);
  }
  section[TEST_TOPIC] = messageOperation(TEST_TOPIC, `${TEST_TOPIC}: sent by POST /api/v1/webhooks/{uuid}/test`, 'Not subscribable; tried once.', 'TestMessage');
  return section;
}

/** The options @fastify/swagger is registered with. */
export function swaggerOptions(): FastifyDynamicSwaggerOptions {
  return {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'storehook API',
        version: VERSION,
        description: 'Store orders API and Webhooks API (MyCashflow-compatible). Auth: HTTP Basic, API user e-mail + API key.',
        license: { name: 'MIT', identifier: 'MIT' },
      },
      // The document is served by the storehook it describes: `/` is that server, whatever its address.
      servers: [{ url: '/', description: 'the storehook serving this document' }],
      components: {
        securitySchemes: { basic: { type: 'http', scheme: 'basic' } },
        // Components that no route uses: the message bodies of the webhooks section.
        schemas: {
          OrderMessage: OrderMessage as object,
          ProductMessage: ProductMessage as object,
          StockItemMessage: StockItemMessage as object,
          CustomerMessage: CustomerMessage as object,
          SubscriptionHealthMessage: SubscriptionHealthMessage as object,
          TestMessage: TestMessage as object,
        },
      },
      security: [{ basic: [] }],
      tags: [
        { name: 'orders', description: 'orders, their shipments, payments and comments' },
        { name: 'webhooks', description: 'subscriptions, the delivery log, and the live stream' },
        { name: 'webhook messages', description: 'what storehook POSTs to a subscribed URL (the `webhooks` section)' },
        { name: 'legacy', description: 'the old XML Webhooks extension (docs/migrating-from-xml-webhooks.md)' },
      ],
      webhooks: webhooksSection(),
    },
    transformObject: (documentObject) => nameComponents('openapiObject' in documentObject ? documentObject.openapiObject : documentObject.swaggerObject),
  };
}
