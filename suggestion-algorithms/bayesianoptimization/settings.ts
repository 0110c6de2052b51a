// The algorithm's settings, by the names Katib's skopt service uses.
import type { Settings } from '../model.js';
import { readIntSetting, readSetting, rejectUnknownSettings, settingError, readRandomState } from '../settings.js';

export const NAME = 'bayesianoptimization';
const KNOWN_SETTINGS = ['n_initial_points', 'acq_func', 'acq_optimizer', 'base_estimator', 'random_state'];

/** `ucb` is accepted as an alias of `lcb`: on a minimised loss, the lower bound of the loss is the upper bound of the objective. */
export type AcquisitionSetting = 'gp_hedge' | 'ei' | 'pi' | 'lcb';

export interface BayesianOptimizationSettings {
  readonly nInitialPoints: number;
  readonly acquisition: AcquisitionSetting;
  /** false for `sampling`: candidates only, no local refinement. */
  readonly refine: boolean;
  readonly randomState: number | undefined;
}

export function readSettings(settings: Settings): BayesianOptimizationSettings {
  rejectUnknownSettings(settings, NAME, KNOWN_SETTINGS);
  // Katib's skopt service accepts 0; with no history the model has nothing to fit, so the first
  // points still come from the design until two observations exist (index.ts).
  const nInitialPoints = readIntSetting(settings, 'n_initial_points', { min: 0 }) ?? 10;
  const randomState = readRandomState(settings);

  const estimator = readSetting(settings, 'base_estimator')?.toUpperCase() ?? 'GP';
  if (['RF', 'ET', 'GBRT'].includes(estimator)) {
    throw settingError('base_estimator', `only GP is supported (got ${JSON.stringify(readSetting(settings, 'base_estimator'))})`);
  }
  if (estimator !== 'GP') throw settingError('base_estimator', `must be GP (got ${JSON.stringify(readSetting(settings, 'base_estimator'))})`);

  const acqRaw = readSetting(settings, 'acq_func');
  const acq = acqRaw?.toLowerCase() ?? 'gp_hedge';
  if (acq === 'eips' || acq === 'pips') {
    throw settingError('acq_func', `${acqRaw} is not supported: the per-second (time-aware) variants need trial durations, which Sibyl does not model; use EI or PI`);
  }
  const acquisitions: Record<string, AcquisitionSetting> = { gp_hedge: 'gp_hedge', ei: 'ei', pi: 'pi', lcb: 'lcb', ucb: 'lcb' };
  const acquisition = acquisitions[acq];
  if (acquisition === undefined) {
    throw settingError('acq_func', `must be one of gp_hedge, EI, PI, LCB, UCB (got ${JSON.stringify(acqRaw)})`);
  }

  const optimizerRaw = readSetting(settings, 'acq_optimizer');
  const optimizer = optimizerRaw?.toLowerCase() ?? 'auto';
  if (!['auto', 'sampling', 'lbfgs'].includes(optimizer)) {
    throw settingError('acq_optimizer', `must be one of auto, sampling, lbfgs (got ${JSON.stringify(optimizerRaw)})`);
  }
  return { nInitialPoints, acquisition, refine: optimizer !== 'sampling', randomState };
}
