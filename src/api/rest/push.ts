// The metrics push intake of `sibyl run`: an HTTP server with one route,
// `POST /api/v1/trials/:name/observations`, the same route (schema, validation, errors) as
// `sibyl serve`'s REST API, over the run's StudyService. Trials get its URL as
// SIBYL_PUSH_ENDPOINT and post to `$SIBYL_PUSH_ENDPOINT/api/v1/trials/$SIBYL_TRIAL_NAME/observations`.
//
// It listens before the service exists (the runtime is built with the URL, and the service
// with the runtime): requests wait until `attach` gives it (a trial of an earlier run, re-adopted
// on the same --push-port, may push that early).
import Fastify from 'fastify';
import type { StudyService } from '../../service/study-service.js';
import { notFound } from '../../service/errors.js';
import { FASTIFY_OPTIONS } from './base.js';
import { installErrorHandling } from './errors.js';
import { ErrorBody } from './schemas.js';
import { observationsRoute } from './trials.js';

export interface PushServerOptions {
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  /** Only this study's trials are taken (others are NOT_FOUND). */
  readonly studyName?: string;
  /** The URL trials are given instead of http://<host>:<port> (a Service, a tunnel…). */
  readonly url?: string;
  readonly log?: (err: Error) => void;
}

export interface PushServer {
  /** What trials get as SIBYL_PUSH_ENDPOINT: the server's root URL. */
  readonly url: string;
  readonly port: number;
  /** The service the intake writes to; requests wait for it. */
  attach(service: StudyService): void;
  close(): Promise<void>;
}

export async function startPushServer(o: PushServerOptions): Promise<PushServer> {
  const app = Fastify(FASTIFY_OPTIONS);
  installErrorHandling(app, o.log ?? (() => {}));
  let service: StudyService | undefined;
  let attach!: (s: StudyService) => void;
  const attached = new Promise<void>((resolve) => (attach = (s) => {
    service = s;
    resolve();
  }));
  app.decorate('service', { getter: () => service! });
  app.addHook('onRequest', async () => {
    await attached;
  });
  app.addSchema(ErrorBody);
  await app.register(async (api) => {
    if (o.studyName !== undefined) {
      const studyName = o.studyName;
      api.addHook('preHandler', async (req) => {
        const name = (req.params as { name?: string }).name;
        if ((await api.service.getTrial(name)).study !== studyName) throw notFound(`trial "${name}" in study "${studyName}"`, 'name');
      });
    }
    observationsRoute(api);
  }, { prefix: '/api/v1' });
  await app.listen({ host: o.host, port: o.port });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : o.port;
  const url = o.url?.replace(/\/+$/, '') ?? `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${port}`;
  return { url, port, attach, close: () => app.close() };
}
