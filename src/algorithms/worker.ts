// One suggestion, run in a worker thread of the algorithm pool (pool.ts): the algorithms are
// pure functions of plain values, so the task and its result cross the thread boundary as is.
import { getAlgorithm } from '../../suggestion-algorithms/registry.js';
import type { SuggestRequest, SuggestResult } from '../../suggestion-algorithms/model.js';

export interface SuggestTask {
  readonly algorithm: string;
  readonly request: SuggestRequest;
}

export default function suggest(task: SuggestTask): SuggestResult {
  const algorithm = getAlgorithm(task.algorithm);
  if (!algorithm) throw new Error(`unknown algorithm ${JSON.stringify(task.algorithm)}`);
  return algorithm.suggest(task.request);
}
