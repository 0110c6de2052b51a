// pbt's settings, as Katib names them: `suggestion_trial_dir`, `n_population` and
// `truncation_threshold` are required, `resample_probability` is optional. Katib's validator
// checks the same bounds; where it crashes instead (a missing step, see index.ts) or compares
// a string with a number (resample_probability), Sibyl reports the setting at fault. Like
// Sibyl's other algorithms it also takes `random_state` (Katib's pbt has none): the seed.
import type { Settings } from '../model.js';
import { readIntSetting, readNumberSetting, readSetting, rejectUnknownSettings, settingError, readRandomState } from '../settings.js';

export const NAME = 'pbt';
const KNOWN_SETTINGS = ['suggestion_trial_dir', 'n_population', 'truncation_threshold', 'resample_probability', 'random_state'];

export interface PbtSettings {
  /** Where a trial finds its own checkpoint directory (Katib mounts it there; the local runtime rewrites the path). */
  readonly trialDir: string;
  /** Members per generation. */
  readonly population: number;
  /** The fraction of a generation replaced by copies of its best members. */
  readonly truncation: number;
  /** Absent: explore perturbs each value (×0.8 or ×1.2, a neighbouring list item); else the chance to resample each value. */
  readonly resampleProbability?: number;
  /** The seed, instead of the study's. */
  readonly randomState?: number;
}

function required<T>(value: T | undefined, name: string): T {
  if (value === undefined) throw settingError(name, `required by algorithm "${NAME}"`);
  return value;
}

export function readPbtSettings(settings: Settings): PbtSettings {
  rejectUnknownSettings(settings, NAME, KNOWN_SETTINGS);
  const trialDir = required(readSetting(settings, 'suggestion_trial_dir'), 'suggestion_trial_dir');
  // A mount point inside the trial (Katib mounts the trial's checkpoint folder there).
  if (!trialDir.startsWith('/') || trialDir.replace(/\/+$/, '') === '') {
    throw settingError('suggestion_trial_dir', `must be an absolute path other than "/" (got ${JSON.stringify(trialDir)})`);
  }
  const population = required(readIntSetting(settings, 'n_population', { min: 5, max: 10_000 }), 'n_population');
  const truncation = required(readNumberSetting(settings, 'truncation_threshold', { min: 0, max: 1 }), 'truncation_threshold');
  const resampleProbability = readNumberSetting(settings, 'resample_probability', { min: 0, max: 1 });
  const randomState = readRandomState(settings);
  return {
    trialDir, population, truncation,
    ...(resampleProbability === undefined ? {} : { resampleProbability }),
    ...(randomState === undefined ? {} : { randomState }),
  };
}
