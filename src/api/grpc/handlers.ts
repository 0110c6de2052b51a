// Turning service calls into gRPC handlers: auth, status codes, and never a crash.
import * as grpc from '@grpc/grpc-js';
import { asServiceError, ServiceError, type ErrorCode } from '../../service/errors.js';
import type { TokenCheck } from '../auth.js';

const GRPC_STATUS: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  INTERNAL: grpc.status.INTERNAL,
};

export function toGrpcError(err: unknown, log?: (e: Error) => void): Partial<grpc.StatusObject> {
  const shaped = asServiceError(err);
  if (shaped.code === 'INTERNAL') log?.(err as Error);
  return { code: GRPC_STATUS[shaped.code], details: shaped.message };
}

export function authorize(check: TokenCheck, metadata: grpc.Metadata): void {
  const value = metadata.get('authorization')[0];
  if (!check(typeof value === 'string' ? value : undefined)) {
    throw new ServiceError('UNAUTHENTICATED', 'a valid "authorization: Bearer <token>" metadata entry is required', 'authorization');
  }
}

export interface HandlerContext {
  readonly check: TokenCheck;
  readonly log?: (e: Error) => void;
}

/** A unary handler over a (possibly async) function of the request. */
export function unary<Req, Res>(ctx: HandlerContext | undefined, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => {
        if (ctx) authorize(ctx.check, call.metadata);
        return fn(call.request, call);
      })
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(toGrpcError(err, ctx?.log)),
      );
  };
}
