// Order statistics for the store benches: nearest-rank quantiles of a sample of times (ms).
export interface Stats { median: number; p90: number; p99: number; max: number; n: number }

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export function stats(values: readonly number[]): Stats {
  const s = [...values].sort((a, b) => a - b);
  return { median: quantile(s, 0.5), p90: quantile(s, 0.9), p99: quantile(s, 0.99), max: s[s.length - 1] ?? Number.NaN, n: s.length };
}

export const nowMs = () => Number(process.hrtime.bigint()) / 1e6;
