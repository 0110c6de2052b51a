// Pareto dominance, non-dominated sorting, crowding distance and hypervolume: the one place
// for the multi-objective rules, shared by the algorithms, the store's Pareto front, the APIs
// and the bench. Values are compared as minimised (a maximised objective is negated first).
import type { Direction, TrialView } from './model.js';

/** A trial's values as minimised values: maximised objectives negated. */
export function minimized(values: readonly number[], directions: readonly Direction[]): number[] {
  return values.map((v, i) => (directions[i] === 'maximize' ? -v : v));
}

/** a dominates b: no worse in every objective and better in one (both minimised). */
export function dominates(a: readonly number[], b: readonly number[]): boolean {
  let better = false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]! > b[i]!) return false;
    if (a[i]! < b[i]!) better = true;
  }
  return better;
}

/**
 * Whether a trial takes part in the Pareto front: it completed (SUCCEEDED, or EARLY_STOPPED with
 * its values, as Katib counts it) with a value for every objective, and is not infeasible
 * (outcome constraints: an infeasible trial is never best, so never on the front either).
 */
export function onFrontCandidate(t: TrialView, objectives: number): t is TrialView & { objectiveValues: readonly number[] } {
  return (t.state === 'SUCCEEDED' || t.state === 'EARLY_STOPPED') && t.feasible !== false && t.objectiveValues !== undefined && t.objectiveValues.length === objectives
    && t.objectiveValues.every(Number.isFinite);
}

/**
 * The Pareto front of a study's trials: the candidates no other candidate dominates, in the
 * trials' order. Trials with equal values dominate none of each other, so duplicates are all on it.
 */
export function paretoFront<T extends TrialView>(trials: readonly T[], directions: readonly Direction[]): T[] {
  const candidates = trials.filter((t) => onFrontCandidate(t, directions.length));
  const points = candidates.map((t) => minimized(t.objectiveValues!, directions));
  return candidates.filter((_, i) => !points.some((p, j) => j !== i && dominates(p, points[i]!)));
}

/**
 * Non-domination rank of each point (0 = the front), by Deb et al. 2002's fast non-dominated
 * sort: O(M N²).
 */
export function nonDominatedRanks(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  const dominatedBy = new Array<number>(n).fill(0);
  const dominating: number[][] = points.map(() => []);
  for (let i = 0; i < n; i++) {
    for (let j = i + 1; j < n; j++) {
      if (dominates(points[i]!, points[j]!)) { dominating[i]!.push(j); dominatedBy[j]!++; }
      else if (dominates(points[j]!, points[i]!)) { dominating[j]!.push(i); dominatedBy[i]!++; }
    }
  }
  const rank = new Array<number>(n).fill(-1);
  let front = [...Array(n).keys()].filter((i) => dominatedBy[i] === 0);
  for (let r = 0; front.length > 0; r++) {
    const next: number[] = [];
    for (const i of front) {
      rank[i] = r;
      for (const j of dominating[i]!) if (--dominatedBy[j]! === 0) next.push(j);
    }
    front = next;
  }
  return rank;
}

/** Crowding distance of each point of one front (Deb et al. 2002, §III-B): boundary points are infinite. */
export function crowdingDistances(points: readonly (readonly number[])[]): number[] {
  const n = points.length;
  const distance = new Array<number>(n).fill(0);
  if (n === 0) return distance;
  const m = points[0]!.length;
  for (let k = 0; k < m; k++) {
    const order = [...Array(n).keys()].sort((a, b) => points[a]![k]! - points[b]![k]!);
    const lo = points[order[0]!]![k]!;
    const hi = points[order[n - 1]!]![k]!;
    distance[order[0]!] = Infinity;
    distance[order[n - 1]!] = Infinity;
    if (hi === lo) continue;
    for (let i = 1; i < n - 1; i++) {
      distance[order[i]!]! += (points[order[i + 1]!]![k]! - points[order[i - 1]!]![k]!) / (hi - lo);
    }
  }
  return distance;
}

/**
 * The hypervolume the (minimised) points dominate up to the reference point: exact in any
 * dimension, by slicing along the last objective (exact sweep in 2-D; O(N^(d-1) log N)), which
 * is fast for the few hundred points of a study. Points not strictly better than the
 * reference in every objective add nothing.
 */
export function hypervolume(points: readonly (readonly number[])[], reference: readonly number[]): number {
  const inside = points.filter((p) => p.every((v, i) => v < reference[i]!));
  return hv(inside, reference);
}

function hv(points: readonly (readonly number[])[], reference: readonly number[]): number {
  if (points.length === 0) return 0;
  const d = reference.length;
  if (d === 1) return reference[0]! - Math.min(...points.map((p) => p[0]!));
  if (d === 2) {
    const sorted = [...points].sort((a, b) => a[0]! - b[0]! || a[1]! - b[1]!);
    let volume = 0;
    let bestY = reference[1]!;
    for (const p of sorted) {
      if (p[1]! < bestY) {
        volume += (reference[0]! - p[0]!) * (bestY - p[1]!);
        bestY = p[1]!;
      }
    }
    return volume;
  }
  // Slabs between successive values of the last objective: each is the (d−1)-volume of the
  // points at or below it, times its thickness.
  const sorted = [...points].sort((a, b) => a[d - 1]! - b[d - 1]!);
  const lower = reference.slice(0, d - 1);
  let volume = 0;
  for (let i = 0; i < sorted.length; i++) {
    const top = i + 1 < sorted.length ? sorted[i + 1]![d - 1]! : reference[d - 1]!;
    const thickness = top - sorted[i]![d - 1]!;
    if (thickness > 0) volume += thickness * hv(sorted.slice(0, i + 1).map((p) => p.slice(0, d - 1)), lower);
  }
  return volume;
}

/** Each point's exclusive hypervolume contribution: what the set loses without it. */
export function hypervolumeContributions(points: readonly (readonly number[])[], reference: readonly number[]): number[] {
  const total = hypervolume(points, reference);
  return points.map((_, i) => total - hypervolume(points.filter((__, j) => j !== i), reference));
}
