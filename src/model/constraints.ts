// Outcome constraints ("latency ≤ 20"): a bound on a metric that a trial's result must satisfy.
// One rule decides a trial's feasibility and violation, for the scheduler (ask/tell and runtime
// trials alike) and for anything that re-checks a value.

/** At least one bound; `min` ≤ value ≤ `max`, both inclusive. */
export type MetricConstraint =
  | { readonly metricName: string; readonly min: number; readonly max?: number }
  | { readonly metricName: string; readonly min?: number; readonly max: number };

/**
 * A completed trial's standing against its study's constraints. `violation` is how far past its
 * bounds the trial is, summed over the constraints (0 when feasible, as Optuna sums its positive
 * constraint values); it is absent when a constraint's metric was never reported, which makes the
 * trial infeasible with an unknown (worst) violation.
 */
export type Feasibility = { readonly feasible: true; readonly violation: 0 } | { readonly feasible: false; readonly violation?: number };

/** How far `value` is outside one constraint's bounds (0 inside). */
export function excess(c: MetricConstraint, value: number): number {
  if (c.max !== undefined && value > c.max) return value - c.max;
  if (c.min !== undefined && value < c.min) return c.min - value;
  return 0;
}

/** The trial's feasibility from each constraint metric's strategy value (undefined: never reported). */
export function feasibilityOf(constraints: readonly MetricConstraint[], valueOf: (metric: string) => number | undefined): Feasibility {
  let violation = 0;
  let missing = false;
  for (const c of constraints) {
    const v = valueOf(c.metricName);
    if (v === undefined) missing = true;
    else violation += excess(c, v);
  }
  if (missing) return { feasible: false };
  // A violation too small to tell from 0 still breaks a bound: it stays positive.
  return violation > 0 ? { feasible: false, violation } : { feasible: true, violation: 0 };
}

/** A constraint as people write it: `latency <= 20`, `10 <= rps`, `0.1 <= loss <= 2`. */
export function describeConstraint(c: MetricConstraint): string {
  if (c.min !== undefined && c.max !== undefined) return `${c.min} <= ${c.metricName} <= ${c.max}`;
  return c.max !== undefined ? `${c.metricName} <= ${c.max}` : `${c.metricName} >= ${c.min}`;
}

/** A trial's standing as the CLI and the dashboard print it: `yes`, `no (+2.5)`, `no (metric missing)`, `-` (not judged). */
export function feasibilityText(feasible: boolean | null | undefined, violation: number | null | undefined): string {
  if (feasible === null || feasible === undefined) return '-';
  if (feasible) return 'yes';
  return violation === null || violation === undefined ? 'no (metric missing)' : `no (+${Number(violation.toPrecision(6))})`;
}
