// The early-stopping policies Sibyl serves, by Katib `earlyStopping.algorithmName`.
import { ashaPolicy } from './asha.js';
import { curveFitPolicy } from './curvefit.js';
import { medianStopPolicy } from './medianstop.js';
import type { EarlyStoppingPolicy } from './model.js';

const POLICIES: ReadonlyMap<string, EarlyStoppingPolicy> = new Map([medianStopPolicy, ashaPolicy, curveFitPolicy].map((p) => [p.name, p]));

export function getPolicy(name: string): EarlyStoppingPolicy | undefined {
  return POLICIES.get(name);
}

/** Known policy names, sorted. */
export function policyNames(): string[] {
  return [...POLICIES.keys()].sort();
}
