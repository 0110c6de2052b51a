// The HTTP server: REST under /api/v1, health probes, SSE events, the OpenAPI document and
// its docs page, the dashboard. Each group of routes is a plugin; the service is decorated once.
// Browser safety lives here, in front of every route: the Host allow-list (DNS rebinding),
// same-origin JSON-only state changes (cross-site requests), the token or the dashboard's
// session cookie, and security headers on everything served.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { StudyService } from '../../service/study-service.js';
import { StudySchema, TrialSchema } from '../../service/shapes.js';
import { FASTIFY_OPTIONS } from './base.js';
import { SESSION_COOKIE, type Auth } from '../auth.js';
import { sameOrigin, type HostAllowList } from '../hosts.js';
import { installErrorHandling, sendError } from './errors.js';
import { studyRoutes } from './studies.js';
import { trialRoutes } from './trials.js';
import { ErrorBody } from './schemas.js';
import { dashboard, isDashboardPath } from '../../ui/plugin.js';
import { excerpt } from '../../model/limits.js';

declare module 'fastify' {
  interface FastifyInstance {
    service: StudyService;
  }
}

export interface RestOptions {
  readonly service: StudyService;
  readonly auth: Auth;
  readonly allowedHosts: HostAllowList;
  readonly isReady: () => boolean;
  /** Whether this replica schedules now (shown by /healthz; always true without leader election). */
  readonly isLeader?: () => boolean;
  /** PEM certificate and key: HTTPS instead of HTTP. */
  readonly tls?: { readonly cert: Buffer; readonly key: Buffer };
  readonly log?: (err: Error) => void;
}

/** Probes answer whatever Host they use (a kubelet uses the pod's address). */
const PROBES = ['/healthz', '/readyz'];
/** Public without a token: the probes, the API's description, the dashboard's page and assets, and logging in. */
const PUBLIC = [...PROBES, '/openapi.json'];
const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** API responses are data: nothing in them runs or frames, whatever a browser makes of them. */
const API_CSP = "default-src 'none'; frame-ancestors 'none'";

const pathOf = (req: FastifyRequest) => req.url.split('?')[0]!;
const isDocs = (path: string) => path === '/docs' || path.startsWith('/docs/');

export async function buildRestServer(options: RestOptions): Promise<FastifyInstance> {
  const app = Fastify({ ...FASTIFY_OPTIONS, ...(options.tls ? { https: { cert: options.tls.cert, key: options.tls.key } } : {}) });
  app.decorate('service', options.service);
  installErrorHandling(app, options.log ?? (() => {}));
  // JSON only: a cross-site form or text/plain body can never reach a route.
  app.removeContentTypeParser(['text/plain']);

  app.addHook('onRequest', async (req, reply) => guard(req, reply, options));
  app.addHook('onSend', async (req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    const path = pathOf(req);
    if (!isDashboardPath(path) && !isDocs(path)) reply.header('content-security-policy', API_CSP);
  });

  await app.register(swagger, {
    openapi: {
      info: { title: 'Sibyl', version: '1', description: 'Hyperparameter tuning: studies, trials, ask/tell.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
  app.addSchema(ErrorBody);
  app.addSchema(StudySchema);
  app.addSchema(TrialSchema);

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok', leader: options.isLeader?.() ?? true }));
  app.get('/readyz', { schema: { hide: true } }, async (_req, reply) =>
    options.isReady() ? { status: 'ready' } : sendError(reply.code(503), 'UNAVAILABLE', 'starting'));
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  await app.register(sessionRoutes(options.auth, Boolean(options.tls)), { prefix: '/api/v1' });
  await app.register(studyRoutes, { prefix: '/api/v1' });
  await app.register(trialRoutes, { prefix: '/api/v1' });
  await app.register(dashboard);
  return app;
}

function guard(req: FastifyRequest, reply: FastifyReply, o: RestOptions): FastifyReply | undefined {
  const path = pathOf(req);
  const host = req.headers.host;
  if (!PROBES.includes(path) && !o.allowedHosts.allows(host)) {
    return sendError(reply, 'PERMISSION_DENIED', `${JSON.stringify(excerpt(host ?? ''))} is not a host name this server answers to (allowed: ${o.allowedHosts.patterns.join(', ')}; see --allowed-hosts)`, 'host');
  }
  if (STATE_CHANGING.has(req.method)) {
    const origin = req.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, host)) {
      return sendError(reply, 'PERMISSION_DENIED', `state changes are refused from another site (${JSON.stringify(excerpt(origin))})`, 'origin');
    }
    if (req.headers['sec-fetch-site'] === 'cross-site') {
      return sendError(reply, 'PERMISSION_DENIED', 'state changes are refused from another site', 'origin');
    }
    const type = req.headers['content-type'];
    if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) {
      return sendError(reply, 'INVALID_ARGUMENT', 'send application/json', 'content-type', 415);
    }
  }
  if (PUBLIC.includes(path) || isDocs(path) || isDashboardPath(path) || path === SESSION_PATH) return undefined;
  if (o.auth.bearer(req.headers.authorization) || o.auth.cookie(req.headers.cookie)) return undefined;
  // A trial pushing its own metrics with the credential it was launched with.
  const push = req.method === 'POST' ? PUSH_PATH.exec(path) : null;
  if (push && o.auth.trialBearer(decoded(push[1]!), req.headers.authorization)) return undefined;
  return sendError(reply.header('www-authenticate', 'Bearer'), 'UNAUTHENTICATED', 'a valid "Authorization: Bearer <token>" header is required', 'authorization');
}

const decoded = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // not a trial name anyone was given a credential for
  }
};

const SESSION_PATH = '/api/v1/session';
const PUSH_PATH = /^\/api\/v1\/trials\/([^/]+)\/observations$/;

/**
 * The dashboard's login: it posts the token once and gets an HttpOnly, SameSite=Strict cookie
 * (an HMAC of the token), so the token is kept where no page's scripts can read it.
 */
function sessionRoutes(auth: Auth, secure: boolean) {
  const attributes = `Path=/; HttpOnly; SameSite=Strict${secure ? '; Secure' : ''}`;
  return async (app: FastifyInstance) => {
    app.get('/session', { schema: { hide: true } }, async (req) => ({
      required: auth.required,
      signedIn: !auth.required || auth.cookie(req.headers.cookie) || auth.bearer(req.headers.authorization),
    }));
    app.post('/session', {
      schema: { hide: true, body: { type: 'object', properties: { token: { type: 'string', minLength: 1, maxLength: 4096 } }, required: ['token'], additionalProperties: false } },
    }, async (req, reply) => {
      const session = auth.sessionFor((req.body as { token: string }).token);
      if (!auth.required) return reply.code(204).send();
      if (!session) return sendError(reply, 'UNAUTHENTICATED', 'that is not the server\'s token', 'token');
      return reply.code(204).header('set-cookie', `${SESSION_COOKIE}=${session}; ${attributes}`).send();
    });
    app.delete('/session', { schema: { hide: true } }, async (_req, reply) =>
      reply.code(204).header('set-cookie', `${SESSION_COOKIE}=; ${attributes}; Max-Age=0`).send());
  };
}
