// Every state change of a trial or a study, in one table each: the named transition, the states
// it may leave, the state it enters and the reasons it may carry. The store's guarded updates
// are built from these rows (`WHERE state IN (from)`), so a lost race or an illegal move is an
// error, never a silent overwrite; no other code writes a state.
import type { StudyState, TrialState } from './trial.js';

interface Transition<S extends string> {
  readonly from: readonly S[];
  readonly to: S;
  /** The reasons it may carry; `runtime` means any reason a runtime reports (see RUNTIME_REASON). */
  readonly reasons: readonly string[] | 'runtime' | 'none';
  /** Only from a state that ended with one of these reasons. */
  readonly fromReasons?: readonly string[];
}

const ACTIVE = ['CREATED', 'RUNNING'] as const satisfies readonly TrialState[];

export const TRIAL_TRANSITIONS = {
  /** A runtime started it (again, for a relaunch after a restart: RUNNING → RUNNING). */
  start: { from: ACTIVE, to: 'RUNNING', reasons: 'none' },
  /** An ask/tell client took a queued trial. */
  claim: { from: ['CREATED'], to: 'RUNNING', reasons: 'none' },
  /** Its process died with the runner: launched again with the same assignment. */
  requeue: { from: ACTIVE, to: 'CREATED', reasons: 'none' },
  succeed: { from: ACTIVE, to: 'SUCCEEDED', reasons: ['TrialSucceeded'] },
  missMetrics: { from: ACTIVE, to: 'METRICS_UNAVAILABLE', reasons: ['MetricsUnavailable'] },
  /** The runtime's own reasons (NonZeroExit, Signalled, LaunchFailed, TFJobFailed, …), or the service's. */
  fail: { from: ACTIVE, to: 'FAILED', reasons: 'runtime' }, // also Infeasible and HeartbeatExpired (ask/tell)
  kill: { from: ACTIVE, to: 'KILLED', reasons: ['StoppedByUser', 'StudyEnded', 'StudyDeleted'] },
  earlyStop: { from: ACTIVE, to: 'EARLY_STOPPED', reasons: ['EarlyStopped'] },
} as const satisfies Record<string, Transition<TrialState>>;

export type TrialTransition = keyof typeof TRIAL_TRANSITIONS;

export const STUDY_TRANSITIONS = {
  start: { from: ['CREATED'], to: 'RUNNING', reasons: 'none' },
  succeed: { from: ['RUNNING'], to: 'SUCCEEDED', reasons: ['GoalReached', 'MaxTrialsReached', 'SearchSpaceExhausted'] },
  fail: { from: ['CREATED', 'RUNNING'], to: 'FAILED', reasons: ['MaxFailedTrialsReached', 'AlgorithmFailed', 'InvalidSpec'] },
  stop: { from: ['CREATED', 'RUNNING'], to: 'STOPPED', reasons: ['StoppedByUser'] },
  /** A study that ended at its trial budget runs again when given more. */
  reopen: { from: ['SUCCEEDED'], to: 'RUNNING', reasons: 'none', fromReasons: ['MaxTrialsReached'] },
} as const satisfies Record<string, Transition<StudyState>>;

export type StudyTransition = keyof typeof STUDY_TRANSITIONS;

/** The reasons a transition carries, as a type: `succeed` takes 'GoalReached' | …, `fail` of a trial any string. */
type ReasonOf<T extends Transition<string>> = T['reasons'] extends readonly (infer R)[] ? R : T['reasons'] extends 'runtime' ? string : never;
export type TrialReason<N extends TrialTransition> = ReasonOf<(typeof TRIAL_TRANSITIONS)[N]>;
export type StudyReason<N extends StudyTransition> = ReasonOf<(typeof STUDY_TRANSITIONS)[N]>;
export type StudyEndReason = StudyReason<'succeed' | 'fail' | 'stop'>;

/** What a runtime may report as a failure reason: a CamelCase word, as Kubernetes and Katib write them. */
export const RUNTIME_REASON = /^[A-Z][A-Za-z0-9]{0,63}$/;

export class IllegalTransitionError extends Error {
  override name = 'IllegalTransitionError';
}

/** Throws when a reason is not one the transition may carry (a bug in the caller, not a race). */
export function checkReason(kind: 'trial' | 'study', name: string, transition: Transition<string>, reason: string | undefined): void {
  const ok = transition.reasons === 'none' ? reason === undefined
    : transition.reasons === 'runtime' ? reason !== undefined && RUNTIME_REASON.test(reason)
    : reason !== undefined && transition.reasons.includes(reason);
  if (!ok) throw new IllegalTransitionError(`${kind} transition ${name} cannot carry the reason ${JSON.stringify(reason)}`);
}
