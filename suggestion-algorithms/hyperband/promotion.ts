// Successive halving's step: which configs of a finished rung go on to the next one.
import type { Direction, TrialView } from '../model.js';

export const isActive = (t: TrialView): boolean => t.state === 'CREATED' || t.state === 'RUNNING';

/**
 * The value a trial is ranked by, or undefined when it has none. An early-stopped trial counts
 * with the value it reached. FAILED, KILLED and METRICS_UNAVAILABLE trials have no value: they
 * are not promoted (Katib raises instead, and its experiment stalls), so a failure costs its
 * rung a config but never stops the rung or the study.
 */
export function rankValue(t: TrialView): number | undefined {
  if (t.state !== 'SUCCEEDED' && t.state !== 'EARLY_STOPPED') return undefined;
  return t.objectiveValue !== undefined && Number.isFinite(t.objectiveValue) ? t.objectiveValue : undefined;
}

/** A trial that has ended without a value: its slot may be taken by a retry of the same assignment. */
export const endedWithoutValue = (t: TrialView): boolean => !isActive(t) && rankValue(t) === undefined;

/**
 * Indices (into `members`) of the best `k` members with a value, best first. Ties keep slot
 * order, so the choice is deterministic.
 */
export function promote(members: readonly TrialView[], k: number, direction: Direction): number[] {
  const ranked: { index: number; value: number }[] = [];
  members.forEach((t, index) => {
    const value = rankValue(t);
    if (value !== undefined) ranked.push({ index, value });
  });
  const sign = direction === 'maximize' ? -1 : 1;
  ranked.sort((a, b) => sign * (a.value - b.value) || a.index - b.index);
  return ranked.slice(0, Math.max(0, k)).map((r) => r.index);
}
