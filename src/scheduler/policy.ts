// Katib's study arithmetic as pure functions: when a study ends, and how many trials to add.
import type { StudyState } from '../model/trial.js';
import type { StudyEndReason } from '../model/transitions.js';
import type { StudySpec } from '../spec/types.js';
import type { TrialCounts } from '../store/store.js';

export const activeCount = (c: TrialCounts): number => c.CREATED + c.RUNNING;
export const completedCount = (c: TrialCounts): number =>
  c.SUCCEEDED + c.FAILED + c.KILLED + c.EARLY_STOPPED + c.METRICS_UNAVAILABLE;

export interface StudyEnd {
  readonly state: Extract<StudyState, 'SUCCEEDED' | 'FAILED'>;
  readonly reason: StudyEndReason;
  readonly message: string;
}

export function goalReached(spec: StudySpec, best: number | undefined): boolean {
  const { goal, type } = spec.objective;
  if (goal === undefined || best === undefined) return false;
  return type === 'minimize' ? best <= goal : best >= goal;
}

/**
 * Katib's order: goal, then failures, then the trial budget. Sibyl adds the end Katib lacks: a
 * finite space whose points are all used while nothing is active.
 */
export function decideEnd(spec: StudySpec, counts: TrialCounts, best: number | undefined, exhausted: boolean): StudyEnd | undefined {
  if (goalReached(spec, best)) {
    return { state: 'SUCCEEDED', reason: 'GoalReached', message: `objective ${spec.objective.objectiveMetricName} reached the goal ${spec.objective.goal} (best ${best})` };
  }
  const failed = counts.FAILED + counts.METRICS_UNAVAILABLE;
  const maxFailed = spec.maxFailedTrialCount;
  if (maxFailed !== undefined && failed > 0 && failed >= maxFailed) {
    return { state: 'FAILED', reason: 'MaxFailedTrialsReached', message: `${failed} trials failed (maxFailedTrialCount ${maxFailed})` };
  }
  const completed = completedCount(counts);
  if (spec.maxTrialCount !== undefined && completed >= spec.maxTrialCount) {
    return { state: 'SUCCEEDED', reason: 'MaxTrialsReached', message: `${completed} trials completed (maxTrialCount ${spec.maxTrialCount})` };
  }
  if (exhausted && activeCount(counts) === 0) {
    return { state: 'SUCCEEDED', reason: 'SearchSpaceExhausted', message: `every point of the search space has been tried (${completed} trials)` };
  }
  return undefined;
}

/** New trials per pass: `min(parallel, maxTrialCount − completed) − active`, never negative. */
export function trialsToRequest(spec: StudySpec, counts: TrialCounts): number {
  const room = spec.maxTrialCount === undefined ? spec.parallelTrialCount : Math.min(spec.parallelTrialCount, spec.maxTrialCount - completedCount(counts));
  return Math.max(0, room - activeCount(counts));
}
