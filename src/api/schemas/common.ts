/** Schemas shared by every resource: the error body, list meta, envelopes. */
import { Type, type Static, type TSchema } from 'typebox';

export const ErrorBody = Type.Object(
  {
    code: Type.Integer({ description: 'the HTTP status, repeated' }),
    error: Type.String({ description: 'short reason, e.g. "Bad Request"' }),
    message: Type.String({ description: 'what was wrong and how to fix it' }),
    errors: Type.Optional(
      Type.Array(Type.Object({ field: Type.String(), message: Type.String() }, { title: 'FieldError' }), {
        description: 'one entry per invalid field',
      }),
    ),
  },
  { title: 'Error' },
);
export type ErrorBody = Static<typeof ErrorBody>;

export const ListMeta = Type.Object({
  page: Type.Integer(),
  page_size: Type.Integer(),
  page_count: Type.Integer(),
  item_count: Type.Integer(),
  next: Type.Optional(Type.String({ description: 'URL of the next page; absent on the last page' })),
}, { title: 'ListMeta' });
export type ListMeta = Static<typeof ListMeta>;

export const One = <T extends TSchema>(item: T) => Type.Object({ data: item });
export const Many = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item), meta: ListMeta });

/**
 * A positive integer id in a path: an integer in the document, so generated clients take a number.
 * The text is turned into a number strictly (`coerceToSchema` in query.ts: digits only, no `1.5`,
 * `1e3`, `0x10`) before validation; up to 16 digits pass (a too-large id is a 404, not a 400).
 */
export const IdParam = Type.Integer({ minimum: 1, maximum: 1e16, description: 'a positive integer id' });

export const PageQuery = {
  page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'page number, from 1' })),
  page_size: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'items per page (default 50, max 1000)' })),
};

/** Answers every route may give besides its success. */
export const errorResponses = {
  400: ErrorBody,
  401: ErrorBody,
  403: ErrorBody,
  404: ErrorBody,
  409: ErrorBody,
  429: ErrorBody,
};
