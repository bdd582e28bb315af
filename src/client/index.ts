/**
 * storehook/client — a small typed client for the storehook API: orders, webhooks, and the rest
 * of the store (products and their variations, stock, the stock ledger, customers, and the
 * catalogue's small resources).
 *
 * The resource types are the server's own schemas (`Static<typeof Order>` …), imported as types
 * only: the client has no runtime dependency beyond `fetch` (Node ≥ 18, browsers, Deno, Bun).
 *
 * @example
 * ```ts
 * import { StorehookClient, ApiError } from 'storehook/client';
 *
 * const api = new StorehookClient({ baseUrl: 'http://127.0.0.1:8080', email: 'erp@acme.example', apiKey: process.env.STOREHOOK_API_KEY! });
 * for await (const order of api.orders.listAll({ status: 'open', expand: ['products'] })) {
 *   console.log(order.id, order.total, order.products?.length);
 * }
 * try {
 *   await api.orders.cancel(1234);
 * } catch (err) {
 *   if (err instanceof ApiError && err.status === 409) console.log(err.body.message); // "Order 1234 is COMPLETED …"
 *   else throw err;
 * }
 * ```
 *
 * Retries: a `429` (rate limit) or `503` (server busy) answer is retried up to `maxRetries` times,
 * waiting what `Retry-After` says (or 0.5 s, 1 s, 2 s … without it). A wait longer than
 * `maxRetryWaitMs` is not attempted: the ApiError is thrown at once. A `POST` answered `503`
 * without `Retry-After` is not retried, because the server may have done the work.
 */
import type { ErrorBody, ListMeta } from '../api/schemas/common.js';
import type {
  Comment,
  CompleteShipmentBody,
  CreateCommentBody,
  CreateOrderBody,
  Order,
  OrderProduct,
  PatchOrderBody,
  Payment,
  QuickProcessBody,
  Shipment,
  ShipmentDocument,
} from '../orders/contract.js';
import type { OrderExpand } from '../orders/expands.js';
import type {
  Attempt,
  CreateSubscriptionBody,
  Delivery,
  DeliveryDetail,
  DiscardHeldBody,
  DiscardHeldResult,
  PatchSubscriptionBody,
  RecoverBody,
  RotatedSecret,
  RotateSecretBody,
  SavedSubscription,
  SendOutcome,
  Signing,
  SigningChoice,
  Subscription,
  SubscriptionHealth,
  SubscriptionHealthData,
  SubscriptionOrdering,
  Topic,
} from '../webhooks/contract.js';
import type {
  Brand,
  BrandBody,
  Campaign,
  Category,
  CategoryBody,
  CreateProductBody,
  CreateVariationBody,
  PatchProductBody,
  PatchStockBody,
  PatchVariationBody,
  PaymentMethod,
  Product,
  ProductExpand,
  ShippingMethod,
  StockChange,
  StockItem as StockItemSchema,
  StockItemExpand,
  Supplier,
  SupplierBody,
  Variation,
  Version,
} from '../catalogue/contract.js';
import type { CreateCustomerBody, Customer, CustomerExpand, CustomerGroup, CustomerGroupBody, PatchCustomerBody } from '../customers/contract.js';
import type { Static } from 'typebox';
import type { OrderRangeField, OrderSortField } from '../orders/list.js';

export type {
  Brand,
  BrandBody,
  Campaign,
  Category,
  CategoryBody,
  CreateCustomerBody,
  CreateProductBody,
  CreateVariationBody,
  Customer,
  CustomerExpand,
  CustomerGroup,
  CustomerGroupBody,
  PatchCustomerBody,
  PatchProductBody,
  PatchStockBody,
  PatchVariationBody,
  PaymentMethod,
  Product,
  ProductExpand,
  ShippingMethod,
  StockChange,
  StockItemExpand,
  Supplier,
  SupplierBody,
  Variation,
  Version,
};
/** A stock item; with `expand=product` its product (the server's schema leaves that open, as Product holds stock items). */
export type StockItem = Omit<StockItemSchema, 'product'> & { product?: Product };
export type {
  Attempt,
  Comment,
  CompleteShipmentBody,
  CreateCommentBody,
  CreateOrderBody,
  CreateSubscriptionBody,
  Delivery,
  DeliveryDetail,
  DiscardHeldBody,
  DiscardHeldResult,
  ErrorBody,
  ListMeta,
  Order,
  OrderExpand,
  OrderProduct,
  PatchOrderBody,
  PatchSubscriptionBody,
  Payment,
  QuickProcessBody,
  RecoverBody,
  RotatedSecret,
  RotateSecretBody,
  SavedSubscription,
  Shipment,
  ShipmentDocument,
  Signing,
  SigningChoice,
  Subscription,
  SubscriptionHealth,
  /** `data` of a subscription.failing, .disabled or .recovered message. */
  SubscriptionHealthData,
};
/** 'none' or 'per_order' (one message at a time per order, or per product, stock item, customer). */
export type WebhookOrdering = Static<typeof SubscriptionOrdering>;
export type TopicInfo = Static<typeof Topic>;
/**
 * The body of every webhook message: `{id, topic, created_at, sequence, data}`; `sequence` counts per
 * resource (drop a message whose sequence is below one you have). A `storehook listen` event has the
 * same fields but `sequence`.
 */
export type { MessageBody as WebhookMessage } from '../webhooks/topics.js';
export type SendResult = Static<typeof SendOutcome>;

/** One page of a list: `{data, meta}` (SPEC §1). */
export interface Page<T> {
  data: T[];
  meta: ListMeta;
}

type Time = string | Date;
type Ranges<F extends string> = { [K in `${F}-from` | `${F}-to`]?: Time };

/** Filters of `GET /orders`; lists may be arrays, times may be Date objects. */
export type OrderListQuery = Ranges<OrderRangeField> & {
  page?: number;
  page_size?: number;
  status?: 'open' | 'completed' | 'cancelled';
  /** several orders by id */
  id?: number[] | string;
  sort?: `${OrderSortField}-${'asc' | 'desc'}`;
  expand?: OrderExpand[] | string;
};

/**
 * Filters of the catalogue and customer lists (`GET /products`, `/customers`, `/stock-changes`,
 * `/brands` …): paging, several by id, `sort`, the ranges `R`, and `expand` of `E`.
 */
export type ResourceListQuery<S extends string, R extends string = never, E extends string = never> = Ranges<R> & {
  page?: number;
  page_size?: number;
  /** several by id */
  id?: number[] | string;
  sort?: `${S}-${'asc' | 'desc'}`;
  expand?: E[] | string;
};
export type ProductListQuery = ResourceListQuery<'id' | 'created_at' | 'updated_at', 'created_at' | 'updated_at', ProductExpand>;
export type VariationListQuery = ResourceListQuery<'id'>;
export type StockItemListQuery = ResourceListQuery<'id' | 'updated_at', 'updated_at', StockItemExpand>;
/** `page_size` up to 10,000 here, as stock connectors ask. */
export type StockChangeListQuery = ResourceListQuery<'id' | 'changed_at', 'changed_at'>;
export type CustomerListQuery = ResourceListQuery<'id' | 'created_at' | 'updated_at', 'created_at' | 'updated_at', CustomerExpand>;
export type CustomerGroupListQuery = ResourceListQuery<'id'>;
/** brands, suppliers, categories, campaigns, versions, payment and shipping methods */
export type NamedListQuery<E extends string = never> = ResourceListQuery<'id' | 'updated_at', 'updated_at', E>;

/** The answer of a DELETE. */
export interface Deleted {
  id: number;
  deleted: true;
}

export type DeliveryListQuery = Ranges<'created_at'> & {
  page?: number;
  page_size?: number;
  status?: Delivery['status'];
};

export type PaymentAction = 'mark-as-paid' | 'mark-as-unpaid' | 'mark-as-cancelled' | 'activate';

export interface RetryInfo {
  method: string;
  url: string;
  status: number;
  /** 1 for the first retry */
  retry: number;
  waitMs: number;
}

export interface ClientOptions {
  /** The server, e.g. `http://127.0.0.1:8080` (a trailing `/api/v1` is accepted too). */
  baseUrl: string;
  /** The API user's e-mail (HTTP Basic user name). */
  email: string;
  /** The API key (HTTP Basic password). */
  apiKey: string;
  /** A fetch implementation; default the global one. */
  fetch?: typeof fetch;
  /** Retries of a 429/503 answer (default 3). */
  maxRetries?: number;
  /** Longest wait before a retry; a longer Retry-After throws instead (default 60 000 ms). */
  maxRetryWaitMs?: number;
  /** Per-request time limit (default 30 000 ms). */
  timeoutMs?: number;
  /** Called before each retry (for logging or progress). */
  onRetry?: (info: RetryInfo) => void;
  /** Extra headers on every request (e.g. `x-request-id`). */
  headers?: Record<string, string>;
}

/** Anything this client throws on purpose. */
export class StorehookError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'StorehookError';
  }
}

/** The server answered with an error status; `body` is its JSON error (`{code, error, message, errors?}`). */
export class ApiError extends StorehookError {
  readonly status: number;
  readonly body: ErrorBody;
  readonly method: string;
  readonly url: string;
  /** the server's `x-request-id`, to find the request in its log */
  readonly requestId: string | undefined;
  /** seconds, when the answer carried `Retry-After` */
  readonly retryAfterSec: number | undefined;

  constructor(init: { status: number; body: ErrorBody; method: string; url: string; requestId?: string | undefined; retryAfterSec?: number | undefined }) {
    super(`${init.method} ${init.url} → ${init.status} ${init.body.error}: ${init.body.message}`);
    this.name = 'ApiError';
    this.status = init.status;
    this.body = init.body;
    this.method = init.method;
    this.url = init.url;
    this.requestId = init.requestId;
    this.retryAfterSec = init.retryAfterSec;
  }

  /** The per-field problems of a 400, `[]` when there are none. */
  get fieldErrors(): { field: string; message: string }[] {
    return this.body.errors ?? [];
  }
}

/** No usable answer: the server could not be reached, timed out, or answered something that is not storehook JSON. */
export class ConnectionError extends StorehookError {
  readonly method: string;
  readonly url: string;
  constructor(message: string, method: string, url: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = 'ConnectionError';
    this.method = method;
    this.url = url;
  }
}

type QueryValue = string | number | boolean | Date | readonly (string | number)[] | undefined | null;
type Query = Record<string, QueryValue>;

export interface RequestOptions {
  query?: Query | undefined;
  body?: unknown;
  signal?: AbortSignal;
}

function toBase64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary);
}

/** `Retry-After` as milliseconds (delta-seconds or an HTTP date); undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null || value.trim() === '') return undefined;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

function queryString(query: Query | undefined): string {
  if (!query) return '';
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (value instanceof Date) params.set(key, value.toISOString());
    else if (Array.isArray(value)) {
      if (value.length) params.set(key, value.join(','));
    } else params.set(key, String(value));
  }
  const text = params.toString();
  return text ? `?${text}` : '';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });

const enc = encodeURIComponent;

export class StorehookClient {
  /** `http://host:port` without a trailing slash (and without `/api/v1`). */
  readonly baseUrl: string;
  readonly orders: OrdersApi;
  readonly webhooks: WebhooksApi;
  readonly products: ProductsApi;
  /** the variations of a product: `variations.list(productId)` */
  readonly variations: VariationsApi;
  /** the stock of a product code (ERP stock sync): `stock.update('MUG-1', { quantity: 40 })` */
  readonly stock: StockApi;
  readonly stockItems: StockItemsApi;
  /** the stock ledger, read-only: `listAll({ 'changed_at-from': lastSync, sort: 'id-asc', page_size: 10_000 })` */
  readonly stockChanges: ListApi<StockChange, StockChangeListQuery>;
  /** e-mail unique in the store; `customer_group_ids` in a body replaces the group links */
  readonly customers: WritableApi<Customer, CreateCustomerBody, CustomerListQuery, PatchCustomerBody>;
  readonly customerGroups: WritableApi<CustomerGroup, CustomerGroupBody, CustomerGroupListQuery>;
  readonly brands: WritableApi<Brand, BrandBody>;
  readonly suppliers: WritableApi<Supplier, SupplierBody>;
  readonly categories: WritableApi<Category, CategoryBody, NamedListQuery<'visibilities'>>;
  readonly campaigns: ReadableApi<Campaign, NamedListQuery<'prices' | 'visibilities'>>;
  readonly versions: ReadableApi<Version>;
  readonly paymentMethods: ReadableApi<PaymentMethod>;
  readonly shippingMethods: ReadableApi<ShippingMethod>;
  private readonly auth: string;
  private readonly fetchImpl: typeof fetch;
  private readonly maxRetries: number;
  private readonly maxRetryWaitMs: number;
  private readonly timeoutMs: number;

  constructor(private readonly options: ClientOptions) {
    let base: URL;
    try {
      base = new URL(options.baseUrl);
    } catch {
      throw new StorehookError(`baseUrl ${JSON.stringify(options.baseUrl)} is not a URL; use e.g. http://127.0.0.1:8080`);
    }
    if (base.protocol !== 'http:' && base.protocol !== 'https:') throw new StorehookError(`baseUrl must be http:// or https://, got ${base.protocol}`);
    this.baseUrl = `${base.origin}${base.pathname.replace(/\/+$/, '').replace(/\/api\/v[01]$/, '')}`;
    this.auth = `Basic ${toBase64(`${options.email}:${options.apiKey}`)}`;
    const f = options.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw new StorehookError('no fetch available: pass options.fetch (Node 18+ has a global fetch)');
    this.fetchImpl = f;
    this.maxRetries = options.maxRetries ?? 3;
    this.maxRetryWaitMs = options.maxRetryWaitMs ?? 60_000;
    this.timeoutMs = options.timeoutMs ?? 30_000;
    this.orders = new OrdersApi(this);
    this.webhooks = new WebhooksApi(this);
    this.products = new ProductsApi(this, '/products');
    this.variations = new VariationsApi(this);
    this.stock = new StockApi(this);
    this.stockItems = new StockItemsApi(this, '/stock-items');
    this.stockChanges = new ListApi(this, '/stock-changes');
    this.customers = new WritableApi(this, '/customers');
    this.customerGroups = new WritableApi(this, '/customer-groups');
    this.brands = new WritableApi(this, '/brands');
    this.suppliers = new WritableApi(this, '/suppliers');
    this.categories = new WritableApi(this, '/categories');
    this.campaigns = new ReadableApi(this, '/campaigns');
    this.versions = new ReadableApi(this, '/versions');
    this.paymentMethods = new ReadableApi(this, '/payment-methods');
    this.shippingMethods = new ReadableApi(this, '/shipping-methods');
  }

  /**
   * One API call. `path` is relative to `/api/v1` (e.g. `/orders`), or an absolute URL on this
   * server (a `meta.next` link). Resolves with the parsed JSON (undefined for 204).
   */
  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const url = this.resolve(path) + queryString(options.query);
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = {
      accept: 'application/json',
      authorization: this.auth,
      ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
      ...this.options.headers,
    };
    for (let retry = 0; ; retry++) {
      let res: Response;
      const signals = [AbortSignal.timeout(this.timeoutMs), ...(options.signal ? [options.signal] : [])];
      try {
        res = await this.fetchImpl(url, { method, headers, ...(body !== undefined ? { body } : {}), signal: AbortSignal.any(signals), redirect: 'manual' });
      } catch (err) {
        if (options.signal?.aborted) throw err;
        const e = err as Error & { cause?: { code?: string; message?: string } };
        const why =
          e.name === 'TimeoutError'
            ? `no answer within ${this.timeoutMs} ms`
            : e.cause?.code === 'ECONNREFUSED'
              ? 'connection refused (is the server running, and is the URL right?)'
              : e.cause?.code === 'ENOTFOUND'
                ? `cannot resolve ${new URL(url).hostname}`
                : (e.cause?.message ?? e.cause?.code ?? e.message);
        throw new ConnectionError(`${method} ${url}: ${why}`, method, url, err);
      }
      const text = await res.text().catch(() => '');
      const requestId = res.headers.get('x-request-id') ?? undefined;
      if (res.ok) {
        if (res.status === 204 || text === '') return undefined as T;
        try {
          return JSON.parse(text) as T;
        } catch (err) {
          throw new ConnectionError(`${method} ${url}: the answer is not JSON (is ${this.baseUrl} a storehook server?)`, method, url, err);
        }
      }
      const retryAfterMs = parseRetryAfter(res.headers.get('retry-after'));
      const retryable = res.status === 429 || (res.status === 503 && (method !== 'POST' || retryAfterMs !== undefined));
      if (retryable && retry < this.maxRetries) {
        const waitMs = retryAfterMs ?? 500 * 2 ** retry;
        if (waitMs <= this.maxRetryWaitMs) {
          this.options.onRetry?.({ method, url, status: res.status, retry: retry + 1, waitMs });
          await sleep(waitMs, options.signal);
          continue;
        }
      }
      throw new ApiError({ status: res.status, body: errorBodyOf(res.status, res.statusText, text), method, url, requestId, retryAfterSec: retryAfterMs === undefined ? undefined : Math.ceil(retryAfterMs / 1000) });
    }
  }

  /** Every page of a list, following `meta.next` until the last page. */
  async *pages<T>(path: string, query?: Query): AsyncGenerator<Page<T>, void, undefined> {
    let page = await this.request<Page<T>>('GET', path, { query });
    yield page;
    while (page.meta.next) {
      page = await this.request<Page<T>>('GET', page.meta.next);
      yield page;
    }
  }

  /** Every item of a list, page after page (`for await (const x of client.paginate(…))`). */
  async *paginate<T>(path: string, query?: Query): AsyncGenerator<T, void, undefined> {
    for await (const page of this.pages<T>(path, query)) yield* page.data;
  }

  private resolve(path: string): string {
    if (/^https?:\/\//i.test(path)) {
      // A `next` link: keep its path and query, but send it to this client's server (the
      // server may know itself under another host name, e.g. behind a proxy).
      const u = new URL(path);
      const at = u.pathname.indexOf('/api/');
      if (at < 0) throw new StorehookError(`refusing to follow ${path}: not an API URL`);
      return `${this.baseUrl}${u.pathname.slice(at)}${u.search}`;
    }
    return `${this.baseUrl}/api/v1${path.startsWith('/') ? path : `/${path}`}`;
  }
}

function errorBodyOf(status: number, statusText: string, text: string): ErrorBody {
  try {
    const parsed = JSON.parse(text) as Partial<ErrorBody>;
    if (parsed && typeof parsed.message === 'string') {
      return { code: typeof parsed.code === 'number' ? parsed.code : status, error: typeof parsed.error === 'string' ? parsed.error : statusText, message: parsed.message, ...(Array.isArray(parsed.errors) ? { errors: parsed.errors } : {}) };
    }
  } catch {
    // not JSON: fall through
  }
  const snippet = text.replace(/\s+/g, ' ').trim().slice(0, 200);
  return { code: status, error: statusText || 'Error', message: `The server answered ${status} without a storehook error body${snippet ? `: ${snippet}` : ''} (is the URL a storehook server?)` };
}

type Expand = { expand?: OrderExpand[] | string };

export class OrdersApi {
  constructor(private readonly c: StorehookClient) {}

  /** One page of orders. */
  list(query: OrderListQuery = {}): Promise<Page<Order>> {
    return this.c.request('GET', '/orders', { query });
  }
  /** Every matching order, following `meta.next` (keyset paging: changes while paging do not skip orders). */
  listAll(query: Omit<OrderListQuery, 'page'> = {}): AsyncGenerator<Order, void, undefined> {
    return this.c.paginate<Order>('/orders', query);
  }
  /** The pages themselves, for progress (`meta.item_count`, `meta.page_count`). */
  pages(query: Omit<OrderListQuery, 'page'> = {}): AsyncGenerator<Page<Order>, void, undefined> {
    return this.c.pages<Order>('/orders', query);
  }
  async get(id: number, query: Expand = {}): Promise<Order> {
    return (await this.c.request<{ data: Order }>('GET', `/orders/${id}`, { query })).data;
  }
  async create(body: CreateOrderBody): Promise<Order> {
    return (await this.c.request<{ data: Order }>('POST', '/orders', { body })).data;
  }
  async update(id: number, patch: PatchOrderBody): Promise<Order> {
    return (await this.c.request<{ data: Order }>('PATCH', `/orders/${id}`, { body: patch })).data;
  }
  async cancel(id: number): Promise<Order> {
    return (await this.c.request<{ data: Order }>('POST', `/orders/${id}/cancel`)).data;
  }
  async quickProcess(id: number, body: QuickProcessBody = {}): Promise<Order> {
    return (await this.c.request<{ data: Order }>('POST', `/orders/${id}/quick-process`, { body })).data;
  }
  async shipments(id: number): Promise<Shipment[]> {
    return (await this.c.request<Page<Shipment>>('GET', `/orders/${id}/shipments`)).data;
  }
  async shipment(id: number, shipmentId: number): Promise<Shipment> {
    return (await this.c.request<{ data: Shipment }>('GET', `/orders/${id}/shipments/${shipmentId}`)).data;
  }
  async completeShipment(id: number, shipmentId: number, body: CompleteShipmentBody = {}): Promise<Shipment> {
    return (await this.c.request<{ data: Shipment }>('POST', `/orders/${id}/shipments/${shipmentId}/complete`, { body })).data;
  }
  async payment(id: number, paymentId: number): Promise<Payment> {
    return (await this.c.request<{ data: Payment }>('GET', `/orders/${id}/payments/${paymentId}`)).data;
  }
  async changePayment(id: number, paymentId: number, action: PaymentAction): Promise<Payment> {
    return (await this.c.request<{ data: Payment }>('POST', `/orders/${id}/payments/${paymentId}/${action}`)).data;
  }
  async comments(id: number): Promise<Comment[]> {
    return (await this.c.request<Page<Comment>>('GET', `/orders/${id}/comments`)).data;
  }
  async addComment(id: number, body: CreateCommentBody): Promise<Comment> {
    return (await this.c.request<{ data: Comment }>('POST', `/orders/${id}/comments`, { body })).data;
  }
}

export class WebhooksApi {
  constructor(private readonly c: StorehookClient) {}

  async topics(): Promise<TopicInfo[]> {
    return (await this.c.request<Page<TopicInfo>>('GET', '/webhooks/topics')).data;
  }
  list(query: { page?: number; page_size?: number } = {}): Promise<Page<Subscription>> {
    return this.c.request('GET', '/webhooks', { query });
  }
  listAll(query: { page_size?: number } = {}): AsyncGenerator<Subscription, void, undefined> {
    return this.c.paginate<Subscription>('/webhooks', query);
  }
  async get(uuid: string): Promise<Subscription> {
    return (await this.c.request<{ data: Subscription }>('GET', `/webhooks/${enc(uuid)}`)).data;
  }
  /** With `signing: { hmac: 'secret' }` the answer's `secret` is the whsec_ secret: shown this once. */
  async create(body: CreateSubscriptionBody): Promise<SavedSubscription> {
    return (await this.c.request<{ data: SavedSubscription }>('POST', '/webhooks', { body })).data;
  }
  async update(uuid: string, patch: PatchSubscriptionBody): Promise<SavedSubscription> {
    return (await this.c.request<{ data: SavedSubscription }>('PATCH', `/webhooks/${enc(uuid)}`, { body: patch })).data;
  }
  /**
   * A new signing secret (or, `{ kind: 'ed25519' }`, key pair): the answer's `secret` is shown this
   * once. The old key keeps signing beside it until `old_keys_expire_at` (`overlap_hours`, default 24).
   */
  async rotateSecret(uuid: string, body: RotateSecretBody = {}): Promise<RotatedSecret> {
    return (await this.c.request<{ data: RotatedSecret }>('POST', `/webhooks/${enc(uuid)}/secret/rotate`, { body })).data;
  }
  async delete(uuid: string): Promise<void> {
    await this.c.request<void>('DELETE', `/webhooks/${enc(uuid)}`);
  }
  /** Sends a `webhook.test` message now; resolves with the attempt's outcome. */
  async test(uuid: string): Promise<SendResult> {
    return (await this.c.request<{ data: SendResult }>('POST', `/webhooks/${enc(uuid)}/test`)).data;
  }
  deliveries(uuid: string, query: DeliveryListQuery = {}): Promise<Page<Delivery>> {
    return this.c.request('GET', `/webhooks/${enc(uuid)}/deliveries`, { query });
  }
  allDeliveries(uuid: string, query: Omit<DeliveryListQuery, 'page'> = {}): AsyncGenerator<Delivery, void, undefined> {
    return this.c.paginate<Delivery>(`/webhooks/${enc(uuid)}/deliveries`, query);
  }
  async delivery(uuid: string, id: string): Promise<DeliveryDetail> {
    return (await this.c.request<{ data: DeliveryDetail }>('GET', `/webhooks/${enc(uuid)}/deliveries/${enc(id)}`)).data;
  }
  async resend(uuid: string, id: string): Promise<SendResult> {
    return (await this.c.request<{ data: SendResult }>('POST', `/webhooks/${enc(uuid)}/deliveries/${enc(id)}/resend`)).data;
  }
  async recover(uuid: string, body: RecoverBody): Promise<{ count: number; dry_run: boolean; since: string; until: string }> {
    return (await this.c.request<{ data: { count: number; dry_run: boolean; since: string; until: string } }>('POST', `/webhooks/${enc(uuid)}/recover`, { body })).data;
  }
  /**
   * Discards the messages held for a disabled subscription (created at or before `until`,
   * default now) instead of sending them when it is enabled; resolves with how many.
   * `{ dry_run: true }` only counts.
   */
  async discardHeld(uuid: string, body: DiscardHeldBody = {}): Promise<DiscardHeldResult> {
    return (await this.c.request<{ data: DiscardHeldResult }>('POST', `/webhooks/${enc(uuid)}/held/discard`, { body })).data;
  }
}

/** A list at `path`: one page, or every item. */
export class ListApi<T, Q extends Query> {
  constructor(
    protected readonly c: StorehookClient,
    protected readonly path: string,
  ) {}

  list(query: Q = {} as Q): Promise<Page<T>> {
    return this.c.request('GET', this.path, { query });
  }
  /** Every matching item, following `meta.next`. */
  listAll(query: Omit<Q, 'page'> = {} as Q): AsyncGenerator<T, void, undefined> {
    return this.c.paginate<T>(this.path, query as Query);
  }
}

/** A list-and-get resource at `path`: one page, every item, one by id. */
export class ReadableApi<T, Q extends Query = NamedListQuery, E extends string = Q extends { expand?: (infer X)[] | string } ? X & string : never> extends ListApi<T, Q> {
  async get(id: number, query: { expand?: E[] | string } = {}): Promise<T> {
    return (await this.c.request<{ data: T }>('GET', `${this.path}/${id}`, { query })).data;
  }
}

/** A resource that can also be created (body `B`) and changed (`P`: only the fields it changes). */
export class WritableApi<T, B, Q extends Query = NamedListQuery, P = Partial<B>> extends ReadableApi<T, Q> {
  async create(body: B): Promise<T> {
    return (await this.c.request<{ data: T }>('POST', this.path, { body })).data;
  }
  async update(id: number, patch: P): Promise<T> {
    return (await this.c.request<{ data: T }>('PATCH', `${this.path}/${id}`, { body: patch })).data;
  }
}

/** Products; a new product gets its stock item (`stock_item` in the body sets it). */
export class ProductsApi extends WritableApi<Product, CreateProductBody, ProductListQuery, PatchProductBody> {
  /** Deletes the product with its variations and stock items; a 409 while an open order holds it. */
  async delete(id: number): Promise<Deleted> {
    return (await this.c.request<{ data: Deleted }>('DELETE', `${this.path}/${id}`)).data;
  }
}

export class VariationsApi {
  constructor(private readonly c: StorehookClient) {}

  list(productId: number, query: VariationListQuery = {}): Promise<Page<Variation>> {
    return this.c.request('GET', `/products/${productId}/variations`, { query });
  }
  listAll(productId: number, query: Omit<VariationListQuery, 'page'> = {}): AsyncGenerator<Variation, void, undefined> {
    return this.c.paginate<Variation>(`/products/${productId}/variations`, query);
  }
  async get(productId: number, id: number, query: { expand?: 'stock_item' } = {}): Promise<Variation> {
    return (await this.c.request<{ data: Variation }>('GET', `/products/${productId}/variations/${id}`, { query })).data;
  }
  /** Adds a variation with its own product code and stock item. */
  async create(productId: number, body: CreateVariationBody): Promise<Variation> {
    return (await this.c.request<{ data: Variation }>('POST', `/products/${productId}/variations`, { body })).data;
  }
  async update(productId: number, id: number, patch: PatchVariationBody): Promise<Variation> {
    return (await this.c.request<{ data: Variation }>('PATCH', `/products/${productId}/variations/${id}`, { body: patch })).data;
  }
  async delete(productId: number, id: number): Promise<Deleted> {
    return (await this.c.request<{ data: Deleted }>('DELETE', `/products/${productId}/variations/${id}`)).data;
  }
}

export class StockApi {
  constructor(private readonly c: StorehookClient) {}

  /** The stock item of a product or variation code. */
  async get(productCode: string, query: { expand?: StockItemExpand[] | string } = {}): Promise<StockItem> {
    return (await this.c.request<{ data: StockItem }>('GET', `/stock/${enc(productCode)}`, { query })).data;
  }
  /** `{ quantity }` (units on the shelf) or `{ balance }` (units for sale), and/or the stock settings. */
  async update(productCode: string, patch: PatchStockBody): Promise<StockItem> {
    return (await this.c.request<{ data: StockItem }>('PATCH', `/stock/${enc(productCode)}`, { body: patch })).data;
  }
}

export class StockItemsApi extends ReadableApi<StockItem, StockItemListQuery> {
  async update(id: number, patch: PatchStockBody): Promise<StockItem> {
    return (await this.c.request<{ data: StockItem }>('PATCH', `${this.path}/${id}`, { body: patch })).data;
  }
}


/** `new StorehookClient(options)`. */
export function createClient(options: ClientOptions): StorehookClient {
  return new StorehookClient(options);
}
