// What the client throws when the server (or the network) refuses a call: one class per kind of
// refusal, each carrying the HTTP status, the server's code, the request field at fault and the
// reason, as the server shapes them: {"error": {code, message, field}}.
import type { Static } from '@sinclair/typebox';
import type { ErrorBody } from '../api/rest/schemas.js';

export type ErrorBodyShape = Static<typeof ErrorBody>;

export interface SibylErrorDetails {
  /** The HTTP status; undefined when no answer came. */
  readonly status?: number | undefined;
  /** The server's code (INVALID_ARGUMENT, NOT_FOUND, ...). */
  readonly code?: string | undefined;
  /** The request field at fault (`spec.objective.type`, `name`, `authorization`). */
  readonly field?: string | undefined;
  /** How many times the request was sent (more than one after retries). */
  readonly attempts?: number;
}

export class SibylError extends Error {
  override name = 'SibylError';
  readonly status: number | undefined;
  readonly code: string | undefined;
  readonly field: string | undefined;
  readonly attempts: number;

  constructor(
    /** Why, without the field. */
    readonly reason: string,
    details: SibylErrorDetails = {},
  ) {
    super(details.field ? `${details.field}: ${reason}` : reason);
    this.status = details.status;
    this.code = details.code;
    this.field = details.field;
    this.attempts = details.attempts ?? 1;
  }
}

/** 400 (and 415): the request or the study spec is wrong; `field` says where. */
export class InvalidArgumentError extends SibylError {
  override name = 'InvalidArgumentError';
}
/** 401: no token, or not the server's. */
export class UnauthenticatedError extends SibylError {
  override name = 'UnauthenticatedError';
}
/** 403: a Host name the server does not answer to, or a cross-site state change. */
export class PermissionDeniedError extends SibylError {
  override name = 'PermissionDeniedError';
}
/** 404: no such study, trial or route. */
export class NotFoundError extends SibylError {
  override name = 'NotFoundError';
}
/** 409: the call conflicts with the current state. */
export class ConflictError extends SibylError {
  override name = 'ConflictError';
}
/** 409 ALREADY_EXISTS: a different study has that name. */
export class AlreadyExistsError extends ConflictError {
  override name = 'AlreadyExistsError';
}
/** 409 FAILED_PRECONDITION: the study or trial has already ended, and the like. */
export class FailedPreconditionError extends ConflictError {
  override name = 'FailedPreconditionError';
}
/** 413 / 431: a body or headers too large. */
export class ResourceExhaustedError extends SibylError {
  override name = 'ResourceExhaustedError';
}
/** 503, or no answer at all (`status` undefined), after the retries. */
export class UnavailableError extends SibylError {
  override name = 'UnavailableError';
}
/** 500, an answer that is not the API's, or any status the server should not give. */
export class ServerError extends SibylError {
  override name = 'ServerError';
}

type ErrorClass = new (reason: string, details?: SibylErrorDetails) => SibylError;

const BY_STATUS: Record<number, ErrorClass> = {
  400: InvalidArgumentError,
  401: UnauthenticatedError,
  403: PermissionDeniedError,
  404: NotFoundError,
  409: ConflictError,
  413: ResourceExhaustedError,
  415: InvalidArgumentError,
  431: ResourceExhaustedError,
  503: UnavailableError,
};
const BY_CODE: Record<string, ErrorClass> = {
  ALREADY_EXISTS: AlreadyExistsError,
  FAILED_PRECONDITION: FailedPreconditionError,
};

/** The error for a non-2xx answer, from its shaped body when it has one (else its text, cut short). */
export function errorFromResponse(status: number, body: unknown, attempts = 1): SibylError {
  const shaped = typeof body === 'object' && body !== null ? (body as Partial<ErrorBodyShape>).error : undefined;
  const text = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  const code = text(shaped?.code);
  const reason = text(shaped?.message) ?? (typeof body === 'string' && body.trim() !== '' ? `HTTP ${status}: ${body.trim().slice(0, 200)}` : `HTTP ${status}`);
  const field = text(shaped?.field);
  const Class = (code ? BY_CODE[code] : undefined) ?? BY_STATUS[status] ?? ServerError;
  return new Class(reason, { status, code, field, attempts });
}
