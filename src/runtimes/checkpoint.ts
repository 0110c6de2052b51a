// Which trials keep a checkpoint, and whose they start from. Katib's rule: a study whose
// algorithm settings name a `suggestion_trial_dir` gets a checkpoint folder per trial, mounted
// at that path; pbt's parent label names the trial whose folder a new one starts as a copy of.
import { PARENT_LABEL } from '../../suggestion-algorithms/pbt/labels.js';
import type { CheckpointRequest } from './types.js';
import type { StudySpec } from '../spec/types.js';
import type { TrialRecord } from '../store/store.js';

/** Katib's key for the setting (pkg/controller.v1beta1/consts: SuggestionVolumeMountKey). */
export const CHECKPOINT_SETTING = 'suggestion_trial_dir';

export function checkpointMountPath(spec: StudySpec): string | undefined {
  const value = spec.algorithm.algorithmSettings.find((s) => s.name === CHECKPOINT_SETTING)?.value.trim();
  return value === undefined || value === '' ? undefined : value;
}

/** The launch request's `checkpoint` field, as an object to spread (empty when the study keeps none). */
export function checkpointOf(spec: StudySpec, trial: Pick<TrialRecord, 'labels'>): { checkpoint?: CheckpointRequest } {
  const mountPath = checkpointMountPath(spec);
  if (mountPath === undefined) return {};
  const parentTrial = trial.labels?.[PARENT_LABEL];
  return { checkpoint: { mountPath, ...(parentTrial ? { parentTrial } : {}) } };
}
