// sibyl.v1: Studies and Trials over the service layer.
import type * as grpc from '@grpc/grpc-js';
import type { StudyService } from '../../service/study-service.js';
import { invalid } from '../../service/errors.js';
import { assignmentFromValues, parameterValues, structToJson, studyMessage, trialMessage } from './convert.js';
import { authorize, toGrpcError, unary, type HandlerContext } from './handlers.js';

type Req = Record<string, any>; // proto-loader's plain objects; the service validates every field

export function studiesHandlers(service: StudyService, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    createStudy: unary(ctx, async (r: Req) => {
      const source = r.specSource === 'spec' ? { spec: structToJson(r.spec) } : r.specSource === 'specText' ? { specText: r.specText } : undefined;
      if (!source) throw invalid('spec', 'give exactly one of spec (a Katib Experiment) or spec_text (its YAML or JSON text)');
      return studyMessage((await service.createStudy({ ...source, runtime: r.runtime, workingDir: r.workingDir, heartbeatSeconds: r.heartbeatSeconds })).study);
    }),
    getStudy: unary(ctx, async (r: Req) => studyMessage(await service.getStudy(r.name))),
    listStudies: unary(ctx, async (r: Req) => {
      const page = await service.listStudies({ pageSize: r.pageSize, pageToken: r.pageToken });
      return { studies: page.studies.map(studyMessage), nextPageToken: page.nextPageToken };
    }),
    deleteStudy: unary(ctx, async (r: Req) => {
      await service.deleteStudy(r.name);
      return {};
    }),
    stopStudy: unary(ctx, async (r: Req) => studyMessage(await service.stopStudy(r.name))),
    updateStudyBudget: unary(ctx, async (r: Req) =>
      studyMessage(await service.updateBudget(r.name, { parallelTrialCount: r.parallelTrialCount, maxTrialCount: r.maxTrialCount, maxFailedTrialCount: r.maxFailedTrialCount }))),
    enqueueTrials: unary(ctx, async (r: Req) => {
      const assignments = (r.assignments ?? []).map((a: Req, i: number) => assignmentFromValues(a.values ?? [], `assignments[${i}]`));
      return { enqueued: (await service.enqueueTrials(r.study, assignments)).enqueued.map((a) => ({ values: parameterValues(a) })) };
    }),
    listEnqueuedTrials: unary(ctx, async (r: Req) => ({ enqueued: (await service.enqueuedTrials(r.study)).enqueued.map((a) => ({ values: parameterValues(a) })) })),
    getParameterImportance: unary(ctx, (r: Req) => service.parameterImportance(r.study)),
    watchStudy: async (call: grpc.ServerWritableStream<Req, unknown>) => {
      // A stream ends with its status through an 'error' event (destroying it would send none).
      const fail = (err: unknown) => call.emit('error', toGrpcError(err, ctx.log));
      try {
        authorize(ctx.check, call.metadata);
        const { first, unsubscribe } = await service.watch(
          call.request.name,
          (e) => call.write(e.type === 'study' ? { study: studyMessage(e.study) } : { trial: trialMessage(e.trial) }),
          () => call.end(), // the study was deleted: nothing more will come
        );
        if (call.cancelled) return unsubscribe();
        call.on('cancelled', unsubscribe);
        call.on('close', unsubscribe);
        call.write({ study: studyMessage(first) });
      } catch (err) {
        fail(err);
      }
    },
    getParetoFront: unary(ctx, async (r: Req) => {
      const front = await service.paretoFront(r.study);
      return { study: front.study, objectives: front.objectives, trials: front.trials.map(trialMessage) };
    }),
  };
}

export function trialsHandlers(service: StudyService, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    listTrials: unary(ctx, async (r: Req) => {
      const page = await service.listTrials(r.study, { pageSize: r.pageSize, pageToken: r.pageToken, state: r.state, afterId: r.afterId });
      return { trials: page.trials.map(trialMessage), nextPageToken: page.nextPageToken };
    }),
    getTrial: unary(ctx, async (r: Req) => trialMessage(await service.getTrial(r.name))),
    stopTrial: unary(ctx, async (r: Req) => trialMessage(await service.stopTrial(r.name))),
    suggestTrials: unary(ctx, async (r: Req) => ({ trials: (await service.suggestTrials(r.study, r.count, r.clientId)).map(trialMessage) })),
    reportObservations: unary(ctx, (r: Req) => service.reportObservations(r.trial, r.observations ?? [])),
    completeTrial: unary(ctx, async (r: Req) => trialMessage(await service.completeTrial(r.trial, { metrics: r.metrics ?? [], infeasible: r.infeasible ?? false, reason: r.reason }))),
    shouldStopTrial: unary(ctx, (r: Req) => service.shouldStopTrial(r.trial)),
    heartbeatTrial: unary(ctx, async (r: Req) => trialMessage(await service.heartbeat(r.trial))),
  };
}
