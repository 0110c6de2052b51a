import type { MetricStrategy } from '../spec/types.js';

/** Reduces a metric's observations (in arrival order) to one value; undefined when none. */
export function summarize(values: readonly number[], strategy: MetricStrategy): number | undefined {
  if (values.length === 0) return undefined;
  switch (strategy) {
    case 'latest':
      return values[values.length - 1];
    case 'min':
      return values.reduce((a, b) => (b < a ? b : a));
    case 'max':
      return values.reduce((a, b) => (b > a ? b : a));
  }
}
