// Asynchronous successive halving (Li et al., "A System for Massively Parallel Hyperparameter
// Tuning", MLSys 2020), as an early-stopping rule (Optuna's SuccessiveHalvingPruner; Katib
// issue #1582). Rung k sits at step min_resource · η^(min_early_stopping_rate + k). When a
// trial first reports at or past a rung, its value there is compared with the values every
// trial of the study had there: it goes on only if it is among the best ⌊n/η⌋ of those n
// (the best one while n < η, since a stopped trial cannot be resumed later); otherwise it stops.
import type { Settings } from '../model.js';
import { readIntSetting, readNumberSetting, rejectUnknownSettings } from '../settings.js';
import { firstFrom, lastStep } from './curve.js';
import { CONTINUE, type CurveView, type EarlyStoppingPolicy, type KatibRule, type StopDecision, type StopRequest } from './model.js';

export interface AshaSettings {
  /** The step of the first rung, before η's powers (> 0, default 1). */
  readonly minResource: number;
  /** η: the fraction 1/η of the trials at a rung goes on (≥ 2, default 3). */
  readonly reductionFactor: number;
  /** s: rungs start at min_resource · η^s (≥ 0, default 0). */
  readonly minEarlyStoppingRate: number;
}

const SETTINGS = ['min_resource', 'reduction_factor', 'min_early_stopping_rate'];
/** No curve has more rungs than this (η ≥ 2 and steps are safe integers). */
const MAX_RUNGS = 64;

export function readAshaSettings(settings: Settings): AshaSettings {
  rejectUnknownSettings(settings, 'asha', SETTINGS);
  return {
    minResource: readNumberSetting(settings, 'min_resource', { min: 0, minExclusive: true }) ?? 1,
    reductionFactor: readIntSetting(settings, 'reduction_factor', { min: 2 }) ?? 3,
    minEarlyStoppingRate: readIntSetting(settings, 'min_early_stopping_rate', { min: 0, max: MAX_RUNGS }) ?? 0,
  };
}

export const rungStep = (s: AshaSettings, rung: number): number => s.minResource * s.reductionFactor ** (s.minEarlyStoppingRate + rung);

/** Every trial's value at a rung: its first report at or past the rung's step. */
const valuesAt = (trials: readonly CurveView[], step: number): number[] =>
  trials.flatMap((t) => {
    const at = firstFrom(t.curve, step);
    return at === undefined ? [] : [at.value];
  });

/** The worst value that still goes on among `values` (sorted best first). */
function threshold(request: Pick<StopRequest, 'direction'>, values: number[], eta: number): number {
  values.sort((a, b) => (request.direction === 'maximize' ? b - a : a - b));
  const kept = Math.max(1, Math.floor(values.length / eta));
  return values[kept - 1]!;
}

export const ashaPolicy: EarlyStoppingPolicy = {
  name: 'asha',

  validateSettings(settings) {
    readAshaSettings(settings);
  },

  decide(request: StopRequest): StopDecision {
    const s = readAshaSettings(request.settings);
    const trial = request.trials.find((t) => t.name === request.trial);
    if (!trial) return CONTINUE;
    const last = lastStep(trial.curve);
    for (let rung = 0; rung < MAX_RUNGS; rung++) {
      const step = rungStep(s, rung);
      if (step > last) break;
      const own = firstFrom(trial.curve, step)!;
      if (own.step <= request.judgedThrough) continue; // judged when it got there
      const values = valuesAt(request.trials, step);
      const cut = threshold(request, values, s.reductionFactor);
      const goesOn = request.direction === 'maximize' ? own.value >= cut : own.value <= cut;
      if (!goesOn) {
        return {
          stop: true,
          step: own.step,
          reason: `value ${own.value} at rung ${rung} (step ${step}) is not among the best ${Math.max(1, Math.floor(values.length / s.reductionFactor))} of ${values.length} trials there`,
        };
      }
    }
    return CONTINUE;
  },

  /** Katib's sidecar applies one threshold from a start step: the first rung's. */
  katibRules(request): KatibRule[] {
    const s = readAshaSettings(request.settings);
    const step = rungStep(s, 0);
    const values = valuesAt(request.trials, step);
    if (values.length < s.reductionFactor) return [];
    return [{ value: threshold(request, values, s.reductionFactor), comparison: request.direction === 'maximize' ? 'LESS' : 'GREATER', startStep: Math.ceil(step) }];
  },
};
