// The labels pbt puts on its trials, with Katib's keys: Katib's controller copies them onto the
// Trial and sends them back with every request, so they are the algorithm's memory.
import type { TrialView } from '../model.js';

export const GENERATION_LABEL = 'pbt.suggestion.katib.kubeflow.org/generation';
/** The trial whose checkpoint (and, when exploiting, hyperparameters) this one starts from. */
export const PARENT_LABEL = 'pbt.suggestion.katib.kubeflow.org/parent';

export function labelsFor(generation: number, parent: string | undefined): Record<string, string> {
  return { [GENERATION_LABEL]: String(generation), ...(parent === undefined ? {} : { [PARENT_LABEL]: parent }) };
}

/** A trial's generation, or undefined when it carries none (it is not pbt's). */
export function generationOf(t: TrialView): number | undefined {
  const raw = t.labels?.[GENERATION_LABEL];
  if (raw === undefined || !/^\d{1,9}$/.test(raw)) return undefined;
  return Number(raw);
}

export function parentOf(t: TrialView): string | undefined {
  const parent = t.labels?.[PARENT_LABEL];
  return parent === undefined || parent === '' ? undefined : parent;
}
