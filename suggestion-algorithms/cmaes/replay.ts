// Rebuilding CMA-ES from the trials alone. Trials fill "slots" in creation order; generation g
// owns the next λ_g slots after generation g−1's. A generation whose slots are all filled by
// finished trials is told (in slot order) and the next begins; the first generation that is
// not complete is the current one, and new proposals fill its free slots.
import { compareConstrained } from '../constraints.js';
import { Rng } from '../rng.js';
import { eigenOf, isBeyondClip, sampleGeneration, strategyParameters, updateDistribution, type Eigen, type Evaluated } from './distribution.js';
import { EMPTY_BOOK, newRun, recordGeneration, restart, shouldStop, type RestartBook, type Run } from './restarts.js';
import type { RestartStrategy } from './settings.js';
import { uniformCategories, updateCategories, type CategoricalDistribution } from './categories.js';

/** A trial as CMA-ES sees it: its range parameters in the unit cube and its outcome. */
export interface Slot {
  readonly x: Float64Array;
  /** Minimised; +∞ for trials that finished without a usable objective. */
  readonly loss: number;
  /** Outcome constraints: 0 when feasible (or unconstrained), else how far past its bounds (Infinity: unknown). */
  readonly violation?: number;
  /** CREATED or RUNNING: the slot is taken but its generation cannot be told yet. */
  readonly active: boolean;
  /** The value index of each categorical/discrete parameter (spec order); −1 where it was inactive. */
  readonly choices: readonly number[];
}

/** Where the replay stands: the current (not yet complete) generation. */
export interface Search {
  readonly generation: number;
  /** Slot index of the generation's first sample. */
  readonly start: number;
  readonly run: Run;
  readonly book: RestartBook;
  /** The categorical half of the distribution (categories.ts); kept across restarts. */
  readonly categories: CategoricalDistribution;
}

export interface ReplayContext {
  readonly seed: number;
  readonly n: number;
  readonly lambda0: number;
  readonly sigma0: number;
  readonly strategy: RestartStrategy;
  /** Number of values of each categorical/discrete parameter (spec order). */
  readonly choiceSizes: readonly number[];
  /** Generation 0's mean when the study is warm-started (priors.ts), else the centre of the box. */
  readonly mean0?: readonly number[];
}

// Rng streams, one namespace per purpose so that none can collide: stream = 4·index + purpose.
const PURPOSES = 4;
/** The λ samples of generation g, drawn in order. */
export const generationStream = (g: number): number => PURPOSES * g;
/** A batch point beyond the current generation's slots, drawn for slot k. */
export const extraStream = (slot: number): number => PURPOSES * slot + 1;
/** The independently drawn categorical/discrete values of slot k. */
export const choiceStream = (slot: number): number => PURPOSES * slot + 2;
/** The random mean of a restart that begins at generation g. */
const restartStream = (g: number): number => PURPOSES * g + 3;

/** Generation 0: the centre of the box (or the warm start's mean), step size σ0, default population. */
export function initialSearch(ctx: ReplayContext): Search {
  const run = newRun(ctx.mean0 ? [...ctx.mean0] : new Array<number>(ctx.n).fill(0.5), ctx.sigma0, ctx.lambda0, 'large');
  return { generation: 0, start: 0, run, book: EMPTY_BOOK, categories: uniformCategories(ctx.choiceSizes) };
}

/** The current generation's samples, exactly as they were (or will be) proposed. */
export function generationSamples(search: Search, seed: number, eigen: Eigen = eigenOf(search.run.dist.C)): Float64Array[] {
  return sampleGeneration(search.run.dist, eigen, search.run.lambda, new Rng(seed, generationStream(search.generation)));
}

/** Tells every complete generation from `from` on; returns the first incomplete one. */
export function replay(slots: readonly Slot[], ctx: ReplayContext, from: Search): Search {
  let search = from;
  for (;;) {
    const end = search.start + search.run.lambda;
    if (end > slots.length) return search;
    const members = slots.slice(search.start, end);
    if (members.some((m) => m.active)) return search;
    search = tellGeneration(search, members, ctx);
  }
}

/** Coordinates closer than this are the same point (decoding rounds doubles to 12 digits). */
const SAME_POINT = 1e-9;

function tellGeneration(search: Search, members: readonly Slot[], ctx: ReplayContext): Search {
  const { run } = search;
  const params = strategyParameters(ctx.n, run.lambda);
  const eigen = eigenOf(run.dist.C);
  const sampled = generationSamples(search, ctx.seed, eigen);
  const population: Evaluated[] = members.map((m, i) => ({
    x: m.x,
    loss: m.loss,
    violation: m.violation,
    sampledHere: isSamePoint(m.x, sampled[i]),
  }));
  const succeeded = population.filter((p) => Number.isFinite(p.loss)).length;
  // With fewer than μ usable results the ranking would be mostly failures: keep the distribution.
  const dist = succeeded >= params.mu ? updateDistribution(run.dist, eigen, params, population) : run.dist;
  const categories = succeeded >= params.mu ? updateCategories(search.categories, rankedChoices(members, params.mu), params.weights) : search.categories;
  // Restarts track the best feasible loss (+∞ while a generation has none).
  const generationBest = Math.min(...population.map((p) => ((p.violation ?? 0) === 0 ? p.loss : Infinity)));
  let next: { run: Run; book: RestartBook } = { run: recordGeneration(run, dist, generationBest), book: search.book };
  const generation = search.generation + 1;
  const elite = heldElite(population, run, eigen, ctx);
  if (elite) {
    next = { run: newRun(Array.from(elite), ctx.sigma0, run.lambda, run.regime), book: next.book };
  } else if (ctx.strategy !== 'none' && shouldStop(next.run, eigenOf(dist.C))) {
    next = restart(next.run, next.book, { ...ctx, stream: restartStream(generation) });
  } else if (!Number.isFinite(dist.sigma) || !dist.mean.every(Number.isFinite)) {
    // Numerical breakdown without a restart strategy: start over from the centre.
    next = { run: newRun(new Array<number>(ctx.n).fill(0.5), ctx.sigma0, run.lambda, run.regime), book: next.book };
  }
  return { generation, start: search.start + run.lambda, ...next, categories };
}

/**
 * On a mixed space, the generation's best point if it came from far outside the run's Gaussian
 * (a held category's local search, index.ts) and beat everything the run has found: the run
 * starts over there, since clipped steps would take many generations to follow it to another
 * category's optimum. Spaces without categorical parameters never get here.
 */
function heldElite(population: readonly Evaluated[], run: Run, eigen: Eigen, ctx: ReplayContext): Float64Array | undefined {
  if (ctx.choiceSizes.length === 0) return undefined;
  let best: Evaluated | undefined;
  for (const p of population) if ((p.violation ?? 0) === 0 && Number.isFinite(p.loss) && (!best || p.loss < best.loss)) best = p;
  if (!best || best.sampledHere || !(best.loss < run.bestLoss) || !isBeyondClip(run.dist, eigen, best.x)) return undefined;
  return best.x;
}

/** The choices of the μ best members, best first (ties in slot order, as the Gaussian ranks them). */
function rankedChoices(members: readonly Slot[], mu: number): (readonly number[])[] {
  return members
    .map((m, i) => ({ m, i }))
    .sort((a, b) => compareConstrained({ violation: a.m.violation ?? 0, loss: a.m.loss }, { violation: b.m.violation ?? 0, loss: b.m.loss }) || a.i - b.i)
    .slice(0, mu)
    .map(({ m }) => m.choices);
}

function isSamePoint(a: Float64Array, b: Float64Array | undefined): boolean {
  if (b === undefined) return false;
  for (let i = 0; i < a.length; i += 1) if (!(Math.abs((a[i] as number) - (b[i] as number)) <= SAME_POINT)) return false;
  return true;
}
