// Plain values shared by the store, the scheduler, the algorithms and the APIs.

export const TRIAL_STATES = [
  'CREATED',
  'RUNNING',
  'SUCCEEDED',
  'FAILED',
  'KILLED',
  'EARLY_STOPPED',
  'METRICS_UNAVAILABLE',
] as const;
export type TrialState = (typeof TRIAL_STATES)[number];

export const ACTIVE_TRIAL_STATES: readonly TrialState[] = ['CREATED', 'RUNNING'];
export const isActiveTrialState = (s: TrialState): boolean => s === 'CREATED' || s === 'RUNNING';

/** A parameter's value: a number for double/int/discrete, a string for categorical. */
export type ParamValue = number | string;
export type Assignment = Readonly<Record<string, ParamValue>>;

/** What an algorithm sees of a trial. */
export interface TrialView {
  readonly name: string;
  readonly state: TrialState;
  readonly assignment: Assignment;
  /** The objective's strategy value, for trials that completed with one. */
  readonly objectiveValue?: number;
}

export const STUDY_STATES = ['CREATED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'STOPPED'] as const;
export type StudyState = (typeof STUDY_STATES)[number];
export const isTerminalStudyState = (s: StudyState): boolean =>
  s === 'SUCCEEDED' || s === 'FAILED' || s === 'STOPPED';

export type StudyEndReason =
  | 'GoalReached'
  | 'MaxTrialsReached'
  | 'SearchSpaceExhausted'
  | 'MaxFailedTrialsReached'
  | 'InvalidSpec'
  | 'StoppedByUser';
