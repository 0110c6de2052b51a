import type { StudySpec } from '../src/spec/types.js';
import type { Assignment, TrialView } from '../src/model/trial.js';

export interface SuggestRequest {
  readonly spec: StudySpec;
  /** Every trial so far, active ones included, in creation order. */
  readonly trials: readonly TrialView[];
  readonly count: number;
  readonly seed: number;
  /** What this algorithm returned as state last time. */
  readonly state?: Readonly<Record<string, string>>;
}

export interface SuggestResult {
  readonly assignments: Assignment[];
  readonly state?: Record<string, string>;
  /** True when the space holds no point that is not already among the trials. */
  readonly exhausted?: boolean;
}

/**
 * A suggestion algorithm is a pure function of its input: it opens no files or sockets and
 * rebuilds whatever history it needs from `trials` on every call, so restarts change nothing.
 */
export interface SuggestionAlgorithm {
  readonly name: string;
  /** Throws SpecError(field, reason) for settings or spaces this algorithm cannot serve. */
  validate(spec: StudySpec): void;
  suggest(request: SuggestRequest): SuggestResult;
}
