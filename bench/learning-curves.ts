// Learning-curve problems for `npm run bench:early-stopping`: a trial is a curve of one
// accuracy-like value per step (maximised), looked up or computed here so that a trial costs
// nothing at bench time. Two problems:
//
// - `mlp`: a tabular benchmark of examples/mlp/train.mjs. Its validation accuracy per epoch
//   (--epochs 81, --seed 1) for every configuration of a fixed grid, computed once by the bench
//   and cached (bench/results/mlp-curves.json); a suggested learning rate is snapped to the
//   nearest grid value on the log scale.
// - `crossing`: a deterministic simulator whose curves cross: configurations that learn fast
//   plateau low, slow starters end high. The formulas are in bench/README.md; they are
//   implemented identically in bench/learning_curves.py (test/learning-curves.test.ts checks
//   both give the same values).
import type { Assignment, Parameter } from '../suggestion-algorithms/model.js';

/** Steps (epochs) of every curve: 81 = 3^4, so rungs of η = 3 from 1 land on 1, 3, 9, 27, 81. */
export const STEPS = 81;

export interface Problem {
  readonly name: string;
  readonly parameters: readonly Parameter[];
  /** The curve of a configuration, one value per step from step 1 (at most STEPS; shorter if the trial ends by itself). */
  curve(assignment: Assignment): readonly number[];
  /**
   * The curve of a run trained for `steps` steps only, as Sibyl's hyperband gives a trial (a new
   * run each time): for the MLP, `train.mjs --epochs steps`, whose cosine schedule decays within
   * those epochs; where absent, the first `steps` steps of the full curve.
   */
  shortRun?(assignment: Assignment, steps: number): readonly number[] | undefined;
}

// ------------------------------------------------------------------------- hashing

const buffer = new DataView(new ArrayBuffer(8));

/** murmur3's 32-bit finaliser. */
export function fmix32(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** A 32-bit hash of a list of doubles (their IEEE-754 bits, little-endian words) under a seed. */
export function hashDoubles(values: readonly number[], seed: number): number {
  let h = fmix32(seed >>> 0);
  for (const v of values) {
    buffer.setFloat64(0, v, true);
    h = fmix32((h ^ buffer.getUint32(0, true)) >>> 0);
    h = fmix32((h ^ buffer.getUint32(4, true)) >>> 0);
  }
  return h;
}

/** A uniform value in [0, 1) for step `step` of the configuration hashed to `h`. */
export const uniformAt = (h: number, step: number): number => fmix32((h ^ Math.imul(step, 0x9e3779b9)) >>> 0) / 4294967296;

/** Rounds to 6 decimals (half up), as train.mjs prints its metrics. */
export const round6 = (x: number): number => Math.floor(x * 1e6 + 0.5) / 1e6;

// ------------------------------------------------------------------------- the crossing simulator

/** The seed of the simulator's noise: part of the problem's definition, not of a study. */
export const SIM_SEED = 20261204;
export const SIM_LR_MIN = 1e-4;
export const SIM_LR_MAX = 1;

export const SIM_PARAMETERS: readonly Parameter[] = [
  { name: 'learning_rate', parameterType: 'double', min: SIM_LR_MIN, max: SIM_LR_MAX, distribution: 'logUniform' },
  { name: 'width', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
  { name: 'regularization', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
  { name: 'momentum', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
];

export interface SimTerms {
  /** Effective speed: the learning rate's position on its log scale, plus a quarter of the momentum. */
  readonly e: number;
  /** Time constant in steps. */
  readonly tau: number;
  /** Asymptote. */
  readonly asymptote: number;
  /** Late decline at the last step (over-fitting of wide, unregularised models). */
  readonly overfit: number;
  /** Noise amplitude (standard deviation). */
  readonly sigma: number;
}

const num = (a: Assignment, name: string): number => {
  const v = a[name];
  if (typeof v !== 'number') throw new Error(`missing numeric parameter ${name}`);
  return v;
};

export function simTerms(a: Assignment): SimTerms {
  const u = Math.log10(num(a, 'learning_rate') / SIM_LR_MIN) / Math.log10(SIM_LR_MAX / SIM_LR_MIN);
  const w = num(a, 'width');
  const r = num(a, 'regularization');
  const m = num(a, 'momentum');
  const e = u + 0.25 * m;
  return {
    e,
    tau: 40 * 10 ** (-2 * (e - 0.5)) * (1 + w) * (1 + r),
    asymptote: 0.95 - 0.8 * (e - 0.55) ** 2 - 0.12 * (1 - w) ** 2 - 0.15 * (r - 0.4) ** 2,
    overfit: 0.08 * w * (1 - r) ** 2,
    sigma: 0.002 + 0.01 * Math.min(1, e),
  };
}

/** The simulator's curve: y(t) for t = 1..STEPS, in [0, 1], rounded to 6 decimals. */
export function simulatorCurve(a: Assignment): number[] {
  const s = simTerms(a);
  const y0 = 1 / 3;
  const h = hashDoubles([num(a, 'learning_rate'), num(a, 'width'), num(a, 'regularization'), num(a, 'momentum')], SIM_SEED);
  const curve: number[] = [];
  for (let t = 1; t <= STEPS; t++) {
    const clean = y0 + (s.asymptote - y0) * (1 - Math.exp(-t / s.tau)) - s.overfit * (t / STEPS) ** 2;
    const noise = s.sigma * Math.sqrt(3) * (2 * uniformAt(h, t) - 1);
    curve.push(round6(Math.min(1, Math.max(0, clean + noise))));
  }
  return curve;
}

export const crossingProblem: Problem = { name: 'crossing', parameters: SIM_PARAMETERS, curve: simulatorCurve };

// ------------------------------------------------------------------------- the MLP table

/** Learning rates of the grid: 10^(-2 + 2k/7), k = 0..7, at 3 significant digits. */
export const MLP_LEARNING_RATES: readonly number[] = Array.from({ length: 8 }, (_, k) => Number((10 ** (-2 + (2 * k) / 7)).toPrecision(3)));
export const MLP_HIDDEN_LAYERS: readonly number[] = [1, 2, 3, 4];
export const MLP_UNITS: readonly number[] = [4, 8, 16, 32];
export const MLP_SEED = 1;

/** Each grid learning rate owns an equal share of the log scale: the range reaches half a grid step beyond both ends. */
export const MLP_LR_MIN = 10 ** (-2 - 1 / 7);
export const MLP_LR_MAX = 10 ** (1 / 7);

export const MLP_PARAMETERS: readonly Parameter[] = [
  { name: 'learning_rate', parameterType: 'double', min: MLP_LR_MIN, max: MLP_LR_MAX, distribution: 'logUniform' },
  { name: 'hidden_layers', parameterType: 'int', min: 1, max: 4, distribution: 'uniform' },
  { name: 'units', parameterType: 'categorical', list: MLP_UNITS.map(String) },
];

export interface MlpConfig {
  readonly learning_rate: number;
  readonly hidden_layers: number;
  readonly units: number;
}

export interface MlpRow extends MlpConfig {
  /** Validation accuracy per epoch (shorter than STEPS when training diverged and stopped). */
  readonly accuracy: number[];
  readonly loss: number[];
}

export interface MlpTable {
  readonly trainSha256: string;
  readonly epochs: number;
  readonly seed: number;
  readonly rows: MlpRow[];
  /** Runs with fewer epochs (hyperband's budgets below 81: 1, 3, 9, 27), by epochs, in the order of `rows`. */
  readonly shortRuns?: Record<string, number[][]>;
}

/** Hyperband's budgets below STEPS with r_l = 81 and eta = 3. */
export const MLP_SHORT_EPOCHS: readonly number[] = [1, 3, 9, 27];

/** Every configuration of the grid, learning rate outermost. */
export const mlpGrid = (): MlpConfig[] =>
  MLP_LEARNING_RATES.flatMap((learning_rate) => MLP_HIDDEN_LAYERS.flatMap((hidden_layers) => MLP_UNITS.map((units) => ({ learning_rate, hidden_layers, units }))));

/** The grid index of a learning rate: the nearest grid value on the log scale. */
export function mlpLrIndex(lr: number): number {
  const k = Math.round(((Math.log10(lr) + 2) * 7) / 2);
  return Math.min(MLP_LEARNING_RATES.length - 1, Math.max(0, k));
}

const mlpKey = (c: MlpConfig) => `${c.learning_rate}/${c.hidden_layers}/${c.units}`;

export function mlpProblem(table: MlpTable): Problem {
  const index = new Map(table.rows.map((r, i) => [mlpKey(r), i]));
  const rowOf = (a: Assignment): number => {
    const config = { learning_rate: MLP_LEARNING_RATES[mlpLrIndex(num(a, 'learning_rate'))]!, hidden_layers: num(a, 'hidden_layers'), units: Number(a['units']) };
    const i = index.get(mlpKey(config));
    if (i === undefined) throw new Error(`no MLP curve for ${mlpKey(config)}`);
    return i;
  };
  return {
    name: 'mlp',
    parameters: MLP_PARAMETERS,
    curve: (a) => table.rows[rowOf(a)]!.accuracy,
    shortRun: (a, steps) => table.shortRuns?.[String(steps)]?.[rowOf(a)],
  };
}

/** A trial's objective value under the metric strategy `max`: its best reported value. */
export const strategyMax = (values: readonly number[]): number => values.reduce((a, b) => (b > a ? b : a), -Infinity);
