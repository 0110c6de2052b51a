// JSON schemas of the REST API's requests (TypeBox), validated by fastify's own validator and
// published in the OpenAPI document. Their bounds come from the one set of limits, so they agree
// with the service layer, which checks every value again for every adapter. The response shapes
// live with the service (src/service/shapes.ts).
import { Type } from '@sinclair/typebox';
import { LIMITS } from '../../model/limits.js';
import { TRIAL_STATES } from '../../model/trial.js';
import { ObservationSchema } from '../../service/shapes.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Digits = (description: string) => Type.String({ pattern: '^[0-9]{1,9}$', description });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, UNAUTHENTICATED, PERMISSION_DENIED, RESOURCE_EXHAUSTED, UNAVAILABLE, INTERNAL' }),
    message: Type.String(),
    field: Nullable(Type.String({ description: 'the request field at fault' })),
  }),
}, { $id: 'Error' });

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: LIMITS.maxNameLength }) });

export const CreateStudyBody = Type.Object({
  spec: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'a Katib Experiment document' })),
  specText: Type.Optional(Type.String({ minLength: 1, maxLength: LIMITS.maxBodyBytes, description: 'the same as YAML or JSON text' })),
  runtime: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('external'), Type.Literal('kubernetes')])),
  workingDir: Type.Optional(Type.String({ minLength: 1, maxLength: 4096, description: 'local studies: the absolute folder on the server their commands run in' })),
  heartbeatSeconds: Type.Optional(Type.Integer({ minimum: LIMITS.minHeartbeatSeconds, maximum: LIMITS.maxHeartbeatSeconds, description: 'external studies: a silent client loses its trial after this long' })),
}, { additionalProperties: false });

export const PageQuery = Type.Object({
  pageSize: Type.Optional(Digits(`1 to ${LIMITS.maxPageSize}, default ${LIMITS.defaultPageSize}`)),
  pageToken: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

export const TrialsQuery = Type.Object({
  pageSize: Type.Optional(Digits(`1 to ${LIMITS.maxPageSize}, default ${LIMITS.defaultPageSize}`)),
  pageToken: Type.Optional(Type.String({ maxLength: 200 })),
  state: Type.Optional(Type.Union(TRIAL_STATES.map((s) => Type.Literal(s)))),
  afterId: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$', description: 'only trials with a larger seq (incremental sync)' })),
}, { additionalProperties: false });

export const BudgetBody = Type.Object({
  parallelTrialCount: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxParallelTrialCount })),
  maxTrialCount: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxTrialCount })),
  maxFailedTrialCount: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.maxTrialCount })),
}, { additionalProperties: false, minProperties: 1 });

export const SuggestBody = Type.Object({
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxSuggestCount })),
  clientId: Type.String({ minLength: 1, maxLength: LIMITS.maxClientIdLength }),
}, { additionalProperties: false });

const Observation = Type.Object({
  metric: Type.String({ minLength: 1, maxLength: LIMITS.maxIdentifierLength }),
  value: Type.Number(),
  step: Type.Optional(Type.Integer({ minimum: 0, maximum: LIMITS.maxStep })),
  time: Type.Optional(Type.String({ maxLength: 64, description: 'RFC 3339; default: when received' })),
}, { additionalProperties: false });

export const ObservationsBody = Type.Object({
  observations: Type.Array(Observation, { maxItems: LIMITS.maxObservationBatch }),
}, { additionalProperties: false });

export const CompleteBody = Type.Object({
  metrics: Type.Optional(Type.Array(Observation, { maxItems: LIMITS.maxObservationBatch })),
  infeasible: Type.Optional(Type.Boolean()),
  reason: Type.Optional(Type.String({ maxLength: LIMITS.maxReasonLength })),
}, { additionalProperties: false });

const AssignmentObject = Type.Record(Type.String({ maxLength: LIMITS.maxIdentifierLength }), Type.Union([Type.Number(), Type.String({ maxLength: LIMITS.maxStringLength })]), {
  description: 'parameter name → value (a number, or a string for categorical parameters)',
});

export const EnqueueBody = Type.Object({
  assignments: Type.Array(Type.Object({}, { additionalProperties: true, description: 'parameter name → value; every parameter of the study' }), { minItems: 1, maxItems: LIMITS.maxEnqueuedTrials }),
}, { additionalProperties: false });

export const EnqueuedList = Type.Object({
  enqueued: Type.Array(AssignmentObject, { description: 'the assignments waiting to run, in order' }),
});

export const ImportanceResponse = Type.Object({
  parameters: Type.Array(Type.Object({
    name: Type.String(),
    importance: Type.Number({ description: "the parameter's share of the importances (they sum to 1)" }),
    mainEffect: Type.Number({ description: "the share of the objective's variance its main effect explains alone" }),
  }), { description: 'most important first' }),
  trials: Type.Integer({ description: 'the completed trials the forest was fit on' }),
});

/** A reference to a shared schema, and the error responses every route may give. */
export const ref = (id: string) => ({ $ref: `${id}#` });
export const ERROR_RESPONSES = { 400: ref('Error'), 401: ref('Error'), 403: ref('Error'), 404: ref('Error'), 409: ref('Error') };

export const ObservationList = Type.Object({ observations: Type.Array(ObservationSchema), nextPageToken: Type.String() });

export const ObservationsQuery = Type.Object({
  pageSize: Type.Optional(Digits(`1 to ${LIMITS.maxObservationPage}, default ${LIMITS.maxObservationPage}`)),
  pageToken: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

export const LogQuery = Type.Object({
  tail: Type.Optional(Digits(`lines from the end, 1 to ${LIMITS.maxLogTailLines}, default 100`)),
}, { additionalProperties: false });
