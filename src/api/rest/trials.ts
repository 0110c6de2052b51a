// REST routes for single trials: read, stop, and the ask/tell and push-metrics calls.
import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import type { CompleteTrialRequest } from '../../service/study-service.js';
import { CompleteBody, LogQuery, NameParams, ObservationList, ObservationsBody, ObservationsQuery, ERROR_RESPONSES, ref } from './schemas.js';

const errors = ERROR_RESPONSES;

type Name = { name: string };

export const trialRoutes: FastifyPluginAsync = async (app) => {
  const service = app.service;

  app.get('/trials/:name', {
    schema: { summary: 'Get a trial', tags: ['trials'], params: NameParams, response: { 200: ref('Trial'), ...errors } },
  }, async (req) => service.getTrial((req.params as Name).name));

  app.get('/trials/:name/observations', {
    schema: { summary: "A trial's intermediate observations (metric, step, value, time), in recorded order, a page at a time", tags: ['trials'], params: NameParams, querystring: ObservationsQuery, response: { 200: ObservationList, ...errors } },
  }, async (req) => service.trialObservations((req.params as Name).name, req.query as { pageSize?: string; pageToken?: string }));

  app.get('/trials/:name/log', {
    schema: { summary: "The last lines of a trial's log (local runtime; empty when it has none)", tags: ['trials'], params: NameParams, querystring: LogQuery, response: { 200: { type: 'object', properties: { lines: { type: 'array', items: { type: 'string' } }, size: { type: 'integer', description: 'the log file size in bytes' } } }, ...errors } },
  }, async (req) => service.trialLog((req.params as Name).name, (req.query as { tail?: string }).tail));

  app.post('/trials/:name/heartbeat', {
    schema: { summary: 'Ask/tell: the client of this trial is alive (studies with heartbeatSeconds)', tags: ['ask/tell'], params: NameParams, response: { 200: ref('Trial'), ...errors } },
  }, async (req) => service.heartbeat((req.params as Name).name));

  app.post('/trials/:name/stop', {
    schema: { summary: 'Stop a trial', tags: ['trials'], params: NameParams, response: { 200: ref('Trial'), ...errors } },
  }, async (req) => service.stopTrial((req.params as Name).name));

  observationsRoute(app);

  app.post('/trials/:name/complete', {
    schema: { summary: 'Ask/tell: complete a trial with its final metrics, or as infeasible', tags: ['ask/tell'], params: NameParams, body: CompleteBody, response: { 200: ref('Trial'), ...errors } },
  }, async (req) => service.completeTrial((req.params as Name).name, req.body as CompleteTrialRequest));

  app.get('/trials/:name/should-stop', {
    schema: { summary: 'Whether the client should stop this trial', tags: ['ask/tell'], params: NameParams, response: { 200: { type: 'object', properties: { shouldStop: { type: 'boolean' } } }, ...errors } },
  }, async (req) => service.shouldStopTrial((req.params as Name).name));
};

/**
 * The metrics push intake, also served alone by `sibyl run` (api/rest/push.ts). It reads the
 * service when called, so a server may start listening before its service exists.
 */
export function observationsRoute(app: FastifyInstance): void {
  app.post('/trials/:name/observations', {
    schema: { summary: 'Report intermediate metrics (a batch, all or nothing)', tags: ['ask/tell'], params: NameParams, body: ObservationsBody, response: { 200: { type: 'object', properties: { accepted: { type: 'integer' } } }, ...errors } },
  }, async (req) => app.service.reportObservations((req.params as Name).name, (req.body as { observations: unknown[] }).observations));
}
