// The cmaes settings Katib's goptuna service knows: `sigma`, `restart_strategy`, `random_state`.
// Like goptuna (converter.go reads only these three), other names are ignored, not refused.
import { SettingsError, type SearchSpace, type Settings } from '../model.js';
import { readNumberSetting, readSetting, settingError, readRandomState } from '../settings.js';

export const NAME = 'cmaes';

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

export function readCmaesSettings(settings: Settings): CmaesSettings {
  const sigma = readNumberSetting(settings, 'sigma', { min: 0, minExclusive: true }) ?? DEFAULT_SIGMA;
  const raw = readSetting(settings, 'restart_strategy');
  // Case-insensitive: Katib's optuna variant spells the default "None".
  const restartStrategy = (raw?.toLowerCase() ?? 'none') as RestartStrategy;
  if (!RESTART_STRATEGIES.includes(restartStrategy)) {
    throw settingError('restart_strategy', `must be one of ${RESTART_STRATEGIES.join(', ')} (got ${JSON.stringify(raw)})`);
  }
  const randomState = readRandomState(settings);
  return { sigma, restartStrategy, randomState };
}

/** Katib's goptuna validation: CMA-ES needs a continuous space of at least two dimensions. */
export function requireRangeParameters(space: SearchSpace): void {
  const ranges = space.parameters.filter((p) => p.parameterType === 'double' || p.parameterType === 'int').length;
  if (ranges < 2) throw new SettingsError({ space: true }, `${NAME} needs at least 2 double or int parameters (got ${ranges})`);
}
