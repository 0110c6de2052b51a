// An Experiment's `status` as Katib's controller writes it (shared/reference/katib.md §2.4,
// §5.2), computed from the store's view of the study: conditions with Katib's types and
// reasons, the trial lists and counters, the current optimal trial with its assignment and
// metrics (strings, "unavailable" when never reported), start and completion times. Pure: the
// controller decides when to write it, this module only what it says.
import type { StudyShape, TrialShape } from '../service/shapes.js';
import type { TrialState } from '../model/trial.js';
import { metricNamesOf } from '../spec/types.js';

export interface ExperimentCondition {
  readonly type: 'Created' | 'Running' | 'Succeeded' | 'Failed';
  readonly status: 'True' | 'False';
  readonly reason: string;
  readonly message: string;
  readonly lastUpdateTime: string;
  readonly lastTransitionTime: string;
}

export interface KatibMetric {
  readonly name: string;
  readonly min: string;
  readonly max: string;
  readonly latest: string;
}

export interface ExperimentStatus {
  readonly startTime?: string;
  readonly completionTime?: string;
  readonly lastReconcileTime?: string;
  readonly conditions: readonly ExperimentCondition[];
  readonly currentOptimalTrial: {
    readonly bestTrialName: string;
    readonly parameterAssignments: readonly { readonly name: string; readonly value: string }[];
    readonly observation: { readonly metrics: readonly KatibMetric[] };
  };
  /** Sibyl's addition (Katib has none): the best trial's objective value, for a printer column. */
  readonly bestObjectiveValue?: string;
  readonly runningTrialList: readonly string[];
  readonly pendingTrialList: readonly string[];
  readonly failedTrialList: readonly string[];
  readonly succeededTrialList: readonly string[];
  readonly killedTrialList: readonly string[];
  readonly earlyStoppedTrialList: readonly string[];
  readonly metricsUnavailableTrialList: readonly string[];
  readonly trials: number;
  readonly trialsSucceeded: number;
  readonly trialsFailed: number;
  readonly trialsKilled: number;
  readonly trialsPending: number;
  readonly trialsRunning: number;
  readonly trialsEarlyStopped: number;
  readonly trialMetricsUnavailable: number;
}

/** Katib's value for a metric a trial never reported. */
export const UNAVAILABLE = 'unavailable';

/** Sibyl's study end reasons in Katib's words (Katib has no stop: a stopped study is Failed). */
const END_REASONS: Readonly<Record<string, string>> = {
  GoalReached: 'ExperimentGoalReached',
  MaxTrialsReached: 'ExperimentMaxTrialsReached',
  SearchSpaceExhausted: 'ExperimentSuggestionEndReached',
  MaxFailedTrialsReached: 'ExperimentMaxFailedTrialsReached',
  AlgorithmFailed: 'ExperimentAlgorithmFailed',
  InvalidSpec: 'ExperimentInvalid',
  StoppedByUser: 'ExperimentStopped',
};

/** The list each trial state goes to (Katib's classification in util/status_util.go). */
const LIST_OF: Readonly<Record<TrialState, keyof ExperimentStatus>> = {
  CREATED: 'pendingTrialList',
  RUNNING: 'runningTrialList',
  SUCCEEDED: 'succeededTrialList',
  FAILED: 'failedTrialList',
  KILLED: 'killedTrialList',
  EARLY_STOPPED: 'earlyStoppedTrialList',
  METRICS_UNAVAILABLE: 'metricsUnavailableTrialList',
};

type Wanted = Pick<ExperimentCondition, 'type' | 'status' | 'reason' | 'message'>;

/** Katib's condition sequence: Created, then Running (False once ended), then Succeeded or Failed. */
function wantedConditions(study: StudyShape): Wanted[] {
  const out: Wanted[] = [{ type: 'Created', status: 'True', reason: 'ExperimentCreated', message: 'Experiment is created' }];
  if (study.state === 'CREATED') return out;
  const ended = study.state !== 'RUNNING';
  out.push({ type: 'Running', status: ended ? 'False' : 'True', reason: 'ExperimentRunning', message: 'Experiment is running' });
  if (!ended) return out;
  const reason = END_REASONS[study.reason ?? ''] ?? (study.state === 'SUCCEEDED' ? 'ExperimentSucceeded' : 'ExperimentFailed');
  out.push({ type: study.state === 'SUCCEEDED' ? 'Succeeded' : 'Failed', status: 'True', reason, message: study.message ?? `Experiment has ${study.state.toLowerCase()}` });
  return out;
}

/**
 * Keeps a condition's times while it says the same; a condition that changes gets `now`.
 * Conditions are never removed, as Katib's are not (a reopened study shows Running again, with
 * the old end condition turned False).
 */
export function mergeConditions(previous: readonly ExperimentCondition[], wanted: readonly Wanted[], now: string): ExperimentCondition[] {
  const result: ExperimentCondition[] = [];
  for (const w of wanted) {
    const old = previous.find((c) => c.type === w.type);
    const same = old && old.status === w.status && old.reason === w.reason && old.message === w.message;
    result.push(same ? old : { ...w, lastUpdateTime: now, lastTransitionTime: old && old.status === w.status ? old.lastTransitionTime : now });
  }
  for (const old of previous) {
    if (result.some((c) => c.type === old.type)) continue;
    result.push(old.status === 'False' ? old : { ...old, status: 'False', lastUpdateTime: now, lastTransitionTime: now });
  }
  return result;
}

const text = (v: number | string) => String(v);

export function experimentStatus(study: StudyShape, trials: readonly TrialShape[], previous: readonly ExperimentCondition[], now: string): ExperimentStatus {
  const lists: Record<string, string[]> = Object.fromEntries(Object.values(LIST_OF).map((k) => [k, [] as string[]]));
  for (const t of trials) lists[LIST_OF[t.state]]!.push(t.name);
  const c = study.trials;
  const best = study.best ? trials.find((t) => t.name === study.best!.trial) : undefined;
  const metricNames = metricNamesOf(study.spec.objective);
  return {
    startTime: study.startedAt ?? study.createdAt,
    ...(study.completedAt ? { completionTime: study.completedAt } : {}),
    lastReconcileTime: now,
    conditions: mergeConditions(previous, wantedConditions(study), now),
    currentOptimalTrial: {
      bestTrialName: best?.name ?? '',
      parameterAssignments: best ? Object.entries(best.assignment).map(([name, value]) => ({ name, value: text(value) })) : [],
      observation: {
        metrics: best
          ? metricNames.map((name) => {
            const m = best.metrics.find((x) => x.name === name);
            return m ? { name, min: text(m.min), max: text(m.max), latest: text(m.latest) } : { name, min: UNAVAILABLE, max: UNAVAILABLE, latest: UNAVAILABLE };
          })
          : [],
      },
    },
    ...(study.best?.value !== null && study.best?.value !== undefined ? { bestObjectiveValue: text(study.best.value) } : {}),
    runningTrialList: lists['runningTrialList']!,
    pendingTrialList: lists['pendingTrialList']!,
    failedTrialList: lists['failedTrialList']!,
    succeededTrialList: lists['succeededTrialList']!,
    killedTrialList: lists['killedTrialList']!,
    earlyStoppedTrialList: lists['earlyStoppedTrialList']!,
    metricsUnavailableTrialList: lists['metricsUnavailableTrialList']!,
    trials: Object.values(c).reduce((a, b) => a + b, 0),
    trialsSucceeded: c.SUCCEEDED,
    trialsFailed: c.FAILED,
    trialsKilled: c.KILLED,
    trialsPending: c.CREATED,
    trialsRunning: c.RUNNING,
    trialsEarlyStopped: c.EARLY_STOPPED,
    trialMetricsUnavailable: c.METRICS_UNAVAILABLE,
  };
}

/** The status of an Experiment Sibyl refused: Created never happened, Failed says why. */
export function invalidStatus(previous: readonly ExperimentCondition[], reason: string, message: string, now: string): Pick<ExperimentStatus, 'conditions'> {
  return { conditions: mergeConditions(previous, [{ type: 'Failed', status: 'True', reason, message }], now) };
}

/**
 * Whether two statuses say the same (the reconcile time aside): a write that changes nothing is
 * skipped. Key order does not count: the API server returns objects with their keys sorted.
 */
export function sameStatus(a: unknown, b: unknown): boolean {
  const strip = (s: unknown) => {
    if (s === null || typeof s !== 'object') return s;
    const { lastReconcileTime: _, ...rest } = s as Record<string, unknown>;
    return rest;
  };
  return canonical(strip(a)) === canonical(strip(b));
}

function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, x]) => x !== undefined).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

export type TrialTransition = { readonly trial: string; readonly list: string };

/**
 * The trials whose list changed between two statuses: the transitions to report as Events. Read
 * from the object's own status, so a restarted controller neither repeats nor misses one that
 * the object had not recorded yet.
 */
export function trialTransitions(previous: Partial<ExperimentStatus> | undefined, next: ExperimentStatus): TrialTransition[] {
  const before = new Map<string, string>();
  for (const list of Object.values(LIST_OF)) for (const name of ((previous?.[list] as string[] | undefined) ?? [])) before.set(name, list);
  const out: TrialTransition[] = [];
  for (const list of Object.values(LIST_OF)) {
    for (const name of next[list] as readonly string[]) if (before.get(name) !== list) out.push({ trial: name, list });
  }
  return out;
}

/** An Event reason per trial list: TrialRunning, TrialSucceeded, … */
export const TRIAL_EVENT_REASON: Readonly<Record<string, string>> = {
  pendingTrialList: 'TrialCreated',
  runningTrialList: 'TrialRunning',
  succeededTrialList: 'TrialSucceeded',
  failedTrialList: 'TrialFailed',
  killedTrialList: 'TrialKilled',
  earlyStoppedTrialList: 'TrialEarlyStopped',
  metricsUnavailableTrialList: 'TrialMetricsUnavailable',
};
