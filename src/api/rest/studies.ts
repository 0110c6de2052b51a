// REST routes for studies, including their event stream (Server-Sent Events).
import type { FastifyPluginAsync } from 'fastify';
import type { BudgetRequest, CreateStudyRequest, StudyEvent } from '../../service/study-service.js';
import { BudgetBody, CreateStudyBody, EnqueueBody, EnqueuedList, ImportanceResponse, NameParams, PageQuery, TrialsQuery, SuggestBody, ERROR_RESPONSES, ref } from './schemas.js';

const errors = ERROR_RESPONSES;

type Name = { name: string };

export const studyRoutes: FastifyPluginAsync = async (app) => {
  const service = app.service;

  app.post('/studies', {
    schema: { summary: 'Create a study (idempotent by name)', tags: ['studies'], body: CreateStudyBody, response: { 200: ref('Study'), 201: ref('Study'), ...errors } },
  }, async (req, reply) => {
    const { study, created } = await service.createStudy(req.body as CreateStudyRequest);
    return reply.code(created ? 201 : 200).send(study);
  });

  app.get('/studies', {
    schema: { summary: 'List studies', tags: ['studies'], querystring: PageQuery, response: { 200: { type: 'object', properties: { studies: { type: 'array', items: ref('Study') }, nextPageToken: { type: 'string' } } }, ...errors } },
  }, async (req) => service.listStudies(req.query as { pageSize?: string; pageToken?: string }));

  app.get('/studies/:name', {
    schema: { summary: 'Get a study', tags: ['studies'], params: NameParams, response: { 200: ref('Study'), ...errors } },
  }, async (req) => service.getStudy((req.params as Name).name));

  app.delete('/studies/:name', {
    schema: { summary: 'Delete a study (its active trials are stopped first)', tags: ['studies'], params: NameParams, response: { 204: { type: 'null' }, ...errors } },
  }, async (req, reply) => {
    await service.deleteStudy((req.params as Name).name);
    return reply.code(204).send();
  });

  app.post('/studies/:name/stop', {
    schema: { summary: 'Stop a study', tags: ['studies'], params: NameParams, response: { 200: ref('Study'), ...errors } },
  }, async (req) => service.stopStudy((req.params as Name).name));

  app.patch('/studies/:name/budget', {
    schema: { summary: 'Change parallelTrialCount, maxTrialCount, maxFailedTrialCount', tags: ['studies'], params: NameParams, body: BudgetBody, response: { 200: ref('Study'), ...errors } },
  }, async (req) => service.updateBudget((req.params as Name).name, req.body as BudgetRequest));

  app.get('/studies/:name/pareto', {
    schema: {
      summary: "A study's Pareto front: its completed trials no other dominates (a single-objective study: its best trial)", tags: ['studies'], params: NameParams,
      response: {
        200: {
          type: 'object', required: ['study', 'objectives', 'trials'],
          properties: {
            study: { type: 'string' },
            objectives: { type: 'array', items: { type: 'object', properties: { type: { type: 'string', enum: ['minimize', 'maximize'] }, metric: { type: 'string' } } } },
            trials: { type: 'array', items: ref('Trial') },
          },
        },
        ...errors,
      },
    },
  }, async (req) => service.paretoFront((req.params as Name).name));

  app.get('/studies/:name/trials', {
    schema: { summary: "List a study's trials", tags: ['trials'], params: NameParams, querystring: TrialsQuery, response: { 200: { type: 'object', properties: { trials: { type: 'array', items: ref('Trial') }, nextPageToken: { type: 'string' } } }, ...errors } },
  }, async (req) => {
    const q = req.query as { pageSize?: string; pageToken?: string; state?: string; afterId?: string };
    return service.listTrials((req.params as Name).name, q);
  });

  app.post('/studies/:name/suggest', {
    schema: { summary: 'Ask/tell: get trials to run (your active ones first)', tags: ['ask/tell'], params: NameParams, body: SuggestBody, response: { 200: { type: 'object', properties: { trials: { type: 'array', items: ref('Trial') } } }, ...errors } },
  }, async (req) => {
    const body = req.body as { count?: number; clientId: string };
    return { trials: await service.suggestTrials((req.params as Name).name, body.count, body.clientId) };
  });

  app.post('/studies/:name/enqueue', {
    schema: { summary: 'Enqueue assignments to run before any algorithm suggestion, in order (returns the queue)', tags: ['warm starts'], params: NameParams, body: EnqueueBody, response: { 200: EnqueuedList, ...errors } },
  }, async (req) => service.enqueueTrials((req.params as Name).name, (req.body as { assignments: unknown[] }).assignments));

  app.get('/studies/:name/enqueued', {
    schema: { summary: 'The assignments waiting to run, in order', tags: ['warm starts'], params: NameParams, response: { 200: EnqueuedList, ...errors } },
  }, async (req) => service.enqueuedTrials((req.params as Name).name));

  app.get('/studies/:name/importance', {
    schema: { summary: "fANOVA importance of the study's parameters (a random forest on its completed trials)", tags: ['studies'], params: NameParams, response: { 200: ImportanceResponse, ...errors } },
  }, async (req) => service.parameterImportance((req.params as Name).name));

  app.get('/studies/:name/events', {
    schema: { summary: "A study's events as Server-Sent Events (study and trial changes)", tags: ['studies'], params: NameParams },
  }, async (req, reply) => {
    const name = (req.params as Name).name;
    let res: typeof reply.raw | undefined;
    let id = 0;
    const send = (e: StudyEvent) => res!.write(`id: ${++id}\nevent: ${e.type}\ndata: ${JSON.stringify(e.type === 'study' ? e.study : e.trial)}\n\n`);
    // 404 before the stream starts; events come after `first`; a deleted study's stream ends.
    const { first, unsubscribe } = await service.watch(name, send, () => res?.end());
    reply.hijack();
    res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no',
      'x-content-type-options': 'nosniff', 'content-security-policy': "default-src 'none'",
    });
    send({ type: 'study', study: first });
    const heartbeat = setInterval(() => res!.write(': keep-alive\n\n'), 15_000);
    req.raw.on('close', () => {
      clearInterval(heartbeat);
      unsubscribe();
    });
  });
};
