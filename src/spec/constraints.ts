// `objective.constraints` (Sibyl's extension of Katib's objective): bounds on the study's
// additional metrics that a trial's result must meet, e.g. [{metricName: latency, max: 20}].
import type { MetricConstraint } from '../model/constraints.js';
import { LIMITS } from '../model/limits.js';
import { SpecError } from './errors.js';
import * as read from './read.js';

/**
 * The constraints of an objective: each names one of `additionalMetricNames` (its metric strategy
 * gives the trial's value), once, with a finite `min`, `max` or both (min ≤ max). A bound on the
 * objective metric itself is refused: the objective is optimised, and its `goal` ends the study.
 */
export function readConstraints(v: unknown, path: string, objectiveMetrics: readonly string[], additionalMetricNames: readonly string[]): MetricConstraint[] | undefined {
  if (v === undefined || v === null) return undefined;
  const items = read.list(v, path, LIMITS.maxConstraints);
  const seen = new Set<string>();
  const constraints = items.map((x, i): MetricConstraint => {
    const p = `${path}[${i}]`;
    const o = read.object(x, p);
    read.noUnknownKeys(o, p, ['metricName', 'min', 'max']);
    const metricName = read.identifier(o['metricName'], `${p}.metricName`);
    if (objectiveMetrics.includes(metricName)) {
      throw new SpecError(`${p}.metricName`, `must not be the objective metric "${metricName}" (it is optimised, not bounded; see objective.goal)`);
    }
    if (!additionalMetricNames.includes(metricName)) {
      throw new SpecError(`${p}.metricName`, `names no additional metric of this study: add "${metricName}" to objective.additionalMetricNames`);
    }
    if (seen.has(metricName)) throw new SpecError(`${p}.metricName`, `duplicate constraint on "${metricName}" (give min and max in one entry)`);
    seen.add(metricName);
    const min = read.optionalNumber(o['min'], `${p}.min`);
    const max = read.optionalNumber(o['max'], `${p}.max`);
    if (min !== undefined && max !== undefined) {
      if (min > max) throw new SpecError(`${p}.min`, `must be ≤ max (got min ${min}, max ${max})`);
      return { metricName, min, max };
    }
    if (min !== undefined) return { metricName, min };
    if (max !== undefined) return { metricName, max };
    throw new SpecError(p, 'needs a bound: min, max or both');
  });
  return constraints.length === 0 ? undefined : constraints;
}
