// The API's view of studies, trials and observations, defined once as JSON schemas (TypeBox):
// fastify validates and serialises with them, the OpenAPI document publishes them, and their
// static types are what the service returns, what gRPC's converters read, what the CLI prints
// and what the dashboard receives. Nothing here needs Node: the dashboard imports these types.
import { Type, type Static, type TLiteral, type TSchema, type TUnion } from '@sinclair/typebox';
import { STUDY_STATES, TRIAL_STATES } from '../model/trial.js';
import { objectivesOf, type StudySpec } from '../spec/types.js';
import type { Store, StudyRecord, TrialRecord } from '../store/store.js';

const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);
const Literals = <T extends string>(values: readonly T[]) => Type.Union(values.map((v) => Type.Literal(v))) as unknown as TUnion<TLiteral<T>[]>;

export const ParamValueSchema = Type.Union([Type.Number(), Type.String()]);
const Assignment = Type.Record(Type.String(), ParamValueSchema);

export const TrialCountsSchema = Type.Object(Object.fromEntries(TRIAL_STATES.map((s) => [s, Type.Integer()])) as Record<(typeof TRIAL_STATES)[number], ReturnType<typeof Type.Integer>>);

export const StudySchema = Type.Object({
  name: Type.String(),
  state: Literals(STUDY_STATES),
  reason: Nullable(Type.String()),
  message: Nullable(Type.String()),
  runtime: Literals(['local', 'external', 'kubernetes'] as const),
  algorithm: Type.String(),
  objective: Type.Object({
    type: Literals(['minimize', 'maximize'] as const),
    metric: Type.String(),
    goal: Nullable(Type.Number()),
    objectives: Type.Array(Type.Object({ type: Literals(['minimize', 'maximize'] as const), metric: Type.String() }), { description: 'every objective: one, or two and more in a multi-objective study (type and metric are the first)' }),
  }),
  parallelTrialCount: Type.Integer(),
  maxTrialCount: Nullable(Type.Integer()),
  maxFailedTrialCount: Nullable(Type.Integer()),
  heartbeatSeconds: Nullable(Type.Integer({ description: 'ask/tell: a silent client loses its trial after this long' })),
  trials: TrialCountsSchema,
  best: Nullable(Type.Object({ trial: Type.String(), value: Nullable(Type.Number()), assignment: Assignment })),
  earlyStopping: Nullable(Type.Object({
    algorithm: Type.String(),
    trialsStopped: Type.Integer(),
    stepsRun: Type.Integer({ description: 'steps (of the objective) all trials reported' }),
    stepsSaved: Type.Integer({ description: 'steps the stopped trials did not run, each counted up to the longest finished trial' }),
  })),
  spec: Type.Unsafe<StudySpec>(Type.Object({}, { additionalProperties: true, description: 'the study spec after defaults' })),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  completedAt: Nullable(Type.String()),
}, { $id: 'Study' });

export const MetricSummarySchema = Type.Object({ name: Type.String(), min: Type.Number(), max: Type.Number(), latest: Type.Number(), count: Type.Integer() });

export const TrialSchema = Type.Object({
  name: Type.String(),
  study: Type.String(),
  seq: Type.Integer(),
  state: Literals(TRIAL_STATES),
  reason: Nullable(Type.String()),
  message: Nullable(Type.String()),
  assignment: Assignment,
  objectiveValue: Nullable(Type.Number()),
  objectiveValues: Nullable(Type.Array(Type.Number(), { description: "a multi-objective study's completed trial: each objective's value, in the study's order" })),
  metrics: Type.Array(MetricSummarySchema),
  clientId: Nullable(Type.String()),
  labels: Type.Record(Type.String(), Type.String(), { description: "the algorithm's labels (pbt: generation and parent trial)" }),
  stoppedAtStep: Nullable(Type.Integer({ description: 'the step at which its early-stopping policy stopped it' })),
  feasible: Nullable(Type.Boolean({ description: "outcome constraints: false when the completed trial broke a bound (it is never best); null when not judged" })),
  violation: Nullable(Type.Number({ description: 'how far past its constraint bounds it went, summed (0 when feasible; null when not judged or a constraint metric never came)' })),
  createdAt: Type.String(),
  startedAt: Nullable(Type.String()),
  completedAt: Nullable(Type.String()),
}, { $id: 'Trial' });

export const ParetoFrontSchema = Type.Object({
  study: Type.String(),
  objectives: Type.Array(Type.Object({ type: Literals(['minimize', 'maximize'] as const), metric: Type.String() })),
  trials: Type.Array(Type.Ref(TrialSchema), { description: 'the completed trials no other dominates, in creation order (equal ones all kept); a single-objective study: its best trial' }),
}, { $id: 'ParetoFront' });
export type ParetoFrontShape = Static<typeof ParetoFrontSchema>;

export const ObservationSchema = Type.Object({ metric: Type.String(), step: Type.Integer(), value: Type.Number(), time: Type.String() });

export type StudyShape = Static<typeof StudySchema>;
/** What a study's watchers receive (SSE, gRPC WatchStudy, the dashboard). */
export type StudyEvent = { readonly type: 'study'; readonly study: StudyShape } | { readonly type: 'trial'; readonly trial: TrialShape };
export type TrialShape = Static<typeof TrialSchema>;
export type MetricShape = Static<typeof MetricSummarySchema>;
export type ObservationShape = Static<typeof ObservationSchema>;

export async function studyShape(store: Store, s: StudyRecord): Promise<StudyShape> {
  const metric = s.spec.objective.objectiveMetricName;
  const [best, trials, earlyStopping] = await Promise.all([
    store.bestTrial(s.id, s.spec.objective.type),
    store.trialCounts(s.id),
    s.spec.earlyStopping ? store.earlyStoppingSummary(s.id, metric) : undefined,
  ]);
  return {
    name: s.name,
    state: s.state,
    reason: s.reason ?? null,
    message: s.message ?? null,
    runtime: s.runtime,
    algorithm: s.spec.algorithm.algorithmName,
    objective: {
      type: s.spec.objective.type, metric: s.spec.objective.objectiveMetricName, goal: s.spec.objective.goal ?? null,
      objectives: objectivesOf(s.spec.objective).map((o) => ({ type: o.type, metric: o.objectiveMetricName })),
    },
    parallelTrialCount: s.spec.parallelTrialCount,
    maxTrialCount: s.spec.maxTrialCount ?? null,
    maxFailedTrialCount: s.spec.maxFailedTrialCount ?? null,
    heartbeatSeconds: s.heartbeatSeconds ?? null,
    trials,
    best: best ? { trial: best.name, value: best.objectiveValue ?? null, assignment: { ...best.assignment } } : null,
    earlyStopping: s.spec.earlyStopping && earlyStopping ? { algorithm: s.spec.earlyStopping.algorithmName, ...earlyStopping } : null,
    spec: s.spec,
    createdAt: s.createdAt,
    startedAt: s.startedAt ?? null,
    completedAt: s.completedAt ?? null,
  };
}

/** A study's Pareto front: its non-dominated completed trials (a single-objective study's: its best trial). */
export async function paretoShape(store: Store, s: StudyRecord): Promise<ParetoFrontShape> {
  const objectives = objectivesOf(s.spec.objective);
  const trials = s.spec.objective.objectives
    ? await store.paretoTrials(s.id, objectives.map((o) => o.type))
    : [await store.bestTrial(s.id, s.spec.objective.type)].filter((t): t is TrialRecord => t !== undefined);
  return {
    study: s.name,
    objectives: objectives.map((o) => ({ type: o.type, metric: o.objectiveMetricName })),
    trials: await Promise.all(trials.map((t) => trialShape(store, s.name, t))),
  };
}

export async function trialShape(store: Store, studyName: string, t: TrialRecord): Promise<TrialShape> {
  const metrics = await store.metricSummaries(t.id);
  const ref = t.runtimeRef ?? '';
  return {
    name: t.name,
    study: studyName,
    seq: t.seq,
    state: t.state,
    reason: t.reason ?? null,
    message: t.message ?? null,
    assignment: { ...t.assignment },
    objectiveValue: t.objectiveValue ?? null,
    objectiveValues: t.objectiveValues ? [...t.objectiveValues] : null,
    metrics,
    clientId: ref.startsWith('client:') ? ref.slice('client:'.length) : null,
    labels: { ...t.labels },
    stoppedAtStep: t.earlyStop?.step ?? null,
    feasible: t.feasible ?? null,
    violation: t.violation ?? null,
    createdAt: t.createdAt,
    startedAt: t.startedAt ?? null,
    completedAt: t.completedAt ?? null,
  };
}
