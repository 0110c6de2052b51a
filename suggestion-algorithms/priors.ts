// Warm starts (a study's `warmStart`): the completed trials of an earlier study reach the
// model-based algorithms as prior observations, ahead of the study's own trials, as Vizier's
// prior studies do. Assignments outside this space encode to nothing and are skipped by the
// history readers, like trials of an older space.
import type { SuggestRequest, TrialView } from './model.js';

/** What a model learns from: the prior observations first, then the study's own trials. */
export function modelTrials(request: Pick<SuggestRequest, 'trials' | 'priorTrials'>): readonly TrialView[] {
  const priors = request.priorTrials ?? [];
  return priors.length === 0 ? request.trials : [...priors, ...request.trials];
}

/** How many prior observations the request carries. */
export const priorCount = (request: Pick<SuggestRequest, 'priorTrials'>): number => request.priorTrials?.length ?? 0;
