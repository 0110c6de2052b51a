// Settings of `tpe` and `multivariate-tpe`, with Optuna's TPESampler defaults. Katib's optuna
// service spells the candidate count `n_ei_candidates`, its hyperopt service `n_EI_candidates`:
// both are accepted (not together).
import type { Settings } from '../model.js';
import { readIntSetting, readNumberSetting, readSetting, rejectUnknownSettings, settingError, readRandomState } from '../settings.js';

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

export function readTpeSettings(settings: Settings, algorithmName: string): TpeSettings {
  rejectUnknownSettings(settings, algorithmName, TPE_SETTINGS);
  if (readSetting(settings, 'n_ei_candidates') !== undefined && readSetting(settings, 'n_EI_candidates') !== undefined) {
    throw settingError('n_EI_candidates', 'is an alias of n_ei_candidates: give only one of them');
  }
  const gamma = readNumberSetting(settings, 'gamma', { min: 0, max: 1, minExclusive: true, maxExclusive: true });
  const randomState = readRandomState(settings);
  return {
    nStartupTrials: readIntSetting(settings, 'n_startup_trials', { min: 0 }) ?? DEFAULT_STARTUP_TRIALS,
    nEiCandidates:
      readIntSetting(settings, 'n_ei_candidates', { min: 1 }) ?? readIntSetting(settings, 'n_EI_candidates', { min: 1 }) ?? DEFAULT_EI_CANDIDATES,
    ...(gamma === undefined ? {} : { gamma }),
    priorWeight: readNumberSetting(settings, 'prior_weight', { min: 0, minExclusive: true }) ?? DEFAULT_PRIOR_WEIGHT,
    ...(randomState === undefined ? {} : { randomState }),
  };
}

/** Optuna's default_gamma: this fraction of the finished trials is good (at most MAX_GOOD_TRIALS). */
export const DEFAULT_GOOD_FRACTION = 0.1;

/** How many of `n` finished trials count as good; `defaultFraction` applies when no gamma is set. */
export function goodCount(settings: TpeSettings, n: number, defaultFraction = DEFAULT_GOOD_FRACTION): number {
  if (settings.gamma === undefined) return Math.min(Math.ceil(defaultFraction * n), MAX_GOOD_TRIALS);
  return Math.min(n, Math.ceil(settings.gamma * n));
}
