// The REST API's JSON as the page sees it: the server's own definitions (src/service/shapes.ts,
// the TypeBox schemas the API validates and serialises with), imported as types only.
export type {
  MetricShape,
  ObservationShape as Observation,
  StudyEvent,
  StudyShape as Study,
  TrialShape as Trial,
} from '../../service/shapes.js';
export type { ParameterSpec, StudySpec } from '../../spec/types.js';
export type { ParamValue, TrialState } from '../../model/trial.js';
export type TrialCounts = import('../../service/shapes.js').StudyShape['trials'];

export { ACTIVE_TRIAL_STATES, STUDY_STATES, TRIAL_STATES } from '../../model/trial.js';
export { describeConstraint, feasibilityText } from '../../model/constraints.js';
export const TERMINAL_STUDY_STATES: readonly string[] = ['SUCCEEDED', 'FAILED', 'STOPPED'];
