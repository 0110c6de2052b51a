// Benchmark functions for minimisation with their domains and optima
// (definitions and values from ../shared/reference/peers.md §4.1).

export interface BenchmarkFunction {
  readonly name: string;
  readonly bounds: readonly (readonly [number, number])[];
  /** The global minimum f*. */
  readonly optimum: number;
  readonly f: (x: readonly number[]) => number;
}

const at = (x: readonly number[], i: number) => x[i] as number;
const box = (d: number, lo: number, hi: number) => Array.from({ length: d }, () => [lo, hi] as const);

export const branin: BenchmarkFunction = {
  name: 'branin',
  bounds: [[-5, 10], [0, 15]],
  optimum: 5 / (4 * Math.PI),
  f: (x) => {
    const b = 5.1 / (4 * Math.PI ** 2);
    const c = 5 / Math.PI;
    const t = 1 / (8 * Math.PI);
    const x1 = at(x, 0);
    return (at(x, 1) - b * x1 ** 2 + c * x1 - 6) ** 2 + 10 * (1 - t) * Math.cos(x1) + 10;
  },
};

const H6_ALPHA = [1.0, 1.2, 3.0, 3.2];
const H6_A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], [17, 8, 0.05, 10, 0.1, 14]];
const H6_P = [[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, 9991], [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]
  .map((row) => row.map((v) => v * 1e-4));

export const hartmann6: BenchmarkFunction = {
  name: 'hartmann6',
  bounds: box(6, 0, 1),
  optimum: -3.3223680114,
  f: (x) => {
    let sum = 0;
    for (let i = 0; i < 4; i += 1) {
      let inner = 0;
      for (let j = 0; j < 6; j += 1) inner += H6_A[i]![j]! * (at(x, j) - H6_P[i]![j]!) ** 2;
      sum += H6_ALPHA[i]! * Math.exp(-inner);
    }
    return -sum;
  },
};

export function ackley(d: number): BenchmarkFunction {
  return {
    name: `ackley${d}`,
    bounds: box(d, -32.768, 32.768),
    optimum: 0,
    f: (x) => {
      let sq = 0;
      let cos = 0;
      for (let i = 0; i < d; i += 1) {
        sq += at(x, i) ** 2;
        cos += Math.cos(2 * Math.PI * at(x, i));
      }
      return -20 * Math.exp(-0.2 * Math.sqrt(sq / d)) - Math.exp(cos / d) + 20 + Math.E;
    },
  };
}

export function rosenbrock(d: number): BenchmarkFunction {
  return {
    name: `rosenbrock${d}`,
    bounds: box(d, -5, 10),
    optimum: 0,
    f: (x) => {
      let s = 0;
      for (let i = 0; i < d - 1; i += 1) s += 100 * (at(x, i + 1) - at(x, i) ** 2) ** 2 + (at(x, i) - 1) ** 2;
      return s;
    },
  };
}

export const BENCHMARK_FUNCTIONS: readonly BenchmarkFunction[] = [branin, hartmann6, ackley(5), rosenbrock(4)];
