// Settings of `hyperband`, Katib's names: `resource_name` and `r_l` required, `eta` optional.
// Katib's validator is lax (it checks only that r_l is a number ≥ 0 and that resource_name is
// a parameter; a bad eta crashes it or silently yields an experiment that never starts); here
// every mistake is a SettingsError naming the setting.
import type { RangeParameter, SearchSpace, Settings } from '../model.js';
import { readNumberSetting, readSetting, rejectUnknownSettings, settingError } from '../settings.js';
import { maxBracket, bracketConfigs } from './schedule.js';

export const HYPERBAND = 'hyperband';
const KNOWN_SETTINGS = ['resource_name', 'r_l', 'eta'];
export const DEFAULT_ETA = 3;
/** The first bracket's configs beyond which a run is certainly a typo in r_l (and Rng streams stay exact). */
const MAX_BRACKET_CONFIGS = 2 ** 32;

export interface HyperbandSettings {
  /** The parameter that carries the budget; its sampled value is always overwritten. */
  readonly resource: RangeParameter;
  /** Katib's r_l: the largest resource R a config is given. */
  readonly rl: number;
  readonly eta: number;
}

export function readHyperbandSettings(space: SearchSpace, settings: Settings): HyperbandSettings {
  rejectUnknownSettings(settings, HYPERBAND, KNOWN_SETTINGS);
  const resource = readResource(space, settings);
  const rl = readNumberSetting(settings, 'r_l', { min: 0, minExclusive: true });
  if (rl === undefined) throw settingError('r_l', 'is required by algorithm "hyperband" (the largest resource a config gets, e.g. the most epochs)');
  // An int resource is the integer part of r_l · eta^(i−s) ≥ r_l / r_l; below 1 it would be 0.
  if (resource.parameterType === 'int' && rl < 1) {
    throw settingError('r_l', `must be ≥ 1 when the resource parameter ${JSON.stringify(resource.name)} is an int (got ${rl}; its value would round down to 0)`);
  }
  const eta = readEta(settings);
  const sMax = maxBracket(rl, eta);
  if (bracketConfigs(sMax, sMax, eta) > MAX_BRACKET_CONFIGS) {
    throw settingError('r_l', `too large for eta ${eta}: the first bracket alone would run ${bracketConfigs(sMax, sMax, eta)} configs`);
  }
  return { resource, rl, eta };
}

function readResource(space: SearchSpace, settings: Settings): RangeParameter {
  const name = readSetting(settings, 'resource_name');
  if (name === undefined) throw settingError('resource_name', 'is required by algorithm "hyperband" (the name of the parameter that carries the budget, e.g. epochs)');
  const p = space.parameters.find((q) => q.name === name);
  if (p === undefined) {
    throw settingError('resource_name', `must name one of the parameters (got ${JSON.stringify(name)}; parameters: ${space.parameters.map((q) => q.name).join(', ')})`);
  }
  if (p.parameterType !== 'int' && p.parameterType !== 'double') {
    throw settingError('resource_name', `must name an int or double parameter (${JSON.stringify(name)} is ${p.parameterType})`);
  }
  // Every config of a rung is given the budget, so it cannot be absent from some of them.
  if (p.condition !== undefined) throw settingError('resource_name', `must name a parameter without a condition (${JSON.stringify(name)} is active only when its condition on "${p.condition.parent}" holds)`);
  return p;
}

/**
 * Katib maps eta ≤ 0 to the default 3 in both its validator and its service, so such a Katib
 * file runs there and is accepted here the same way. 0 < eta < 2 is rejected: Katib's
 * validator crashes on 1 ≤ eta < 2 (log(1) = 0) and below 1 its service never proposes
 * anything. A non-integer eta ≥ 2 is used as given, as Katib's service does.
 */
function readEta(settings: Settings): number {
  const eta = readNumberSetting(settings, 'eta');
  if (eta === undefined || eta <= 0) return DEFAULT_ETA;
  if (eta < 2) throw settingError('eta', `must be a number ≥ 2 (got ${eta}; leave it out for the default ${DEFAULT_ETA})`);
  return eta;
}
