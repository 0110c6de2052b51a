// Median stopping (Golovin et al., "Google Vizier", 2017; Katib's `medianstop`): a trial whose
// best value by step s is strictly worse than the median of the completed trials' running
// averages up to s is stopped. Katib's settings and defaults; Katib compares with the *mean* of
// those averages, and only at `start_step`: Sibyl takes the true median at every step from
// `start_step` on. Steps are the trial's report steps (its report count when it gives none).
import type { Settings } from '../model.js';
import { readIntSetting, rejectUnknownSettings } from '../settings.js';
import { median, runningAverage } from './curve.js';
import { better, CONTINUE, worse, type CurveView, type EarlyStoppingPolicy, type KatibRule, type StopDecision, type StopRequest } from './model.js';

export interface MedianStopSettings {
  /** Completed trials needed before any trial is stopped (Katib: > 0, default 3). */
  readonly minTrialsRequired: number;
  /** The first step at which a trial may be stopped (Katib: ≥ 1, default 4). */
  readonly startStep: number;
}

const SETTINGS = ['min_trials_required', 'start_step'];

export function readMedianStopSettings(settings: Settings): MedianStopSettings {
  rejectUnknownSettings(settings, 'medianstop', SETTINGS);
  return {
    minTrialsRequired: readIntSetting(settings, 'min_trials_required', { min: 0, minExclusive: true }) ?? 3,
    startStep: readIntSetting(settings, 'start_step', { min: 1 }) ?? 4,
  };
}

/** The completed trials' running averages up to `step` (those with a report by then). */
function completedAverages(trials: readonly CurveView[], step: number, except?: string): number[] {
  const averages: number[] = [];
  for (const t of trials) {
    if (t.state !== 'SUCCEEDED' || t.name === except) continue;
    const avg = runningAverage(t.curve, step);
    if (avg !== undefined) averages.push(avg);
  }
  return averages;
}

export const medianStopPolicy: EarlyStoppingPolicy = {
  name: 'medianstop',

  validateSettings(settings) {
    readMedianStopSettings(settings);
  },

  /**
   * Every step reported since the last decision is judged in order, so a trial stops at the
   * same step whether its reports came one by one or several at once (a loaded collector).
   */
  decide(request: StopRequest): StopDecision {
    const { minTrialsRequired, startStep } = readMedianStopSettings(request.settings);
    const trial = request.trials.find((t) => t.name === request.trial);
    if (!trial) return CONTINUE;
    const { steps, values } = trial.curve;
    let best: number | undefined;
    for (let i = 0; i < steps.length; i++) {
      best = best === undefined ? values[i]! : better(request.direction, best, values[i]!);
      const step = steps[i]!;
      if (step < startStep || step <= request.judgedThrough) continue;
      const averages = completedAverages(request.trials, step, trial.name);
      if (averages.length < minTrialsRequired) continue;
      const mid = median(averages);
      if (!worse(request.direction, best, mid)) continue;
      return {
        stop: true,
        step,
        reason: `best value ${best} by step ${step} is worse than the median ${mid} of ${averages.length} completed trials' running averages`,
      };
    }
    return CONTINUE;
  },

  katibRules(request): KatibRule[] {
    const { minTrialsRequired, startStep } = readMedianStopSettings(request.settings);
    const averages = completedAverages(request.trials, startStep);
    if (averages.length < minTrialsRequired) return [];
    return [{ value: median(averages), comparison: request.direction === 'maximize' ? 'LESS' : 'GREATER', startStep }];
  },
};
