// A stand-in for the algorithm pool's worker (src/algorithms/worker.ts) that misbehaves on
// purpose, for the tests of what happens when an algorithm fails: `sobol` throws, `grid` never
// returns; every other algorithm runs as usual.
import suggest, { type SuggestTask } from '../../src/algorithms/worker.js';

export default function misbehave(task: SuggestTask): ReturnType<typeof suggest> {
  if (task.algorithm === 'sobol') throw new Error('the stand-in algorithm throws on purpose');
  if (task.algorithm === 'grid') for (;;) { /* never returns */ }
  return suggest(task);
}

export const MISBEHAVING_WORKER = new URL(import.meta.url);
