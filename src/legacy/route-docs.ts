/**
 * How the XML actions at `/webhooks/{action}` appear in the OpenAPI document. They read their
 * parameters themselves (query or form, any charset: params.ts), so nothing here validates: it
 * reaches the document through `swaggerTransform` only.
 */
import type { SwaggerTransform } from '@fastify/swagger';
import { Type } from 'typebox';

const Seconds = (description: string) => Type.Integer({ minimum: 0, description: `${description} (unix seconds)` });
const Flag = (description: string) => Type.Union([Type.Literal('1'), Type.Literal('0')], { description });

// One object: every parameter of every action (docs/migrating-from-xml-webhooks.md, "The actions").
const Params = Type.Object({
  key: Type.String({ description: "the store's legacy key (40 hex characters), from `storehook stores legacy-key`" }),
  order: Type.Optional(Type.Integer({ minimum: 1, description: 'get, send, process: the order id' })),
  ts: Type.Optional(Seconds('changes: orders created or updated at or after')),
  updated_after_ts: Type.Optional(Seconds('changes: orders updated at or after (also spelt update_after_ts)')),
  created_after_ts: Type.Optional(Seconds('changes: orders created at or after')),
  order_ids: Type.Optional(Type.String({ description: 'changes: these orders, e.g. 1,2,3 (at most 500)' })),
  action: Type.Optional(Type.Union([Type.Literal('deliver'), Type.Literal('add_comment')], { description: 'process: what to do' })),
  send_email: Type.Optional(Flag('process deliver: accepted and ignored (storehook sends no e-mail)')),
  tracking_code: Type.Optional(Type.String({ maxLength: 200, description: 'process deliver: stored on every shipment it completes' })),
  message: Type.Optional(Type.String({ maxLength: 10_000, description: 'process add_comment: the text' })),
  public_message: Type.Optional(Flag('process add_comment: 1 public, 0 private')),
});

const xml = (description: string) => ({ description, content: { 'application/xml': { schema: Type.String() } } });
const errors = {
  400: xml('`<error>`: a missing or malformed parameter'),
  401: xml('`<error>`: no key, or a wrong one'),
  403: xml('`<error>`: the extension is disabled for the store, or its plan has none'),
  404: xml('`<error>`: an unknown action or order'),
  405: xml('`<error>`: a method the action does not take (the `Allow` header lists the right ones)'),
  409: xml('`<error>`: delivering a cancelled order; `send` without an automatic POST URL'),
  429: xml('`<error>`: too many wrong keys or requests; see `Retry-After`'),
  502: xml('`<error>`: `send`: the receiver did not take the POST (it is retried)'),
};
const description = 'The old XML Webhooks extension: `get` (one order), `changes` (orders changed since a time, or by id), `process` (deliver, add_comment) and `send` (the automatic POST again). Every answer is XML; see docs/migrating-from-xml-webhooks.md.';

/** The documentation of `GET` or `POST /webhooks/{action}`. */
export function legacyActionDocs(method: 'GET' | 'POST'): SwaggerTransform {
  const actions = method === 'GET' ? ['get', 'changes', 'send'] : ['get', 'changes', 'process', 'send'];
  const action = Type.Union(actions.map((a) => Type.Literal(a)));
  return ({ url }) => ({
    url,
    schema: {
      tags: ['legacy'],
      operationId: method === 'GET' ? 'legacyActionGet' : 'legacyActionPost',
      summary: method === 'GET' ? 'XML Webhooks extension: get, changes or send' : 'XML Webhooks extension: get, changes, process or send (form fields)',
      description,
      // The legacy key, not the API's Basic auth.
      security: [],
      params: Type.Object({ action }),
      ...(method === 'GET' ? { querystring: Params } : { body: Params, consumes: ['application/x-www-form-urlencoded', 'multipart/form-data'] }),
      response: { 200: xml('`<Orders>` (get, changes) or `<success>` (process, send)'), ...errors },
    },
  });
}
