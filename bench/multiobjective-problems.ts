// Multi-objective benchmark problems with known Pareto fronts, all minimised, on [0,1]^n:
// ZDT1, ZDT2, ZDT3 (Zitzler, Deb & Thiele 2000) with their standard n = 30, and DTLZ2 (Deb,
// Thiele, Laumanns & Zitzler 2002) with 3 objectives and n = M + k − 1 = 12 (k = 10).
// Reference points: (11, 11) for ZDT (every point of [0,1]^30 has f1 ≤ 1, f2 ≤ 10) and
// (4, 4, 4) for DTLZ2 (every objective ≤ 1 + g ≤ 3.5).
import type { Parameter } from '../suggestion-algorithms/model.js';

export interface MultiObjectiveProblem {
  readonly name: string;
  readonly dims: number;
  readonly objectives: number;
  readonly reference: readonly number[];
  /** The hypervolume of the true front against `reference` (the best any set can reach). */
  readonly optimalHypervolume: number;
  evaluate(x: readonly number[]): number[];
}

const zdtG = (x: readonly number[]) => 1 + (9 * x.slice(1).reduce((a, b) => a + b, 0)) / (x.length - 1);

/** ZDT3's front is disconnected: its hypervolume against (11, 11), by numeric integration of the non-dominated part. */
function zdt3Optimal(): number {
  const n = 200_000;
  const f2 = (f1: number) => 1 - Math.sqrt(f1) - f1 * Math.sin(10 * Math.PI * f1);
  let area = 0;
  let low = Infinity;
  // Sweep f1 upwards over g = 1; the dominated region's lower envelope is the running minimum of f2.
  for (let i = 0; i <= n; i++) {
    const f1 = i / n;
    low = Math.min(low, f2(f1));
    area += (11 - low) / n;
  }
  return area + 10 * (11 - low); // f1 from 1 to 11: under the envelope's lowest value
}

export const MULTI_OBJECTIVE_PROBLEMS: readonly MultiObjectiveProblem[] = [
  {
    name: 'zdt1', dims: 30, objectives: 2, reference: [11, 11], optimalHypervolume: 121 - 1 / 3,
    evaluate: (x) => { const g = zdtG(x); return [x[0]!, g * (1 - Math.sqrt(x[0]! / g))]; },
  },
  {
    name: 'zdt2', dims: 30, objectives: 2, reference: [11, 11], optimalHypervolume: 121 - 2 / 3,
    evaluate: (x) => { const g = zdtG(x); return [x[0]!, g * (1 - (x[0]! / g) ** 2)]; },
  },
  {
    name: 'zdt3', dims: 30, objectives: 2, reference: [11, 11], optimalHypervolume: zdt3Optimal(),
    evaluate: (x) => { const g = zdtG(x); const r = x[0]! / g; return [x[0]!, g * (1 - Math.sqrt(r) - r * Math.sin(10 * Math.PI * x[0]!))]; },
  },
  {
    name: 'dtlz2', dims: 12, objectives: 3, reference: [4, 4, 4], optimalHypervolume: 64 - Math.PI / 6,
    evaluate: (x) => {
      const g = x.slice(2).reduce((a, v) => a + (v - 0.5) ** 2, 0);
      const [a, b] = [x[0]! * Math.PI / 2, x[1]! * Math.PI / 2];
      return [(1 + g) * Math.cos(a) * Math.cos(b), (1 + g) * Math.cos(a) * Math.sin(b), (1 + g) * Math.sin(a)];
    },
  },
];

/** The problem's search space: x0 … x(n−1), doubles in [0, 1]. */
export function problemParameters(problem: { readonly dims: number }): Parameter[] {
  return Array.from({ length: problem.dims }, (_, i) => ({ name: `x${i}`, parameterType: 'double' as const, min: 0, max: 1, distribution: 'uniform' as const }));
}

/** The algorithms built for several objectives (benched here, not on the single-objective problems). */
export const MULTI_OBJECTIVE_ALGORITHMS: readonly string[] = ['nsga2', 'motpe', 'parego'];
