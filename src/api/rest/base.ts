// What every HTTP server of Sibyl's shares: fastify's options, and a shaped answer even to a
// request that never reaches a route (a header section too large, a malformed request line).
import type { Socket } from 'node:net';
import type { FastifyServerOptions } from 'fastify';
import { LIMITS } from '../../model/limits.js';

/** Node's own parser refuses these before fastify sees them: the reply is written on the socket. */
function clientErrorHandler(err: NodeJS.ErrnoException, socket: Socket): void {
  if (!socket.writable || (err.code === 'ECONNRESET')) return void socket.destroy();
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const [status, text] = tooLarge ? [431, 'Request Header Fields Too Large'] : [400, 'Bad Request'];
  const body = JSON.stringify({ error: { code: tooLarge ? 'RESOURCE_EXHAUSTED' : 'INVALID_ARGUMENT', message: tooLarge ? 'the request line and headers must be at most 16 KiB' : 'not a valid HTTP request', field: tooLarge ? 'headers' : null } });
  socket.end(`HTTP/1.1 ${status} ${text}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

export const FASTIFY_OPTIONS = {
  bodyLimit: LIMITS.maxBodyBytes,
  // Names longer than the limit reach the route and get a shaped refusal there (the router's
  // own limit, 100 by default, would answer an unshaped 414).
  routerOptions: { maxParamLength: 8 * 1024 },
  // Event streams never end by themselves: closing the server ends them.
  forceCloseConnections: true,
  clientErrorHandler,
  ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
} as const satisfies FastifyServerOptions;
