/** Parsing of the shared query conventions: `expand`, `<field>-from/-to`, `sort`, `id` lists. */
import { invalid } from '../errors.js';
import { parseFilterTime, type TimeBound } from '../time.js';

/** `expand=a,b` → the listed values, each checked against the allowed ones. */
export function parseExpand<T extends string>(raw: string | undefined, allowed: readonly T[]): T[] {
  if (raw === undefined || raw.trim() === '') return [];
  const values = [...new Set(raw.split(',').map((v) => v.trim()).filter(Boolean))];
  const unknown = values.filter((v) => !(allowed as readonly string[]).includes(v));
  if (unknown.length) throw invalid('expand', `unknown value ${unknown.map((v) => JSON.stringify(v)).join(', ')}; allowed: ${allowed.join(', ')}`);
  return values as T[];
}

/**
 * A `-from`/`-to` filter (or another time bound) in any form `parseFilterTime` reads; times without
 * an offset and dates are in the store's time zone. `bound` decides what a bare date means.
 */
export function parseTimeParam(name: string, raw: string | undefined, timezone: string, bound: TimeBound): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  const value = parseFilterTime(raw, timezone, bound);
  if (value === null) {
    throw invalid(
      name,
      `"${raw}" is not a date or date-time this API reads. Accepted forms: 2021-03-05T10:00:00+02:00 or 2021-03-05T08:00:00Z (with an offset; URL-encode the +), ` +
        `2021-03-05T10:00:00 (no offset: the store's time zone, ${timezone}), 2021-03-05 (a date in the store's time zone: -from means the start of that day, -to its end)`,
    );
  }
  return value;
}

export function parseSort<F extends string>(raw: string | undefined, fields: readonly F[], fallback: F): { field: F; direction: 'asc' | 'desc' } {
  if (raw === undefined || raw === '') return { field: fallback, direction: 'asc' };
  const m = /^([a-z_]+)-(asc|desc)$/.exec(raw);
  if (!m || !(fields as readonly string[]).includes(m[1]!)) {
    throw invalid('sort', `"${raw}" is not allowed; use one of ${fields.flatMap((f) => [`${f}-asc`, `${f}-desc`]).join(', ')}`);
  }
  return { field: m[1] as F, direction: m[2] as 'asc' | 'desc' };
}

export function parseIdList(name: string, raw: string | undefined, max = 1000): number[] | undefined {
  if (raw === undefined || raw === '') return undefined;
  const parts = raw.split(',').map((p) => p.trim());
  if (parts.length > max) throw invalid(name, `lists ${parts.length} ids; at most ${max} per request`);
  const ids = parts.map((p) => (/^[1-9]\d{0,15}$/.test(p) ? Number(p) : NaN));
  const bad = parts.filter((_, i) => Number.isNaN(ids[i]));
  if (bad.length) throw invalid(name, `must be positive integers separated by commas (bad: ${bad.slice(0, 5).map((b) => JSON.stringify(b)).join(', ')})`);
  return [...new Set(ids)];
}

type SchemaLike = { type?: string | string[]; anyOf?: SchemaLike[]; oneOf?: SchemaLike[]; properties?: Record<string, SchemaLike> };

function typesOf(schema: SchemaLike | undefined): string[] {
  if (!schema) return [];
  const own = schema.type === undefined ? [] : Array.isArray(schema.type) ? schema.type : [schema.type];
  return [...own, ...[...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].flatMap(typesOf)];
}

function coerceText(schema: SchemaLike | undefined, raw: unknown): unknown {
  if (typeof raw !== 'string') return raw;
  const types = typesOf(schema);
  if (types.length === 0 || types.includes('string')) return raw;
  if (types.includes('integer') && /^-?\d{1,16}$/.test(raw)) return Number(raw);
  if (types.includes('number') && /^-?\d{1,16}(\.\d{1,16})?$/.test(raw)) return Number(raw);
  if (types.includes('boolean') && (raw === 'true' || raw === 'false')) return raw === 'true';
  return raw;
}

/**
 * Query-string and path values arrive as text; turns each top-level one into the type its schema
 * property asks for, strictly ("2" → 2, "true" → true; "1.5", "0x10", "" stay text so validation
 * refuses them). Ajv itself does not coerce, so JSON bodies must carry the right types.
 */
export function coerceToSchema(schema: unknown, value: unknown): unknown {
  const properties = (schema as SchemaLike | undefined)?.properties;
  if (!properties || !value || typeof value !== 'object' || Array.isArray(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(value)) out[key] = coerceText(properties[key], raw);
  return out;
}
