// One suggestion, run in a worker thread of the algorithm pool (pool.ts): the algorithms are
// pure functions of plain values. The trials cross the thread boundary as one JSON text (one
// copy of one string instead of a structured clone of thousands of objects on the server's
// thread), and are parsed here.
import { getAlgorithm } from '../../suggestion-algorithms/registry.js';
import type { SuggestRequest, SuggestResult, TrialView } from '../../suggestion-algorithms/model.js';
import { parameterImportance, type ImportanceRequest, type ImportanceResult } from '../analysis/importance.js';

export interface SuggestTask {
  readonly algorithm: string;
  readonly request: Omit<SuggestRequest, 'trials'>;
  /** The request's trials as a JSON array of TrialView. */
  readonly trials: string;
}

export default function suggest(task: SuggestTask): SuggestResult {
  const algorithm = getAlgorithm(task.algorithm);
  if (!algorithm) throw new Error(`unknown algorithm ${JSON.stringify(task.algorithm)}`);
  return algorithm.suggest({ ...task.request, trials: JSON.parse(task.trials) as TrialView[] });
}

/** Parameter importance (src/analysis), the pool's other task: a forest fit is as heavy as a suggestion. */
export function importance(request: ImportanceRequest): ImportanceResult {
  return parameterImportance(request);
}
