// One error handler shapes every REST error as {"error": {code, message, field}}.
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { excerpt } from '../../model/limits.js';
import { asServiceError, HTTP_STATUS, ServiceError, type ErrorCode } from '../../service/errors.js';

export function sendError(reply: FastifyReply, code: ErrorCode, message: string, field?: string, status: number = HTTP_STATUS[code]): FastifyReply {
  return reply.code(status).send({ error: { code, message, field: field ?? null } });
}

/** `/observations/0/value` → `observations[0].value` */
function fieldOf(instancePath: string, missing?: string): string {
  const parts = instancePath.split('/').filter(Boolean);
  if (missing) parts.push(missing);
  return parts.reduce((acc, p) => (/^\d+$/.test(p) ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');
}

export function installErrorHandling(app: FastifyInstance, log: (err: Error) => void): void {
  app.setErrorHandler((err: FastifyError, _req, reply) => {
    if (err.validation && err.validation.length > 0) {
      const v = err.validation[0]!;
      const params = v.params as { missingProperty?: string; additionalProperty?: string };
      const field = fieldOf(v.instancePath, params.missingProperty ?? params.additionalProperty) || (err.validationContext ?? 'body');
      const message = params.additionalProperty ? 'unknown field' : params.missingProperty ? 'is required' : (v.message ?? 'is invalid');
      return sendError(reply, 'INVALID_ARGUMENT', message, field);
    }
    if (err instanceof ServiceError) return sendError(reply, err.code, err.reason, err.field);
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return sendError(reply, 'RESOURCE_EXHAUSTED', err.message, 'body');
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return sendError(reply, 'INVALID_ARGUMENT', 'send application/json', 'content-type', 415);
    if (err.statusCode !== undefined && err.statusCode >= 400 && err.statusCode < 500) {
      // Malformed JSON, empty bodies and the like.
      return sendError(reply, 'INVALID_ARGUMENT', excerpt(err.message, 200), 'body');
    }
    log(err);
    const shaped = asServiceError(err);
    return sendError(reply, shaped.code, shaped.message, shaped.field);
  });
  app.setNotFoundHandler((req, reply) => sendError(reply, 'NOT_FOUND', `no route ${req.method} ${excerpt(req.url.split('?')[0] ?? '')}`));
}
