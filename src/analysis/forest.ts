// A small regression random forest for fANOVA (fanova.ts): bootstrap samples, axis-aligned
// splits that minimise the squared error, thresholds half-way between observed values. Each
// leaf keeps its box (the domain narrowed by the splits above it), which is what fANOVA
// integrates over. Pure and deterministic for a seed. Breiman, "Random Forests" (2001); the
// settings follow what Optuna's FanovaImportanceEvaluator gives scikit-learn's forest.
import { Rng } from '../../suggestion-algorithms/rng.js';

export interface Box {
  readonly lo: Float64Array;
  readonly hi: Float64Array;
}

export interface Leaf extends Box {
  readonly value: number;
}

export interface ForestOptions {
  readonly trees: number;
  readonly seed: number;
  /** Deepest split level (a bound on the work per tree). */
  readonly maxDepth: number;
  /** Fewest samples in a leaf. */
  readonly minLeaf: number;
}

/** Fits `options.trees` trees on rows `x` (each a point in `domain`) and targets `y`; returns each tree's leaves. */
export function fitForest(x: readonly Float64Array[], y: readonly number[], domain: Box, options: ForestOptions): Leaf[][] {
  const forest: Leaf[][] = [];
  const n = x.length;
  const width = domain.lo.length;
  // Each column's order, sorted once: a node's samples stay a contiguous range of every order
  // (partitioned stably at each split), so finding a split is one scan per feature, not a sort.
  const sorted = Array.from({ length: width }, (_, f) =>
    Int32Array.from(Array.from({ length: n }, (_, i) => i).sort((a, b) => ((x[a] as Float64Array)[f] as number) - ((x[b] as Float64Array)[f] as number) || a - b)));
  for (let t = 0; t < options.trees; t++) {
    const rng = new Rng(options.seed, t);
    // The bootstrap sample: copies of each row, laid out row by row (positions of a row's copies are consecutive).
    const copies = new Int32Array(n);
    for (let i = 0; i < n; i++) copies[rng.int(n)]! += 1;
    const firstCopy = new Int32Array(n);
    const rows: number[] = [];
    for (let r = 0; r < n; r++) {
      firstCopy[r] = rows.length;
      for (let c = 0; c < (copies[r] as number); c++) rows.push(r);
    }
    const columns = Array.from({ length: width }, (_, f) => Float64Array.from(rows, (r) => (x[r] as Float64Array)[f] as number));
    const targets = Float64Array.from(rows, (r) => y[r] as number);
    const orders = sorted.map((order) => {
      const out = new Int32Array(rows.length);
      let k = 0;
      for (const r of order) for (let c = 0; c < (copies[r] as number); c++) out[k++] = (firstCopy[r] as number) + c;
      return out;
    });
    const leaves: Leaf[] = [];
    const tree: Tree = { columns, targets, orders, goesLeft: new Uint8Array(rows.length), scratch: new Int32Array(rows.length), options, leaves };
    grow(tree, 0, rows.length, { lo: Float64Array.from(domain.lo), hi: Float64Array.from(domain.hi) }, 0);
    forest.push(leaves);
  }
  return forest;
}

interface Tree {
  readonly columns: readonly Float64Array[];
  readonly targets: Float64Array;
  readonly orders: readonly Int32Array[];
  readonly goesLeft: Uint8Array;
  readonly scratch: Int32Array;
  readonly options: ForestOptions;
  readonly leaves: Leaf[];
}

/** Grows the node holding positions [start, end) of every order. */
function grow(tree: Tree, start: number, end: number, box: Box, depth: number): void {
  const { options } = tree;
  const split = depth < options.maxDepth && end - start >= 2 * options.minLeaf ? bestSplit(tree, start, end) : undefined;
  if (!split) {
    let sum = 0;
    const order = tree.orders[0] as Int32Array;
    for (let i = start; i < end; i++) sum += tree.targets[order[i] as number] as number;
    tree.leaves.push({ ...box, value: sum / (end - start) });
    return;
  }
  const mid = start + split.leftCount;
  const chosen = tree.orders[split.feature] as Int32Array;
  for (let i = start; i < end; i++) tree.goesLeft[chosen[i] as number] = i < mid ? 1 : 0;
  for (const order of tree.orders) partition(order, start, end, tree.goesLeft, tree.scratch);
  const leftBox = { lo: Float64Array.from(box.lo), hi: Float64Array.from(box.hi) };
  const rightBox = { lo: Float64Array.from(box.lo), hi: Float64Array.from(box.hi) };
  leftBox.hi[split.feature] = split.threshold;
  rightBox.lo[split.feature] = split.threshold;
  grow(tree, start, mid, leftBox, depth + 1);
  grow(tree, mid, end, rightBox, depth + 1);
}

/** Stable: the left samples of [start, end) first, then the right ones, each in their order. */
function partition(order: Int32Array, start: number, end: number, goesLeft: Uint8Array, scratch: Int32Array): void {
  let l = start;
  let r = 0;
  for (let i = start; i < end; i++) {
    const s = order[i] as number;
    if (goesLeft[s]) order[l++] = s;
    else scratch[r++] = s;
  }
  order.set(scratch.subarray(0, r), l);
}

/** The split with the largest drop in squared error (first feature, then lowest threshold, on ties); none if nothing drops. */
function bestSplit(tree: Tree, start: number, end: number): { feature: number; threshold: number; leftCount: number } | undefined {
  const { targets, options } = tree;
  const n = end - start;
  const minLeaf = options.minLeaf;
  let total = 0;
  let squares = 0;
  const first = tree.orders[0] as Int32Array;
  for (let i = start; i < end; i++) {
    const v = targets[first[i] as number] as number;
    total += v;
    squares += v * v;
  }
  const error = squares - (total * total) / n;
  if (!(error > 1e-12 * squares)) return undefined; // (nearly) constant: nothing to explain
  // Maximising sumL²/nL + sumR²/nR is minimising the children's squared error; a split must
  // remove more than rounding noise of it.
  let bestScore = (total * total) / n + 1e-9 * error;
  let best: { feature: number; threshold: number; leftCount: number } | undefined;
  tree.orders.forEach((order, f) => {
    const col = tree.columns[f] as Float64Array;
    let left = 0;
    for (let i = start; i < end - 1; i++) {
      const s = order[i] as number;
      left += targets[s] as number;
      const count = i - start + 1;
      const here = col[s] as number;
      const next = col[order[i + 1] as number] as number;
      if (here === next || count < minLeaf || n - count < minLeaf) continue;
      const right = total - left;
      const score = (left * left) / count + (right * right) / (n - count);
      if (score > bestScore) {
        bestScore = score;
        best = { feature: f, threshold: (here + next) / 2, leftCount: count };
      }
    }
  });
  return best;
}
