// The cmaes settings Katib's goptuna service knows: `sigma`, `restart_strategy`, `random_state`.
import { SpecError } from '../../src/spec/errors.js';
import type { StudySpec } from '../../src/spec/types.js';
import { readIntSetting, readNumberSetting, readSetting, rejectUnknownSettings, settingField } from '../settings.js';

export const NAME = 'cmaes';
const KNOWN_SETTINGS = ['sigma', 'restart_strategy', 'random_state'];

export type RestartStrategy = 'none' | 'ipop' | 'bipop';
const RESTART_STRATEGIES: readonly RestartStrategy[] = ['none', 'ipop', 'bipop'];

/**
 * Initial step size in unit-cube units (each range parameter spans [0,1]). Katib's goptuna
 * uses min(range)/6 in original units; 1/6 of the unit box is the same for a single range.
 */
export const DEFAULT_SIGMA = 1 / 6;

export interface CmaesSettings {
  readonly sigma: number;
  readonly restartStrategy: RestartStrategy;
  readonly randomState: number | undefined;
}

export function readCmaesSettings(spec: StudySpec): CmaesSettings {
  rejectUnknownSettings(spec, NAME, KNOWN_SETTINGS);
  const sigma = readNumberSetting(spec, 'sigma', { min: 0, minExclusive: true }) ?? DEFAULT_SIGMA;
  const raw = readSetting(spec, 'restart_strategy');
  // Case-insensitive: Katib's optuna variant spells the default "None".
  const restartStrategy = (raw?.toLowerCase() ?? 'none') as RestartStrategy;
  if (!RESTART_STRATEGIES.includes(restartStrategy)) {
    throw new SpecError(settingField('restart_strategy'), `must be one of ${RESTART_STRATEGIES.join(', ')} (got ${JSON.stringify(raw)})`);
  }
  const randomState = readIntSetting(spec, 'random_state', { min: 0 });
  return { sigma, restartStrategy, randomState };
}

/** Katib's goptuna validation: CMA-ES needs a continuous space of at least two dimensions. */
export function requireRangeParameters(spec: StudySpec): void {
  const ranges = spec.parameters.filter((p) => p.parameterType === 'double' || p.parameterType === 'int').length;
  if (ranges < 2) throw new SpecError('spec.parameters', `${NAME} needs at least 2 double or int parameters (got ${ranges})`);
}
