// Errors every adapter shapes the same way: REST status + {"error": {code, message, field}},
// gRPC status code + message.
import { SpecError } from '../spec/errors.js';

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNAVAILABLE'
  | 'INTERNAL';

export class ServiceError extends Error {
  override name = 'ServiceError';
  constructor(
    readonly code: ErrorCode,
    /** Why, without the field. */
    readonly reason: string,
    readonly field?: string,
  ) {
    super(field ? `${field}: ${reason}` : reason);
  }
}

export const invalid = (field: string, reason: string) => new ServiceError('INVALID_ARGUMENT', reason, field);
export const notFound = (what: string, field?: string) => new ServiceError('NOT_FOUND', `${what} not found`, field);
export const precondition = (message: string, field?: string) => new ServiceError('FAILED_PRECONDITION', message, field);

/** Any error as a ServiceError: spec errors are invalid arguments, anything unexpected internal. */
export function asServiceError(err: unknown, fieldPrefix = ''): ServiceError {
  if (err instanceof ServiceError) return err;
  if (err instanceof SpecError) {
    const field = fieldPrefix && err.field ? `${fieldPrefix}.${err.field}` : fieldPrefix || err.field;
    return new ServiceError('INVALID_ARGUMENT', err.reason, field || undefined);
  }
  return new ServiceError('INTERNAL', 'internal error');
}

export const HTTP_STATUS: Record<ErrorCode, number> = {
  INVALID_ARGUMENT: 400,
  UNAUTHENTICATED: 401,
  NOT_FOUND: 404,
  ALREADY_EXISTS: 409,
  FAILED_PRECONDITION: 409,
  PERMISSION_DENIED: 403,
  RESOURCE_EXHAUSTED: 413,
  UNAVAILABLE: 503,
  INTERNAL: 500,
};
