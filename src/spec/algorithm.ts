// The study ↔ algorithm boundary (Katib's converters are the model): a study becomes the
// algorithms' plain values, and an algorithm's SettingsError becomes a SpecError naming the
// study field at fault.
import { algorithmNames, getAlgorithm } from '../../suggestion-algorithms/registry.js';
import { SettingsError, type SearchSpace, type Settings, type SettingsErrorTarget } from '../../suggestion-algorithms/model.js';
import { getPolicy, policyNames } from '../../suggestion-algorithms/early-stopping/registry.js';
import { SpecError } from './errors.js';
import { objectivesOf, type AlgorithmSpec, type StudySpec } from './types.js';

export interface AlgorithmInput {
  readonly space: SearchSpace;
  readonly settings: Settings;
}

/** What a study's algorithm sees of it. */
export function algorithmInput(spec: StudySpec): AlgorithmInput {
  return {
    space: {
      parameters: spec.parameters,
      direction: spec.objective.type,
      ...(spec.objective.objectives ? { directions: objectivesOf(spec.objective).map((o) => o.type) } : {}),
    },
    settings: spec.algorithm.algorithmSettings,
  };
}

/** The study field a settings error is about, given where the space and the settings live. */
export function settingsErrorField(target: SettingsErrorTarget, paths: { parameters: string; settings: string }): string {
  if ('setting' in target) return `${paths.settings}[${target.setting}]`;
  if ('parameter' in target) return `${paths.parameters}[${target.parameter}]${target.field ? `.feasibleSpace.${target.field}` : ''}`;
  return paths.parameters;
}

/** Parameters the study's algorithm assigns itself (their range may be a single point); none for an unknown algorithm. */
export function overwrittenParameters(algorithm: AlgorithmSpec): readonly string[] {
  return getAlgorithm(algorithm.algorithmName)?.overwrittenParameters?.(algorithm.algorithmSettings) ?? [];
}

const STUDY_PATHS = { parameters: 'spec.parameters', settings: 'spec.algorithm.algorithmSettings' };

/** Throws SpecError for an unknown algorithm name or for settings/spaces the algorithm rejects. */
export function validateAlgorithm(spec: StudySpec): void {
  const name = spec.algorithm.algorithmName;
  const algorithm = getAlgorithm(name);
  if (algorithm === undefined) {
    throw new SpecError('spec.algorithm.algorithmName', `unknown algorithm ${JSON.stringify(name)} (known: ${algorithmNames().join(', ')})`);
  }
  const { space, settings } = algorithmInput(spec);
  if (space.directions && !algorithm.multiObjective) {
    const served = algorithmNames().filter((n) => getAlgorithm(n)!.multiObjective);
    throw new SpecError('spec.algorithm.algorithmName', `"${name}" optimises a single objective; a study with spec.objective.objectives needs one of: ${served.join(', ')}`);
  }
  try {
    algorithm.validateSettings(space, settings);
  } catch (err) {
    if (err instanceof SettingsError) throw new SpecError(settingsErrorField(err.target, STUDY_PATHS), err.reason);
    throw err;
  }
}

/** What a study's early-stopping policy sees of it, besides the curves. */
export function policyInput(spec: StudySpec): { readonly direction: StudySpec['objective']['type']; readonly settings: Settings } | undefined {
  return spec.earlyStopping && { direction: spec.objective.type, settings: spec.earlyStopping.algorithmSettings };
}

/** Throws SpecError for an unknown early-stopping policy or settings it rejects. */
export function validateEarlyStopping(spec: StudySpec): void {
  if (!spec.earlyStopping) return;
  const name = spec.earlyStopping.algorithmName;
  const policy = getPolicy(name);
  if (policy === undefined) {
    throw new SpecError('spec.earlyStopping.algorithmName', `unknown early-stopping algorithm ${JSON.stringify(name)} (known: ${policyNames().join(', ')})`);
  }
  try {
    policy.validateSettings(spec.earlyStopping.algorithmSettings);
  } catch (err) {
    if (err instanceof SettingsError) throw new SpecError(settingsErrorField(err.target, { parameters: 'spec.parameters', settings: 'spec.earlyStopping.algorithmSettings' }), err.reason);
    throw err;
  }
}
