// The algorithms Sibyl serves, by Katib `algorithmName`.
import { gridAlgorithm } from './grid/index.js';
import { bayesianOptimizationAlgorithm } from './bayesianoptimization/index.js';
import { cmaesAlgorithm } from './cmaes/index.js';
import { randomAlgorithm } from './random/index.js';
import { multivariateTpeAlgorithm, tpeAlgorithm } from './tpe/index.js';
import { sobolAlgorithm } from './sobol/index.js';
import { hyperbandAlgorithm } from './hyperband/index.js';
import { pbtAlgorithm } from './pbt/index.js';
import { nsga2Algorithm } from './nsga2/index.js';
import { motpeAlgorithm } from './motpe/index.js';
import { paregoAlgorithm } from './parego/index.js';
import type { SuggestionAlgorithm } from './model.js';

// One line per algorithm.
const ALGORITHMS: ReadonlyMap<string, SuggestionAlgorithm> = new Map(
  [
    randomAlgorithm,
    gridAlgorithm,
    bayesianOptimizationAlgorithm,
    cmaesAlgorithm,
    tpeAlgorithm,
    multivariateTpeAlgorithm,
    sobolAlgorithm,
    hyperbandAlgorithm,
    pbtAlgorithm,
    nsga2Algorithm,
    motpeAlgorithm,
    paregoAlgorithm,
  ].map((a) => [a.name, a]),
);

export function getAlgorithm(name: string): SuggestionAlgorithm | undefined {
  return ALGORITHMS.get(name);
}

/** Known algorithm names, sorted. */
export function algorithmNames(): string[] {
  return [...ALGORITHMS.keys()].sort();
}
