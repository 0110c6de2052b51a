// TPE's view of the history: one value per parameter (numeric on the unit-cube scale, categorical
// as the choice index, so choices are modelled natively rather than one-hot), and the split of
// finished trials into a good group (→ l(x)) and a bad group (→ g(x)) with Optuna's weights.
import type { Assignment } from '../model.js';
import type { History } from '../history.js';
import { compareConstrained } from '../constraints.js';
import type { Column, UnitCube } from '../transform.js';
import type { Group, ParamKind } from './parzen.js';

export interface ParameterSpace {
  readonly kinds: readonly ParamKind[];
  /** A unit-cube point as one value per parameter. */
  toRow(x: ArrayLike<number>, rows: Float64Array, row: number): void;
  /** A row back to a valid assignment (rounding ints and steps, snapping log values). */
  decodeRow(rows: Float64Array, row: number): Assignment;
  /**
   * Moves parameter `param` of row `row` onto its grid if it has one (int or stepped), as Optuna
   * rounds its candidates before scoring them; continuous and categorical values stay as they are.
   */
  snap(rows: Float64Array, row: number, param: number): void;
}

/** Rounds a [0,1] value of a gridded range column to the [0,1] value of the nearest grid point. */
function gridSnapper(c: Extract<Column, { kind: 'range' }>): ((u: number) => number) | undefined {
  const step = c.step;
  if (step === undefined) return undefined;
  const { min, max } = c.parameter;
  const span = c.hi - c.lo;
  const last = Math.floor((max - min) / step + 1e-9);
  return (u) => {
    const scaled = c.lo + (u < 0 ? 0 : u > 1 ? 1 : u) * span;
    const value = c.log ? Math.exp(scaled) : scaled;
    const k = Math.min(last, Math.max(0, Math.round((value - min) / step)));
    const onGrid = min + k * step;
    return ((c.log ? Math.log(onGrid) : onGrid) - c.lo) / span;
  };
}

export function parameterSpace(cube: UnitCube): ParameterSpace {
  const columns = cube.columns;
  const width = columns.length;
  // Linear grids score a candidate by its cell's mass (Optuna 3.1's q-bounds); on a log scale
  // Optuna has no cells, so a snapped log value is scored by the continuous density.
  const kinds: ParamKind[] = columns.map((c) => {
    if (c.kind !== 'range') return { kind: 'categorical', size: c.size };
    return c.step === undefined || c.log ? { kind: 'numeric' } : { kind: 'numeric', halfCell: c.step / 2 / (c.hi - c.lo) };
  });
  const snappers = columns.map((c) => (c.kind === 'range' ? gridSnapper(c) : undefined));
  const point = new Float64Array(cube.dims);
  return {
    kinds,
    toRow(x, rows, row) {
      columns.forEach((c, p) => {
        let value = 0;
        if (c.kind === 'range') value = x[c.index] as number;
        else for (let k = 1; k < c.size; k++) if ((x[c.index + k] as number) > (x[c.index + value] as number)) value = k;
        rows[row * width + p] = value;
      });
    },
    decodeRow(rows, row) {
      point.fill(0);
      columns.forEach((c, p) => {
        const value = rows[row * width + p] as number;
        if (c.kind === 'range') point[c.index] = value;
        else point[c.index + value] = 1;
      });
      return cube.decode(point);
    },
    snap(rows, row, param) {
      const snapper = snappers[param];
      if (snapper) rows[row * width + param] = snapper(rows[row * width + param] as number);
    },
  };
}

/**
 * Optuna's default_weights over `n` observations in trial order: the 25 newest weigh 1, older
 * ones ramp down linearly towards 1/n, so the model slowly forgets the early exploration.
 */
export function observationWeights(n: number): Float64Array {
  const weights = new Float64Array(n).fill(1);
  const FLAT = 25;
  const ramp = n - FLAT;
  if (ramp <= 0) return weights;
  for (let i = 0; i < ramp; i++) weights[i] = ramp === 1 ? 1 / n : 1 / n + ((1 - 1 / n) * i) / (ramp - 1);
  return weights;
}

/**
 * Weights of the good group's observations in l(x), from their losses (in trial order), for a
 * caller that weighs them its own way (`motpe`: by hypervolume contribution); by default
 * Optuna's age ramp, observationWeights.
 */
export type GoodWeights = (losses: readonly number[]) => Float64Array;

/** What a TPE models: parameters jointly or one by one, and how large its good group is and how weighted. */
export interface TpeVariant {
  readonly multivariate: boolean;
  /** The good fraction when no `gamma` is set (Optuna's 0.1 by default; see goodCount). */
  readonly goodFraction?: number;
  readonly goodWeights?: GoodWeights;
}

export interface Split {
  readonly good: Group;
  /** Bad finished trials first, then room for pending points (constant liar). */
  readonly bad: GrowableGroup;
}

/** A group that pending points can be appended to while a batch is built. */
export class GrowableGroup implements Group {
  rows: Float64Array;
  n: number;
  weights: Float64Array;
  private readonly width: number;

  constructor(width: number, rows: Float64Array, n: number, capacity: number) {
    this.width = width;
    this.rows = new Float64Array(Math.max(capacity, n) * width);
    this.rows.set(rows.subarray(0, n * width));
    this.n = n;
    this.weights = observationWeights(n);
  }

  /** Appends a point as the newest observation; weights follow Optuna's rule for the new size. */
  push(row: Float64Array, at: number): void {
    const w = this.width;
    if ((this.n + 1) * w > this.rows.length) {
      const grown = new Float64Array(Math.max(1, this.n + 1) * 2 * w);
      grown.set(this.rows);
      this.rows = grown;
    }
    this.rows.set(row.subarray(at * w, at * w + w), this.n * w);
    this.n += 1;
    this.weights = observationWeights(this.n);
  }
}

/**
 * Splits finished trials by loss into the `goodCount` best and the rest, each kept in trial
 * order (weights depend on age). With outcome constraints the ranking is Optuna's constrained
 * TPE's: feasible trials by loss first, then infeasible ones by violation, so an infeasible
 * trial is good only while fewer feasible trials than `goodCount` exist (the least violating
 * then lead the search towards feasibility) and is otherwise always in the bad group. Each kept in trial
 * order (weights depend on age), and puts the pending points into the bad group: with the
 * constant liar, a point being evaluated is assumed bad, so new proposals keep away from it.
 */
export function splitHistory(space: ParameterSpace, history: History, goodCount: number, extraCapacity: number, goodWeights?: GoodWeights): Split {
  const width = space.kinds.length;
  const obs = history.observations;
  const order = obs.map((_, i) => i).sort((a, b) => compareConstrained(obs[a]!, obs[b]!) || a - b);
  const isGood = new Uint8Array(obs.length);
  for (let i = 0; i < goodCount && i < order.length; i++) isGood[order[i] as number] = 1;

  const goodRows = new Float64Array(goodCount * width);
  const badRows = new Float64Array((obs.length - goodCount + history.pending.length) * width);
  let nGood = 0;
  let nBad = 0;
  const goodLosses: number[] = [];
  obs.forEach((o, i) => {
    if (isGood[i]) {
      space.toRow(o.x, goodRows, nGood++);
      goodLosses.push(o.loss);
    } else space.toRow(o.x, badRows, nBad++);
  });
  for (const x of history.pending) space.toRow(x, badRows, nBad++);
  return {
    good: { rows: goodRows, n: nGood, weights: goodWeights ? goodWeights(goodLosses) : observationWeights(nGood) },
    bad: new GrowableGroup(width, badRows, nBad, nBad + extraCapacity),
  };
}

/**
 * The rows of `group` whose categorical values match `held` (undefined = any value), in their
 * order, weighted by Optuna's rule for the smaller group: the observations of one category.
 */
export function rowsMatching(group: Group, width: number, held: readonly (number | undefined)[]): Group {
  const keep: number[] = [];
  for (let k = 0; k < group.n; k++) {
    if (held.every((v, p) => v === undefined || group.rows[k * width + p] === v)) keep.push(k);
  }
  const rows = new Float64Array(keep.length * width);
  keep.forEach((k, i) => rows.set(group.rows.subarray(k * width, k * width + width), i * width));
  return { rows, n: keep.length, weights: observationWeights(keep.length) };
}
