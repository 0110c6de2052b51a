// When a CMA-ES run has converged or stalled, and what the next run looks like:
// IPOP (Auger & Hansen 2005) doubles the population at each restart; BIPOP (Hansen 2009)
// alternates that large-population regime with short local runs of small population and
// step size, giving each regime about the same budget. Restarts start from a random mean.
import { Rng } from '../rng.js';
import { initialDistribution, type Distribution, type Eigen } from './distribution.js';
import type { RestartStrategy } from './settings.js';

export type Regime = 'large' | 'small';

/** One CMA-ES run: a distribution, its population size and what it has achieved. */
export interface Run {
  readonly lambda: number;
  readonly regime: Regime;
  readonly dist: Distribution;
  /** Best loss of this run so far, and generations since it last improved. */
  readonly bestLoss: number;
  readonly stale: number;
  /** Best loss of each of the latest generations (at most historyLength). */
  readonly recentBests: readonly number[];
}

/** Across runs: what BIPOP needs to split the budget between its regimes. */
export interface RestartBook {
  readonly restarts: number;
  readonly largeRestarts: number;
  readonly smallEvaluations: number;
  readonly largeEvaluations: number;
}

export const EMPTY_BOOK: RestartBook = { restarts: 0, largeRestarts: 0, smallEvaluations: 0, largeEvaluations: 0 };

/** Population multiplier per large restart (goptuna's and Katib's default). */
const POPULATION_GROWTH = 2;
/** Termination thresholds (cmaes library / Hansen's defaults), in unit-cube units. */
const TOL_X = 1e-12;
const TOL_X_UP = 1e4;
const TOL_FUN = 1e-12;
const TOL_CONDITION = 1e14;

/** Generations of history the stall criteria look at: 10 + ⌈30n/λ⌉ (Hansen's TolFun window). */
export const historyLength = (n: number, lambda: number): number => 10 + Math.ceil((30 * n) / lambda);

export function newRun(mean: readonly number[], sigma: number, lambda: number, regime: Regime): Run {
  return { lambda, regime, dist: initialDistribution(mean, sigma), bestLoss: Infinity, stale: 0, recentBests: [] };
}

/** A run after a generation whose best loss was `generationBest` (+∞ when nothing succeeded). */
export function recordGeneration(run: Run, dist: Distribution, generationBest: number): Run {
  const improved = generationBest < run.bestLoss;
  const window = historyLength(dist.mean.length, run.lambda);
  return {
    ...run,
    dist,
    bestLoss: improved ? generationBest : run.bestLoss,
    stale: improved ? 0 : run.stale + 1,
    recentBests: [...run.recentBests, generationBest].slice(-window),
  };
}

/** Whether the run has converged, stalled or broken down numerically. */
export function shouldStop(run: Run, eigen: Eigen): boolean {
  const { dist } = run;
  const n = dist.mean.length;
  if (!Number.isFinite(dist.sigma) || !dist.mean.every(Number.isFinite) || !eigen.D.every(Number.isFinite)) return true;
  const window = historyLength(n, run.lambda);
  // TolFun: the best values of the latest generations are all the same.
  const finiteBests = run.recentBests.filter(Number.isFinite);
  if (run.recentBests.length >= window && finiteBests.length === window && Math.max(...finiteBests) - Math.min(...finiteBests) < TOL_FUN) return true;
  // Stagnation: no better point in a whole window of generations.
  if (run.stale >= window) return true;
  // TolX: the distribution and its path have shrunk to nothing.
  const sd = dist.C.map((row, i) => dist.sigma * Math.sqrt(row[i] as number));
  if (sd.every((s) => s < TOL_X) && dist.pc.every((p) => dist.sigma * Math.abs(p) < TOL_X)) return true;
  const maxD = Math.max(...eigen.D);
  const minD = Math.min(...eigen.D);
  if (dist.sigma * maxD > TOL_X_UP) return true;
  return (maxD / minD) ** 2 > TOL_CONDITION;
}

export interface RestartContext {
  readonly strategy: RestartStrategy;
  readonly seed: number;
  /** Rng stream reserved for this restart (a function of the generation it starts at). */
  readonly stream: number;
  readonly n: number;
  readonly sigma0: number;
  readonly lambda0: number;
}

/** The run that follows `finished`, and the updated book. Only called for ipop and bipop. */
export function restart(finished: Run, book: RestartBook, ctx: RestartContext): { run: Run; book: RestartBook } {
  const rng = new Rng(ctx.seed, ctx.stream);
  const mean = Array.from({ length: ctx.n }, () => rng.next());
  const spent = finished.lambda * finished.dist.updates;
  const counted: RestartBook = {
    ...book,
    restarts: book.restarts + 1,
    smallEvaluations: book.smallEvaluations + (finished.regime === 'small' ? spent : 0),
    largeEvaluations: book.largeEvaluations + (finished.regime === 'large' ? spent : 0),
  };
  if (ctx.strategy === 'bipop' && counted.smallEvaluations < counted.largeEvaluations) {
    // Small regime: λ between λ0/2 and half the current large population, σ0·10^(−2U).
    const largeLambda = ctx.lambda0 * POPULATION_GROWTH ** counted.largeRestarts;
    const u = rng.next();
    const lambda = Math.max(2, Math.floor(ctx.lambda0 * (largeLambda / ctx.lambda0 / 2) ** (u * u)));
    const sigma = ctx.sigma0 * 10 ** (-2 * rng.next());
    return { run: newRun(mean, sigma, lambda, 'small'), book: counted };
  }
  const largeRestarts = counted.largeRestarts + 1;
  const lambda = ctx.lambda0 * POPULATION_GROWTH ** largeRestarts;
  return { run: newRun(mean, ctx.sigma0, lambda, 'large'), book: { ...counted, largeRestarts } };
}
