// `nsga2`: NSGA-II (Deb, Pratap, Agarwal & Meyarivan 2002, "A fast and elitist multiobjective
// genetic algorithm: NSGA-II", IEEE TEC 6(2)), rebuilt from the trials on every call:
// - trial i (creation order) belongs to generation floor(i / population_size); generation 0 is
//   random (the same draws as `random`);
// - the parents of generation g are the best population_size completed trials of generations
//   before g, by non-domination rank and then crowding distance (the elitist (μ+λ) selection,
//   taken over every earlier generation so that a trial still running when its generation ended
//   takes part once it completes);
// - each child: two binary tournaments (rank, then crowding distance), crossover with
//   crossover_prob (SBX with η = 15 on numeric columns, Deb & Agrawal 1995, or uniform), and
//   each parameter redrawn uniformly with mutation_prob (default 1 / number of parameters).
// Child i uses its own random stream (seed, trial index), so a batch proposes what single asks
// would and a restart changes nothing.
import type { Assignment, SearchSpace, Settings, SuggestRequest, SuggestResult, SuggestionAlgorithm } from '../model.js';
import { scoredTrials } from '../objectives.js';
import { crowdingDistances, nonDominatedRanks } from '../pareto.js';
import { withoutRepeats } from '../repeats.js';
import { Rng } from '../rng.js';
import { readIntSetting, readNumberSetting, readSetting, rejectUnknownSettings, settingError, readRandomState } from '../settings.js';
import { sampleAssignment } from '../space.js';
import { unitCube, type UnitCube } from '../transform.js';

const NAME = 'nsga2';
const KNOWN_SETTINGS = ['population_size', 'mutation_prob', 'crossover_prob', 'crossover', 'random_state'];
const SBX_ETA = 15;

interface Nsga2Settings {
  readonly populationSize: number;
  readonly mutationProb?: number;
  readonly crossoverProb: number;
  readonly crossover: 'sbx' | 'uniform';
  readonly randomState?: number;
}

function readNsga2Settings(settings: Settings): Nsga2Settings {
  rejectUnknownSettings(settings, NAME, KNOWN_SETTINGS);
  const crossover = readSetting(settings, 'crossover') ?? 'sbx';
  if (crossover !== 'sbx' && crossover !== 'uniform') throw settingError('crossover', `must be sbx or uniform (got ${JSON.stringify(crossover)})`);
  const mutationProb = readNumberSetting(settings, 'mutation_prob', { min: 0, max: 1 });
  const randomState = readRandomState(settings);
  return {
    populationSize: readIntSetting(settings, 'population_size', { min: 2, max: 10_000 }) ?? 50,
    ...(mutationProb === undefined ? {} : { mutationProb }),
    crossoverProb: readNumberSetting(settings, 'crossover_prob', { min: 0, max: 1 }) ?? 0.9,
    crossover,
    ...(randomState === undefined ? {} : { randomState }),
  };
}

export const nsga2Algorithm: SuggestionAlgorithm = {
  name: NAME,
  multiObjective: true,

  validateSettings(_space, settings) {
    readNsga2Settings(settings);
  },

  suggest({ space, trials, count, seed, settings: raw }: SuggestRequest): SuggestResult {
    const settings = readNsga2Settings(raw);
    const base = settings.randomState ?? seed;
    const cube = unitCube(space);
    const size = settings.populationSize;
    const proposals: Assignment[] = [];
    let parents: { readonly generation: number; readonly pick?: (rng: Rng) => Float64Array } | undefined;
    for (let i = 0; i < Math.max(0, count); i++) {
      const index = trials.length + i;
      const generation = Math.floor(index / size);
      const rng = new Rng(base, index);
      if (generation > 0 && parents?.generation !== generation) {
        const pick = parentSelector(space, cube, trials.slice(0, generation * size), size);
        parents = { generation, ...(pick ? { pick } : {}) };
      }
      const pick = generation === 0 ? undefined : parents?.pick;
      if (!pick) {
        proposals.push(sampleAssignment(space, rng)); // generation 0, or nothing completed before this one
        continue;
      }
      const child = breed(cube, pick(rng), pick(rng), settings, space.parameters.length, rng);
      proposals.push(cube.decode(child));
    }
    return withoutRepeats(space, trials, proposals, base);
  },
};

/** Binary tournaments over the elite of `earlier`'s completed trials; undefined when none completed. */
function parentSelector(space: SearchSpace, cube: UnitCube, earlier: SuggestRequest['trials'], size: number): ((rng: Rng) => Float64Array) | undefined {
  const scored = scoredTrials(space, earlier)
    .map((s) => ({ loss: s.loss, x: cube.encode(s.trial.assignment) }))
    .filter((s): s is { loss: number[]; x: Float64Array } => s.x !== undefined);
  if (scored.length === 0) return undefined;
  const members = elite(scored.map((s) => s.loss), size).map((e) => ({ ...e, x: scored[e.index]!.x }));
  return (rng) => {
    const a = members[rng.int(members.length)]!;
    const b = members[rng.int(members.length)]!;
    return (a.rank !== b.rank ? a.rank < b.rank : a.crowding >= b.crowding) ? a.x : b.x;
  };
}

interface Member { readonly index: number; readonly rank: number; readonly crowding: number }

/** NSGA-II's survivor selection: whole fronts by rank, the last one cut by crowding distance (largest first). */
export function elite(losses: readonly (readonly number[])[], size: number): Member[] {
  const ranks = nonDominatedRanks(losses);
  const fronts: number[][] = [];
  ranks.forEach((r, i) => (fronts[r] ??= []).push(i));
  const chosen: Member[] = [];
  for (const [rank, front] of fronts.entries()) {
    if (chosen.length >= size) break;
    const crowding = crowdingDistances(front.map((i) => losses[i]!));
    const members = front.map((index, k) => ({ index, rank, crowding: crowding[k]! }));
    if (chosen.length + members.length > size) members.sort((a, b) => b.crowding - a.crowding || a.index - b.index);
    chosen.push(...members.slice(0, size - chosen.length));
  }
  return chosen;
}

/** One child of two parents (unit-cube points): crossover, then per-parameter mutation. */
function breed(cube: UnitCube, p1: Float64Array, p2: Float64Array, settings: Nsga2Settings, parameters: number, rng: Rng): Float64Array {
  const child = Float64Array.from(p1);
  const mutationProb = settings.mutationProb ?? 1 / Math.max(1, parameters);
  const crossing = rng.next() < settings.crossoverProb;
  for (const c of cube.columns) {
    const width = c.kind === 'range' ? 1 : c.size;
    if (crossing) {
      if (c.kind === 'range' && settings.crossover === 'sbx') {
        child[c.index] = sbx(p1[c.index]!, p2[c.index]!, rng);
      } else if (rng.next() < 0.5) {
        for (let k = 0; k < width; k++) child[c.index + k] = p2[c.index + k]!;
      }
    }
    if (rng.next() < mutationProb) {
      if (c.kind === 'range') child[c.index] = rng.next();
      else {
        const pick = rng.int(c.size);
        for (let k = 0; k < width; k++) child[c.index + k] = k === pick ? 1 : 0;
      }
    }
  }
  return child;
}

/**
 * Simulated binary crossover of one coordinate in [0, 1], bounded (Deb & Agrawal 1995; the
 * bounded spread factor of Deb & Goyal 1996): one of the two children, chosen at random.
 */
function sbx(a: number, b: number, rng: Rng): number {
  if (Math.abs(a - b) < 1e-14) return a;
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  const u = rng.next();
  const spread = (beta: number) => {
    const alpha = 2 - Math.pow(beta, -(SBX_ETA + 1));
    return u <= 1 / alpha ? Math.pow(u * alpha, 1 / (SBX_ETA + 1)) : Math.pow(1 / (2 - u * alpha), 1 / (SBX_ETA + 1));
  };
  const betaLow = 1 + (2 * lo) / (hi - lo);
  const betaHigh = 1 + (2 * (1 - hi)) / (hi - lo);
  const c1 = 0.5 * (lo + hi - spread(betaLow) * (hi - lo));
  const c2 = 0.5 * (lo + hi + spread(betaHigh) * (hi - lo));
  const c = rng.next() < 0.5 ? c1 : c2;
  return Math.min(1, Math.max(0, c));
}
