// The algorithms Sibyl serves, by Katib `algorithmName`.
import { SpecError } from '../src/spec/errors.js';
import type { StudySpec } from '../src/spec/types.js';
import { gridAlgorithm } from './grid/index.js';
import { bayesianOptimizationAlgorithm } from './bayesianoptimization/index.js';
import { cmaesAlgorithm } from './cmaes/index.js';
import { randomAlgorithm } from './random/index.js';
import { multivariateTpeAlgorithm, tpeAlgorithm } from './tpe/index.js';
import { sobolAlgorithm } from './sobol/index.js';
import type { SuggestionAlgorithm } from './types.js';

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
  ].map((a) => [a.name, a]),
);

export function getAlgorithm(name: string): SuggestionAlgorithm | undefined {
  return ALGORITHMS.get(name);
}

/** Known algorithm names, sorted. */
export function algorithmNames(): string[] {
  return [...ALGORITHMS.keys()].sort();
}

/** Throws SpecError for an unknown algorithm name or for settings/spaces the algorithm rejects. */
export function validateAlgorithm(spec: StudySpec): void {
  const name = spec.algorithm.algorithmName;
  const algorithm = getAlgorithm(name);
  if (algorithm === undefined) {
    throw new SpecError('spec.algorithm.algorithmName', `unknown algorithm ${JSON.stringify(name)} (known: ${algorithmNames().join(', ')})`);
  }
  algorithm.validate(spec);
}
