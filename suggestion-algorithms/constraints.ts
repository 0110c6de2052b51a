// What the model-based algorithms share about outcome constraints: a trial's violation as one
// number (0 feasible, Infinity when unknown), and the order "every feasible trial by objective,
// then every infeasible one by violation" (Deb's feasibility rules, "An efficient constraint
// handling method for genetic algorithms", 2000) that constrained TPE (as Optuna 3's
// TPESampler(constraints_func) splits its trials) and CMA-ES both rank by.
import type { TrialView } from './model.js';

/** 0 for a feasible trial (or one of a study without constraints), its violation otherwise. */
export function violationOf(t: TrialView): number {
  return t.feasible === false ? (t.violation ?? Infinity) : 0;
}

export const isFeasible = (t: TrialView): boolean => t.feasible !== false;

/** Whether any trial carries a constraint verdict (a study without constraints has none). */
export const hasInfeasible = (trials: readonly TrialView[]): boolean => trials.some((t) => t.feasible === false);

/**
 * Compares two completed trials: feasible before infeasible; feasible ones by `loss` (smaller
 * better), infeasible ones by violation (smaller better), then by loss.
 */
export function compareConstrained(a: { readonly violation: number; readonly loss: number }, b: { readonly violation: number; readonly loss: number }): number {
  if (a.violation !== b.violation) {
    if (a.violation === 0) return -1;
    if (b.violation === 0) return 1;
    return a.violation < b.violation ? -1 : 1;
  }
  return a.loss < b.loss ? -1 : a.loss > b.loss ? 1 : 0;
}
