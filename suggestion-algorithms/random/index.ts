// `random`: independent draws per Katib's hyperopt definitions. In a finite space it never
// repeats a point already tried (or proposed in the same batch) and reports exhaustion.
import type { Assignment, SearchSpace, SuggestRequest, SuggestResult, SuggestionAlgorithm, TrialView } from '../model.js';
import { Rng } from '../rng.js';
import { rejectUnknownSettings, readRandomState } from '../settings.js';
import {
  assignmentKey,
  enumerateGrid,
  gridAxes,
  pointCount,
  isOnGrid,
  sampleAssignment,
  type GridAxis,
} from '../space.js';

const NAME = 'random';
const KNOWN_SETTINGS = ['random_state'];

/** Draws tried per point before falling back to picking among the enumerated free points. */
const REJECTION_ATTEMPTS = 32;
/** Spaces up to this size (or a few times the trials known) may be enumerated to find free points. */
const ENUMERATION_LIMIT = 1_000_000;
/** In spaces too large to enumerate, free points dominate, so this many misses means bad luck only. */
const LARGE_SPACE_ATTEMPTS = 10_000;

export const randomAlgorithm: SuggestionAlgorithm = {
  name: NAME,
  multiObjective: true, // it never reads values

  validateSettings(_space, settings) {
    rejectUnknownSettings(settings, NAME, KNOWN_SETTINGS);
    readRandomState(settings);
  },

  suggest({ space, trials, count, seed, settings }: SuggestRequest): SuggestResult {
    // One stream per trial index: the n-th trial of a study gets the same draw whether it was
    // asked for alone or in a batch, and a resumed study continues instead of replaying.
    const base = readRandomState(settings) ?? seed;
    const streamFor = (index: number) => new Rng(base, index);
    const axes = gridAxes(space);
    if (axes === undefined) {
      return { assignments: Array.from({ length: Math.max(0, count) }, (_, i) => sampleAssignment(space, streamFor(trials.length + i))) };
    }
    return suggestInFiniteSpace(space, axes, trials, count, streamFor);
  },
};

interface Candidate {
  readonly key: string;
  readonly assignment: Assignment;
}

function suggestInFiniteSpace(
  space: SearchSpace,
  axes: readonly GridAxis[],
  trials: readonly TrialView[],
  count: number,
  streamFor: (trialIndex: number) => Rng,
): SuggestResult {
  const used = new Set<string>();
  const usedOnGrid = new Set<string>();
  for (const t of trials) {
    const key = assignmentKey(space, t.assignment);
    used.add(key);
    if (isOnGrid(space, axes, t.assignment)) usedOnGrid.add(key);
  }
  const total = pointCount(space, axes);
  const freeBefore = total - usedOnGrid.size;
  const wanted = Math.max(0, Math.min(count, freeBefore));
  // Enumeration costs O(total), acceptable when the space is small or the history is as large.
  const canEnumerate = total <= Math.max(ENUMERATION_LIMIT, 4 * (used.size + count));

  const assignments: Assignment[] = [];
  let pool: Candidate[] | undefined;
  while (assignments.length < wanted) {
    const rng = streamFor(trials.length + assignments.length);
    let pick = drawUnused(space, rng, used, canEnumerate ? REJECTION_ATTEMPTS : LARGE_SPACE_ATTEMPTS);
    if (pick === undefined && canEnumerate) {
      pool ??= freePoints(space, axes, used);
      pick = drawFromPool(pool, used, rng);
    }
    if (pick === undefined) break;
    used.add(pick.key);
    assignments.push(pick.assignment);
  }
  return { assignments, exhausted: freeBefore - assignments.length <= 0 };
}

/** Samples per the parameters' distributions, skipping used points; undefined after `attempts` misses. */
function drawUnused(space: SearchSpace, rng: Rng, used: ReadonlySet<string>, attempts: number): Candidate | undefined {
  for (let i = 0; i < attempts; i++) {
    const assignment = sampleAssignment(space, rng);
    const key = assignmentKey(space, assignment);
    if (!used.has(key)) return { key, assignment };
  }
  return undefined;
}

function freePoints(space: SearchSpace, axes: readonly GridAxis[], used: ReadonlySet<string>): Candidate[] {
  const pool: Candidate[] = [];
  for (const assignment of enumerateGrid(space, axes)) {
    const key = assignmentKey(space, assignment);
    if (!used.has(key)) pool.push({ key, assignment });
  }
  return pool;
}

/** Uniform pick without replacement; entries used since the pool was built are discarded. */
function drawFromPool(pool: Candidate[], used: ReadonlySet<string>, rng: Rng): Candidate | undefined {
  while (pool.length > 0) {
    const i = rng.int(pool.length);
    const candidate = pool[i] as Candidate;
    pool[i] = pool[pool.length - 1] as Candidate;
    pool.pop();
    if (!used.has(candidate.key)) return candidate;
  }
  return undefined;
}
