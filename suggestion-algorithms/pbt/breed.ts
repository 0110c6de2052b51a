// How one generation begets the next (truncation selection, as in Jaderberg et al. 2017): the
// members are ranked by their objective; the best `n − k` continue with their own
// hyperparameters from their own checkpoints, and `k = floor(n · truncation_threshold)` new
// members exploit one of the best `k` (drawn at random: its hyperparameters and its
// checkpoint are copied) and explore (the copied hyperparameters are perturbed or resampled).
// Members beyond the best `n − k` are dropped: their slots go to the exploiting members.
import type { Assignment, SearchSpace, TrialView } from '../model.js';
import { Rng } from '../rng.js';
import { sampleAssignment } from '../space.js';
import { explore } from './explore.js';
import type { PbtSettings } from './settings.js';

/** One planned member of a generation: what it trains with, and whose checkpoint it starts from. */
export interface Entry {
  readonly assignment: Assignment;
  /** The trial whose checkpoint is copied; none in generation 0. */
  readonly parent?: string;
}

/** A member that completed with a value to rank it by. */
export interface Member {
  readonly trial: TrialView & { readonly objectiveValue: number };
  /** Its position among all trials (ties are broken by it, earlier first). */
  readonly index: number;
}

/**
 * The random stream of a generation's plan (j = 0) and of its extra members (j ≥ 1).
 * Generation 0's member i draws from stream i, as random's trial i does.
 */
const streamOf = (generation: number, j: number): number => generation * 2 ** 32 + j;

/** Best first; equal values keep their trial order. */
export function rank(members: readonly Member[], direction: SearchSpace['direction']): Member[] {
  const sign = direction === 'maximize' ? -1 : 1;
  return [...members].sort((a, b) => sign * (a.trial.objectiveValue - b.trial.objectiveValue) || a.index - b.index);
}

export const truncated = (s: PbtSettings): number => Math.floor(s.population * s.truncation);

export function firstGeneration(space: SearchSpace, s: PbtSettings, seed: number): Entry[] {
  return Array.from({ length: s.population }, (_, i) => ({ assignment: sampleAssignment(space, new Rng(seed, streamOf(0, i))) }));
}

/** Which members go on unchanged and which are drawn from as parents to exploit. */
export function selection(ranked: readonly Member[], s: PbtSettings): { continuing: Member[]; exploiting: number; top: Member[] } {
  const k = truncated(s);
  const continuing = ranked.slice(0, Math.max(0, Math.min(s.population - k, ranked.length)));
  return { continuing, exploiting: s.population - continuing.length, top: ranked.slice(0, Math.max(1, k)) };
}

/** A member that copies a random one of `top` and explores from there. */
function exploitAndExplore(space: SearchSpace, top: readonly Member[], s: PbtSettings, rng: Rng): Entry {
  const parent = top[rng.int(top.length)] as Member;
  return { parent: parent.trial.name, assignment: explore(space, parent.trial.assignment, s.resampleProbability, rng) };
}

/** Generation `generation`'s plan, from the completed members of the one before (any order). */
export function nextGeneration(space: SearchSpace, generation: number, members: readonly Member[], s: PbtSettings, seed: number): Entry[] {
  const ranked = rank(members, space.direction);
  const { continuing, exploiting, top } = selection(ranked, s);
  const rng = new Rng(seed, streamOf(generation, 0));
  const entries: Entry[] = [...continuing]
    .sort((a, b) => a.index - b.index)
    .map((m) => ({ parent: m.trial.name, assignment: m.trial.assignment }));
  for (let i = 0; i < exploiting && top.length > 0; i++) entries.push(exploitAndExplore(space, top, s, rng));
  return entries;
}

/**
 * The `j`-th member beyond a generation's plan, for callers that refuse fewer assignments than
 * they ask for (Katib's controller): random in generation 0 (Katib seeds more from the space),
 * else another member exploiting and exploring the best of the generation before.
 */
export function extraMember(space: SearchSpace, generation: number, j: number, previous: readonly Member[], s: PbtSettings, seed: number): Entry {
  if (generation === 0 || previous.length === 0) {
    return { assignment: sampleAssignment(space, new Rng(seed, streamOf(0, s.population + j))) };
  }
  const { top } = selection(rank(previous, space.direction), s);
  return exploitAndExplore(space, top, s, new Rng(seed, streamOf(generation, 1 + j)));
}
