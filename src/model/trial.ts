// Plain values shared by the store, the scheduler, the algorithms and the APIs.

export { TRIAL_STATES, type TrialState } from '../../suggestion-algorithms/model.js';
import type { TrialState } from '../../suggestion-algorithms/model.js';

export const ACTIVE_TRIAL_STATES: readonly TrialState[] = ['CREATED', 'RUNNING'];
export const isActiveTrialState = (s: TrialState): boolean => s === 'CREATED' || s === 'RUNNING';

// What algorithms see of a trial and its values: defined with the algorithms, used everywhere.
export type { Assignment, ParamValue, TrialView } from '../../suggestion-algorithms/model.js';

export const STUDY_STATES = ['CREATED', 'RUNNING', 'SUCCEEDED', 'FAILED', 'STOPPED'] as const;
export type StudyState = (typeof STUDY_STATES)[number];
export const isTerminalStudyState = (s: StudyState): boolean =>
  s === 'SUCCEEDED' || s === 'FAILED' || s === 'STOPPED';
