// What the multi-objective algorithms read of a study: its directions and, for each finished
// trial, its objective vector as minimised values (pareto.ts holds the dominance rules).
import type { Direction, SearchSpace, TrialView } from './model.js';
import { minimized, onFrontCandidate } from './pareto.js';

/** Each objective's direction: `directions`, or the one objective of a single-objective study. */
export function directionsOf(space: SearchSpace): readonly Direction[] {
  return space.directions ?? [space.direction];
}

export interface Scored<T extends TrialView = TrialView> {
  readonly trial: T;
  /** Its objective values, minimised (maximised ones negated). */
  readonly loss: number[];
}

/** The finished trials with every objective's value (the single value in a single-objective study). */
export function scoredTrials<T extends TrialView>(space: SearchSpace, trials: readonly T[]): Scored<T>[] {
  const directions = directionsOf(space);
  const out: Scored<T>[] = [];
  for (const t of trials) {
    const view = space.directions ? t : t.objectiveValue === undefined ? t : { ...t, objectiveValues: [t.objectiveValue] };
    if (onFrontCandidate(view, directions.length)) out.push({ trial: t, loss: minimized(view.objectiveValues, directions) });
  }
  return out;
}

/** Losses rescaled to [0,1] per objective by their observed range (a constant objective maps to 0). */
export function normalizedLosses(losses: readonly (readonly number[])[]): number[][] {
  if (losses.length === 0) return [];
  const m = losses[0]!.length;
  const lo = Array.from({ length: m }, (_, k) => Math.min(...losses.map((l) => l[k]!)));
  const hi = Array.from({ length: m }, (_, k) => Math.max(...losses.map((l) => l[k]!)));
  return losses.map((l) => l.map((v, k) => (hi[k]! > lo[k]! ? (v - lo[k]!) / (hi[k]! - lo[k]!) : 0)));
}
