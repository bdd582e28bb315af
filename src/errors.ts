/**
 * Errors the domain raises on purpose. The API turns each into the JSON error body with its status;
 * anything else is a bug and becomes a 500 with no details.
 */
export interface FieldError {
  field: string;
  message: string;
}

export class DomainError extends Error {
  constructor(
    readonly status: 400 | 403 | 404 | 409 | 413 | 422 | 429 | 503,
    message: string,
    readonly errors?: FieldError[],
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

export const notFound = (what: string, id: string | number) => new DomainError(404, `${what} ${id} was not found in this store.`);
export const conflict = (message: string) => new DomainError(409, message);
export const invalid = (field: string, message: string) => new DomainError(400, `${field}: ${message}`, [{ field, message }]);
