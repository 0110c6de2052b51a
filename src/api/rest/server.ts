// The HTTP server: REST under /api/v1, health probes, SSE events, the OpenAPI document and
// its docs page. Each group of routes is a plugin; the service is decorated once.
import Fastify, { type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { StudyService } from '../../service/study-service.js';
import { FASTIFY_OPTIONS } from './base.js';
import type { TokenCheck } from '../auth.js';
import { installErrorHandling, sendError } from './errors.js';
import { studyRoutes } from './studies.js';
import { trialRoutes } from './trials.js';
import { ErrorBody, Study, Trial } from './schemas.js';
import { dashboard, isDashboardPath } from '../../ui/plugin.js';

declare module 'fastify' {
  interface FastifyInstance {
    service: StudyService;
  }
}

export interface RestOptions {
  readonly service: StudyService;
  readonly authorized: TokenCheck;
  readonly isReady: () => boolean;
  readonly log?: (err: Error) => void;
}

const OPEN_PATHS = ['/healthz', '/readyz', '/openapi.json'];

export async function buildRestServer(options: RestOptions): Promise<FastifyInstance> {
  const app = Fastify(FASTIFY_OPTIONS);
  app.decorate('service', options.service);
  installErrorHandling(app, options.log ?? (() => {}));

  app.addHook('onRequest', async (req, reply) => {
    const path = req.url.split('?')[0]!;
    if (OPEN_PATHS.includes(path) || path === '/docs' || path.startsWith('/docs/') || isDashboardPath(path)) return;
    if (!options.authorized(req.headers.authorization)) {
      return sendError(reply.header('www-authenticate', 'Bearer'), 'UNAUTHENTICATED', 'a valid "Authorization: Bearer <token>" header is required', 'authorization');
    }
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Sibyl', version: '1', description: 'Hyperparameter tuning: studies, trials, ask/tell.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  app.addSchema(ErrorBody);
  app.addSchema(Study);
  app.addSchema(Trial);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) =>
    options.isReady() ? { status: 'ready' } : sendError(reply.code(503), 'FAILED_PRECONDITION', 'starting'));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(studyRoutes, { prefix: '/api/v1' });
  await app.register(trialRoutes, { prefix: '/api/v1' });
  await app.register(dashboard);
  return app;
}
