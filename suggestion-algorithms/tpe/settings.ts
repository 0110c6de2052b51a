// Settings of `tpe` and `multivariate-tpe`, with Optuna's TPESampler defaults. Katib's optuna
// service spells the candidate count `n_ei_candidates`, its hyperopt service `n_EI_candidates`:
// both are accepted (not together).
import { SpecError } from '../../src/spec/errors.js';
import type { StudySpec } from '../../src/spec/types.js';
import { readIntSetting, readNumberSetting, readSetting, rejectUnknownSettings, settingField } from '../settings.js';

export interface TpeSettings {
  readonly nStartupTrials: number;
  readonly nEiCandidates: number;
  /**
   * Fraction of finished trials that form the "good" group: ceil(gamma·n). Undefined means
   * Optuna's default rule min(ceil(0.1·n), 25).
   */
  readonly gamma?: number;
  readonly priorWeight: number;
  readonly randomState?: number;
}

export const TPE_SETTINGS = ['n_startup_trials', 'n_ei_candidates', 'n_EI_candidates', 'gamma', 'prior_weight', 'random_state'];

const DEFAULT_STARTUP_TRIALS = 10;
const DEFAULT_EI_CANDIDATES = 24;
const DEFAULT_PRIOR_WEIGHT = 1;
/** Optuna's default_gamma: at most this many trials are "good", however long the study. */
const MAX_GOOD_TRIALS = 25;

export function readTpeSettings(spec: StudySpec, algorithmName: string): TpeSettings {
  rejectUnknownSettings(spec, algorithmName, TPE_SETTINGS);
  if (readSetting(spec, 'n_ei_candidates') !== undefined && readSetting(spec, 'n_EI_candidates') !== undefined) {
    throw new SpecError(settingField('n_EI_candidates'), 'is an alias of n_ei_candidates: give only one of them');
  }
  const gamma = readNumberSetting(spec, 'gamma', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const randomState = readIntSetting(spec, 'random_state', { min: 0 });
  return {
    nStartupTrials: readIntSetting(spec, 'n_startup_trials', { min: 0 }) ?? DEFAULT_STARTUP_TRIALS,
    nEiCandidates:
      readIntSetting(spec, 'n_ei_candidates', { min: 1 }) ?? readIntSetting(spec, 'n_EI_candidates', { min: 1 }) ?? DEFAULT_EI_CANDIDATES,
    ...(gamma === undefined ? {} : { gamma }),
    priorWeight: readNumberSetting(spec, 'prior_weight', { min: 0, minExclusive: true }) ?? DEFAULT_PRIOR_WEIGHT,
    ...(randomState === undefined ? {} : { randomState }),
  };
}

/** How many of `n` finished trials count as good. */
export function goodCount(settings: TpeSettings, n: number): number {
  if (settings.gamma === undefined) return Math.min(Math.ceil(0.1 * n), MAX_GOOD_TRIALS);
  return Math.min(n, Math.ceil(settings.gamma * n));
}
