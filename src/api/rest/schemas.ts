// JSON schemas of the REST API (TypeBox), validated by fastify's own validator and published
// in the OpenAPI document.
import { Type, type TSchema } from '@sinclair/typebox';
import { TRIAL_STATES } from '../../model/trial.js';
import { LIMITS } from '../../model/limits.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Digits = (description: string) => Type.String({ pattern: '^[0-9]{1,9}$', description });

export const ErrorBody = Type.Object({
  error: Type.Object({
    code: Type.String({ description: 'INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, FAILED_PRECONDITION, UNAUTHENTICATED, RESOURCE_EXHAUSTED, INTERNAL' }),
    message: Type.String(),
    field: Nullable(Type.String({ description: 'the request field at fault' })),
  }),
}, { $id: 'Error' });

const Counts = Type.Object(Object.fromEntries(TRIAL_STATES.map((s) => [s, Type.Integer()])));
const ParamValue = Type.Union([Type.Number(), Type.String()]);

export const Study = Type.Object({
  name: Type.String(),
  state: Type.String(),
  reason: Nullable(Type.String()),
  message: Nullable(Type.String()),
  runtime: Type.String(),
  algorithm: Type.String(),
  objective: Type.Object({ type: Type.String(), metric: Type.String(), goal: Nullable(Type.Number()) }),
  parallelTrialCount: Type.Integer(),
  maxTrialCount: Nullable(Type.Integer()),
  maxFailedTrialCount: Nullable(Type.Integer()),
  trials: Counts,
  best: Nullable(Type.Object({ trial: Type.String(), value: Nullable(Type.Number()), assignment: Type.Record(Type.String(), ParamValue) })),
  spec: Type.Object({}, { additionalProperties: true, description: 'the study spec after defaults' }),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  completedAt: Nullable(Type.String()),
}, { $id: 'Study' });

export const Trial = Type.Object({
  name: Type.String(),
  study: Type.String(),
  seq: Type.Integer(),
  state: Type.String(),
  reason: Nullable(Type.String()),
  message: Nullable(Type.String()),
  assignment: Type.Record(Type.String(), ParamValue),
  objectiveValue: Nullable(Type.Number()),
  metrics: Type.Array(Type.Object({ name: Type.String(), min: Type.Number(), max: Type.Number(), latest: Type.Number(), count: Type.Integer() })),
  clientId: Nullable(Type.String()),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  completedAt: Nullable(Type.String()),
}, { $id: 'Trial' });

export const NameParams = Type.Object({ name: Type.String({ minLength: 1, maxLength: 300 }) });

export const CreateStudyBody = Type.Object({
  spec: Type.Optional(Type.Object({}, { additionalProperties: true, description: 'a Katib Experiment document' })),
  specText: Type.Optional(Type.String({ minLength: 1, description: 'the same as YAML or JSON text' })),
  runtime: Type.Optional(Type.Union([Type.Literal('local'), Type.Literal('external'), Type.Literal('kubernetes')])),
}, { additionalProperties: false });

export const PageQuery = Type.Object({
  pageSize: Type.Optional(Digits(`1 to ${LIMITS.maxPageSize}, default ${LIMITS.defaultPageSize}`)),
  pageToken: Type.Optional(Type.String({ maxLength: 200 })),
}, { additionalProperties: false });

export const TrialsQuery = Type.Object({
  pageSize: Type.Optional(Digits(`1 to ${LIMITS.maxPageSize}, default ${LIMITS.defaultPageSize}`)),
  pageToken: Type.Optional(Type.String({ maxLength: 200 })),
  state: Type.Optional(Type.Union(TRIAL_STATES.map((s) => Type.Literal(s)))),
  afterId: Type.Optional(Digits('only trials with a larger seq (incremental sync)')),
}, { additionalProperties: false });

export const BudgetBody = Type.Object({
  parallelTrialCount: Type.Optional(Type.Integer({ minimum: 1 })),
  maxTrialCount: Type.Optional(Type.Integer({ minimum: 1 })),
  maxFailedTrialCount: Type.Optional(Type.Integer({ minimum: 0 })),
}, { additionalProperties: false, minProperties: 1 });

export const SuggestBody = Type.Object({
  count: Type.Optional(Type.Integer({ minimum: 1, maximum: LIMITS.maxSuggestCount })),
  clientId: Type.String({ minLength: 1, maxLength: 200 }),
}, { additionalProperties: false });

const Observation = Type.Object({
  metric: Type.String({ minLength: 1 }),
  value: Type.Number(),
  step: Type.Optional(Type.Integer({ minimum: 0 })),
  time: Type.Optional(Type.String({ description: 'RFC 3339; default: when received' })),
}, { additionalProperties: false });

export const ObservationsBody = Type.Object({
  observations: Type.Array(Observation, { maxItems: LIMITS.maxObservationBatch }),
}, { additionalProperties: false });

export const CompleteBody = Type.Object({
  metrics: Type.Optional(Type.Array(Observation, { maxItems: LIMITS.maxObservationBatch })),
  infeasible: Type.Optional(Type.Boolean()),
  reason: Type.Optional(Type.String({ maxLength: 10_000 })),
}, { additionalProperties: false });

/** A reference to a shared schema, and the error responses every route may give. */
export const ref = (id: string) => ({ $ref: `${id}#` });
export const ERROR_RESPONSES = { 400: ref('Error'), 401: ref('Error'), 404: ref('Error'), 409: ref('Error') };

export const ObservationList = Type.Object({
  observations: Type.Array(Type.Object({ metric: Type.String(), step: Type.Integer(), value: Type.Number(), time: Type.String() })),
});

export const LogQuery = Type.Object({
  tail: Type.Optional(Digits(`lines from the end, 1 to ${LIMITS.maxLogTailLines}, default 100`)),
}, { additionalProperties: false });
