// Stopping by curve extrapolation (Domhan, Springenberg & Hutter, IJCAI 2015; Vizier's automated
// stopping predicts where a curve ends rather than ranking it at a step): a trial is stopped
// when even an optimistic extrapolation of its curve to the end of training cannot beat the
// best completed trial. Unlike a rung or a median at a fixed step, a slow starter whose curve
// is still climbing keeps a high bound and goes on, while one that has flattened below the
// best is stopped however well it started. The fits and the bound: saturation.ts.
import type { Settings } from '../model.js';
import { readIntSetting, readNumberSetting, rejectUnknownSettings } from '../settings.js';
import { bestOfCurve, lastStep } from './curve.js';
import { CONTINUE, better, worse, type EarlyStoppingPolicy, type StopDecision, type StopRequest } from './model.js';
import { MIN_REPORTS, saturationBound } from './saturation.js';

export interface CurveFitSettings {
  /** Completed trials needed before any trial is stopped (> 0, default 1: the best one is the bar). */
  readonly minTrialsRequired: number;
  /** The first step at which a trial may be stopped (≥ 1, default MIN_REPORTS); at least MIN_REPORTS reports are needed too. */
  readonly startStep: number;
  /** Standard errors added to the extrapolation (≥ 0, default 2): larger stops less. */
  readonly margin: number;
  /** The step training ends at; default the last step of the longest completed trial. */
  readonly finalStep?: number;
}

const SETTINGS = ['min_trials_required', 'start_step', 'margin', 'final_step'];

export function readCurveFitSettings(settings: Settings): CurveFitSettings {
  rejectUnknownSettings(settings, 'curvefit', SETTINGS);
  const finalStep = readNumberSetting(settings, 'final_step', { min: 0, minExclusive: true });
  return {
    minTrialsRequired: readIntSetting(settings, 'min_trials_required', { min: 0, minExclusive: true }) ?? 1,
    startStep: readIntSetting(settings, 'start_step', { min: 1 }) ?? MIN_REPORTS,
    margin: readNumberSetting(settings, 'margin', { min: 0 }) ?? 2,
    ...(finalStep === undefined ? {} : { finalStep }),
  };
}

/** New steps one decision judges at most (each is a fit of its own). */
export const MAX_JUDGED_STEPS = 32;

/** At most `max` of `xs`, evenly spread and ending with the last one (indices k·(n − 1)/max, k = 1..max). */
function spread<T>(xs: readonly T[], max: number): readonly T[] {
  if (xs.length <= max) return xs;
  return Array.from({ length: max }, (_, k) => xs[Math.round(((k + 1) * (xs.length - 1)) / max)]!);
}

/** The best value of the completed trials (their whole curves) and the longest of them. */
function completedBest(request: StopRequest, except: string): { best: number; count: number; lastStep: number } | undefined {
  let best: number | undefined;
  let count = 0;
  let longest = 0;
  for (const t of request.trials) {
    if (t.state !== 'SUCCEEDED' || t.name === except || t.curve.steps.length === 0) continue;
    const last = lastStep(t.curve);
    const value = bestOfCurve(request.direction, t.curve)!;
    best = best === undefined ? value : better(request.direction, best, value);
    count += 1;
    longest = Math.max(longest, last);
  }
  return best === undefined ? undefined : { best, count, lastStep: longest };
}

export const curveFitPolicy: EarlyStoppingPolicy = {
  name: 'curvefit',

  validateSettings(settings) {
    readCurveFitSettings(settings);
  },

  /**
   * Every step reported since the last decision is judged in order, each on the reports up to it,
   * so a trial stops at the same step whether its reports came one by one or several at once (a
   * loaded collector). A batch of more than MAX_JUDGED_STEPS new steps is judged at that many of
   * them, evenly spread and ending at its last, so that one decision costs a bounded number of fits.
   */
  decide(request: StopRequest): StopDecision {
    const s = readCurveFitSettings(request.settings);
    const trial = request.trials.find((t) => t.name === request.trial);
    if (!trial) return CONTINUE;
    const { steps, values } = trial.curve;
    const judged: number[] = [];
    for (let i = MIN_REPORTS - 1; i < steps.length; i++) {
      if (steps[i]! >= s.startStep && steps[i]! > request.judgedThrough) judged.push(i);
    }
    // Nothing new to judge (the common case between a trial's reports): no scan of the completed trials.
    if (judged.length === 0) return CONTINUE;
    const completed = completedBest(request, trial.name);
    if (!completed || completed.count < s.minTrialsRequired) return CONTINUE;
    // The bound is for an increasing-is-better curve: a minimised objective is mirrored.
    const sign = request.direction === 'maximize' ? 1 : -1;
    const rising = sign === 1 ? values : values.map((v) => -v);
    // The judged steps ascend: the trial's best so far is carried from one to the next, so a
    // decision reads its curve once however long it is.
    let own = values[0]!;
    let through = 0;
    for (const i of spread(judged, MAX_JUDGED_STEPS)) {
      const step = steps[i]!;
      while (through < i) {
        through += 1;
        own = better(request.direction, own, values[through]!);
      }
      if (!worse(request.direction, own, completed.best)) continue;
      const horizon = Math.max(s.finalStep ?? completed.lastStep, step);
      const bound = saturationBound(steps, rising, horizon, s.margin, i + 1);
      if (!bound) continue;
      const reach = sign * bound.upper;
      if (!worse(request.direction, reach, completed.best)) continue;
      return {
        stop: true,
        step,
        reason:
          `its curve, extrapolated to step ${horizon} (${bound.fit.family} saturation, margin ${s.margin}), ` +
          `reaches ${reach.toPrecision(4)} at best, short of the best completed trial's ${completed.best}`,
      };
    }
    return CONTINUE;
  },

  /** Katib's rules are a fixed threshold from a step: an extrapolation has no such form, so none. */
  katibRules() {
    return [];
  },
};
