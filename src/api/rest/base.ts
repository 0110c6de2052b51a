// What every HTTP server of Sibyl's shares: fastify's options and the error handling.
import type { FastifyServerOptions } from 'fastify';
import { LIMITS } from '../../model/limits.js';

export const FASTIFY_OPTIONS = {
  bodyLimit: LIMITS.maxBodyBytes,
  // Event streams never end by themselves: closing the server ends them.
  forceCloseConnections: true,
  ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
} as const satisfies FastifyServerOptions;
