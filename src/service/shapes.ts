// The API's view of studies and trials, shared by REST, gRPC's JSON-like messages and the
// CLI's --json output.
import type { StudyRecord, Store, TrialCounts, TrialRecord, RuntimeKind } from '../store/store.js';
import type { StudySpec } from '../spec/types.js';
import type { StudyState, TrialState, ParamValue } from '../model/trial.js';

export interface StudyShape {
  readonly name: string;
  readonly state: StudyState;
  readonly reason: string | null;
  readonly message: string | null;
  readonly runtime: RuntimeKind;
  readonly algorithm: string;
  readonly objective: { readonly type: string; readonly metric: string; readonly goal: number | null };
  readonly parallelTrialCount: number;
  readonly maxTrialCount: number | null;
  readonly maxFailedTrialCount: number | null;
  readonly trials: TrialCounts;
  readonly best: { readonly trial: string; readonly value: number | null; readonly assignment: Record<string, ParamValue> } | null;
  readonly spec: StudySpec;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
}

export interface MetricShape {
  readonly name: string;
  readonly min: number;
  readonly max: number;
  readonly latest: number;
  readonly count: number;
}

export interface TrialShape {
  readonly name: string;
  readonly study: string;
  readonly seq: number;
  readonly state: TrialState;
  readonly reason: string | null;
  readonly message: string | null;
  readonly assignment: Record<string, ParamValue>;
  readonly objectiveValue: number | null;
  readonly metrics: MetricShape[];
  readonly clientId: string | null;
  readonly createdAt: string;
  readonly startedAt: string | null;
  readonly completedAt: string | null;
}

export function studyShape(store: Store, s: StudyRecord): StudyShape {
  const best = store.bestTrial(s.id, s.spec.objective.type);
  return {
    name: s.name,
    state: s.state,
    reason: s.reason ?? null,
    message: s.message ?? null,
    runtime: s.runtime,
    algorithm: s.spec.algorithm.algorithmName,
    objective: { type: s.spec.objective.type, metric: s.spec.objective.objectiveMetricName, goal: s.spec.objective.goal ?? null },
    parallelTrialCount: s.spec.parallelTrialCount,
    maxTrialCount: s.spec.maxTrialCount ?? null,
    maxFailedTrialCount: s.spec.maxFailedTrialCount ?? null,
    trials: store.trialCounts(s.id),
    best: best ? { trial: best.name, value: best.objectiveValue ?? null, assignment: { ...best.assignment } } : null,
    spec: s.spec,
    createdAt: s.createdAt,
    startedAt: s.startedAt ?? null,
    completedAt: s.completedAt ?? null,
  };
}

export function trialShape(store: Store, studyName: string, t: TrialRecord): TrialShape {
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
    metrics: store.metricSummaries(t.id),
    clientId: ref.startsWith('client:') ? ref.slice('client:'.length) : null,
    createdAt: t.createdAt,
    startedAt: t.startedAt ?? null,
    completedAt: t.completedAt ?? null,
  };
}
