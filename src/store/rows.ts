// The tables' rows as both backends read them, and their records: one mapping for SQLite and
// PostgreSQL (whose int8 columns arrive as Numbers, see postgres.ts), so the two cannot drift.
import type { Assignment, StudyState, TrialState, TrialView } from '../model/trial.js';
import type { StudySpec } from '../spec/types.js';
import { ConstraintError, type ObservationInput, type Page, type RuntimeKind, type StudyRecord, type TrialRecord } from './store.js';
import { paretoFront } from '../../suggestion-algorithms/pareto.js';
import type { Direction } from '../../suggestion-algorithms/model.js';
import type { Feasibility } from '../model/constraints.js';

export interface StudyRow {
  id: number; name: string; spec_json: string; base_dir: string; runtime: RuntimeKind; state: StudyState; reason: string | null;
  message: string | null; seed: number; algorithm_state: string | null; created_at: string;
  started_at: string | null; completed_at: string | null; heartbeat_seconds: number | null; owner: string | null;
}
export interface TrialRow {
  id: number; study_id: number; seq: number; name: string; assignment_json: string; state: TrialState;
  reason: string | null; message: string | null; runtime_ref: string | null; objective_value: number | null;
  objective_values_json: string | null;
  attempts: number; created_at: string; started_at: string | null; completed_at: string | null; heartbeat_at: string | null;
  labels_json: string | null;
  stop_step: number | null; stop_message: string | null;
  feasible: number | null; violation: number | null;
}
export interface TrialViewRow {
  name: string; state: TrialState; assignment_json: string; objective_value: number | null; objective_values_json: string | null; labels_json: string | null;
  feasible: number | null; violation: number | null;
}

/** The columns a transition writes for a trial's feasibility (NULL, NULL: not judged). */
export function feasibilityColumns(f: Feasibility | undefined): { feasible: number | null; violation: number | null } {
  if (f === undefined) return { feasible: null, violation: null };
  return f.feasible ? { feasible: 1, violation: 0 } : { feasible: 0, violation: f.violation ?? null };
}

/** TrialView's feasibility fields from the columns (none when not judged). */
function feasibilityFields(r: { feasible: number | null; violation: number | null }): { feasible?: boolean; violation?: number } {
  if (r.feasible === null) return {};
  return { feasible: r.feasible === 1, ...(r.violation === null ? {} : { violation: r.violation }) };
}

export function page<T>(rows: T[], limit: number, cursor: (item: T) => number): Page<T> {
  if (rows.length <= limit) return { items: rows };
  const items = rows.slice(0, limit);
  return { items, next: cursor(items[items.length - 1]!) };
}

/** An observation as a page reads it: with its id, the page's cursor. */
export type ObservationRow = ObservationInput & { readonly id: number | string };

export function observationPage(rows: readonly ObservationRow[], limit: number): Page<ObservationInput> {
  const { items, next } = page([...rows], limit, (r) => Number(r.id));
  return { items: items.map(({ metric, step, value, time }) => ({ metric, step, value, time })), ...(next === undefined ? {} : { next }) };
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** A multi-objective trial's values as stored (migrations/0010): a JSON array, NULL when none. */
export function valuesJson(values: readonly number[] | undefined): string | null {
  if (values === undefined) return null;
  if (!values.every(Number.isFinite)) throw new ConstraintError('CHECK', 'trials.objective_values_json (a value is not finite)');
  return JSON.stringify(values);
}

/** The Pareto front of a study's trials as read by either backend (completed, with values). */
export function paretoOf(trials: readonly TrialRecord[], directions: readonly Direction[]): TrialRecord[] {
  return paretoFront(trials, directions);
}

/** Labels as stored: none (or an empty set) is NULL. */
export const labelsJson = (labels: Readonly<Record<string, string>> | undefined): string | null =>
  labels === undefined || Object.keys(labels).length === 0 ? null : JSON.stringify(labels);

export function toStudy(r: StudyRow): StudyRecord {
  return {
    id: r.id,
    name: r.name,
    spec: JSON.parse(r.spec_json) as StudySpec,
    specJson: r.spec_json,
    baseDir: r.base_dir,
    runtime: r.runtime,
    state: r.state,
    ...(r.reason === null ? {} : { reason: r.reason }),
    ...(r.message === null ? {} : { message: r.message }),
    seed: r.seed,
    ...(r.algorithm_state === null ? {} : { algorithmState: JSON.parse(r.algorithm_state) as Record<string, string> }),
    createdAt: r.created_at,
    ...(r.started_at === null ? {} : { startedAt: r.started_at }),
    ...(r.completed_at === null ? {} : { completedAt: r.completed_at }),
    ...(r.heartbeat_seconds === null ? {} : { heartbeatSeconds: r.heartbeat_seconds }),
    ...(r.owner === null ? {} : { owner: r.owner }),
  };
}

export function toTrial(r: TrialRow): TrialRecord {
  const fields = {
    reason: opt(r.reason), message: opt(r.message), runtimeRef: opt(r.runtime_ref),
    objectiveValue: opt(r.objective_value), startedAt: opt(r.started_at), completedAt: opt(r.completed_at), heartbeatAt: opt(r.heartbeat_at),
    earlyStop: r.stop_step === null ? undefined : { step: r.stop_step, message: r.stop_message ?? '' },
  };
  return {
    id: r.id,
    studyId: r.study_id,
    seq: r.seq,
    name: r.name,
    assignment: JSON.parse(r.assignment_json) as Assignment,
    state: r.state,
    attempts: r.attempts,
    createdAt: r.created_at,
    ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)),
    ...(r.objective_values_json === null ? {} : { objectiveValues: JSON.parse(r.objective_values_json) as number[] }),
    ...(r.labels_json === null ? {} : { labels: JSON.parse(r.labels_json) as Record<string, string> }),
    ...feasibilityFields(r),
  };
}

export function toTrialView(r: TrialViewRow): TrialView {
  return {
    name: r.name,
    state: r.state,
    assignment: JSON.parse(r.assignment_json) as Assignment,
    ...(r.objective_value === null ? {} : { objectiveValue: r.objective_value }),
    ...(r.objective_values_json === null ? {} : { objectiveValues: JSON.parse(r.objective_values_json) as number[] }),
    ...(r.labels_json === null ? {} : { labels: JSON.parse(r.labels_json) as Record<string, string> }),
    ...feasibilityFields(r),
  };
}

/** Folds observations (in arrival order) into one aggregate per trial and metric, as trial_metrics keeps them. */
export interface MetricFold { trialId: number; metric: string; n: number; min: number; max: number; latest: number; maxStep: number }
export function foldMetrics(rows: readonly { trialId: number; observation: { metric: string; value: number; step: number } }[]): MetricFold[] {
  const acc = new Map<string, MetricFold>();
  for (const { trialId, observation: o } of rows) {
    const key = `${trialId}\u0000${o.metric}`;
    const a = acc.get(key);
    if (!a) {
      acc.set(key, { trialId, metric: o.metric, n: 1, min: o.value, max: o.value, latest: o.value, maxStep: o.step });
    } else {
      a.n += 1;
      if (o.value < a.min) a.min = o.value;
      if (o.value > a.max) a.max = o.value;
      a.latest = o.value;
      if (o.step > a.maxStep) a.maxStep = o.step;
    }
  }
  return [...acc.values()];
}

/** What earlyStoppingSummary reports, from per-state step sums (the same query on both backends). */
export function stoppingSummary(rows: readonly { state: TrialState; n: number; steps: number; longest: number }[]): { trialsStopped: number; stepsRun: number; stepsSaved: number } {
  const full = rows.find((r) => r.state === 'SUCCEEDED')?.longest ?? 0;
  const stopped = rows.find((r) => r.state === 'EARLY_STOPPED');
  return {
    trialsStopped: stopped?.n ?? 0,
    stepsRun: rows.reduce((sum, r) => sum + r.steps, 0),
    stepsSaved: stopped ? Math.max(0, stopped.n * full - stopped.steps) : 0,
  };
}
