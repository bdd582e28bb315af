/**
 * Request validation whose cost is bounded by the body's size, not by how many problems it holds.
 *
 * Ajv with `allErrors: true` keeps checking after the first failure: `{"products":[{}, …]}` with
 * 100,000 items made half a million error objects (seconds of blocked event loop, a 40 MB answer)
 * although `maxItems: 500` had already failed. So every request is first checked by a fail-fast
 * validator (stops at the first problem; `maxItems` and `required` come before the item checks).
 * Only a body that is invalid *and* small enough to list every problem cheaply is validated a
 * second time with `allErrors`, so a client still learns about all its mistakes at once.
 */
import AjvCompiler from '@fastify/ajv-compiler';
import type { FastifyServerOptions } from 'fastify';

/**
 * Values (objects, arrays, scalars) a body may have for its full error list to be computed: a
 * full order (500 products of 6 fields) fits; the worst such body costs ~50 ms to report in full.
 */
export const FULL_REPORT_MAX_VALUES = 4_000;

type BuildValidator = NonNullable<NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>['buildValidator']>;
type RouteCompiler = ReturnType<BuildValidator>;

interface AjvLikeValidator {
  (data: unknown, context?: unknown): boolean | PromiseLike<unknown>;
  errors?: unknown[] | null;
  schemaEnv?: unknown;
}

/** True when `value` holds at most `budget` values; stops counting as soon as it is over. */
export function isSmallerThan(value: unknown, budget: number): boolean {
  let left = budget;
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    if (--left < 0) return false;
    const v = stack.pop();
    if (Array.isArray(v)) {
      if (v.length > left) return false;
      for (const item of v) stack.push(item);
    } else if (v !== null && typeof v === 'object') {
      const children = Object.values(v);
      if (children.length > left) return false;
      for (const item of children) stack.push(item);
    }
  }
  return true;
}

/** Marks validation errors that stopped at the first problem, so the error text can say so. */
export const FIRST_PROBLEM_ONLY = Symbol('storehook.firstProblemOnly');

/**
 * A `schemaController.compilersFactory.buildValidator` for Fastify: Fastify's own Ajv compiler,
 * fail-fast, with the complete (allErrors) report only for small bodies. The `allErrors` in the
 * server's `ajv.customOptions` is ignored: this decides it per request.
 */
export function boundedValidatorFactory(): BuildValidator {
  const pool = AjvCompiler();
  return (externalSchemas, ajvOptions) => {
    const options = ajvOptions ?? {};
    const customOptions = options.customOptions ?? {};
    type PoolOptions = Parameters<typeof pool>[1];
    const failFast = pool(externalSchemas, { ...options, customOptions: { ...customOptions, allErrors: false } } as PoolOptions);
    const complete = pool(externalSchemas, { ...options, customOptions: { ...customOptions, allErrors: true } } as PoolOptions);
    const compile: RouteCompiler = (route) => {
      const quick = failFast(route) as AjvLikeValidator;
      let full: AjvLikeValidator | null = null;
      const validate: AjvLikeValidator = (data, context) => {
        const ok = quick(data, context);
        if (ok === true || typeof ok !== 'boolean') {
          validate.errors = quick.errors ?? null;
          return ok;
        }
        if (isSmallerThan(data, FULL_REPORT_MAX_VALUES)) {
          full ??= complete(route) as AjvLikeValidator;
          full(data, context);
          validate.errors = full.errors?.length ? full.errors : quick.errors ?? null;
        } else {
          validate.errors = (quick.errors ?? []).map((e) => Object.assign(Object.create(null) as object, e, { [FIRST_PROBLEM_ONLY]: true }));
        }
        return false;
      };
      // Fastify hands Ajv validators the parent object so they may set defaults on the root value.
      if (quick.schemaEnv) validate.schemaEnv = quick.schemaEnv;
      return validate as ReturnType<RouteCompiler>;
    };
    return compile;
  };
}
