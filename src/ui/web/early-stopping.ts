// Early stopping as the dashboard words it: what a study's policy saved, and where a trial was
// stopped. Plain strings only: the pages put them in the DOM as text (dom.ts), the charts in
// tooltips through tooltipText (charts.ts).
import type { Study, Trial } from './types.js';

export type EarlyStoppingSummary = NonNullable<Study['earlyStopping']>;

/** A trial its policy stopped (and that has ended so). */
export const isEarlyStopped = (t: Trial): boolean => t.state === 'EARLY_STOPPED';

/** The stopped trials' unrun steps as a share of all steps, had none been stopped (%, rounded); null before any step. */
export function savedShare(e: EarlyStoppingSummary): number | null {
  const budget = e.stepsRun + e.stepsSaved;
  return budget > 0 ? Math.round((100 * e.stepsSaved) / budget) : null;
}

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

/** "Early stopping (medianstop): 3 trials stopped · 65 steps run · 15 steps saved (19% of the budget)". */
export function savedText(e: EarlyStoppingSummary): string {
  const share = savedShare(e);
  return `Early stopping (${e.algorithm}): ${plural(e.trialsStopped, 'trial', 'trials')} stopped · ${plural(e.stepsRun, 'step', 'steps')} run · `
    + `${plural(e.stepsSaved, 'step', 'steps')} saved${share === null ? '' : ` (${share}% of the budget)`}`;
}

/** What `stepsSaved` counts, for a title. */
export const SAVED_HINT = 'steps the stopped trials did not run, each counted up to the longest trial that ran to its end';

/** The tooltip line of a stop marker. */
export const stoppedAtLine = (step: number): string => `early stopped at step ${step}`;
