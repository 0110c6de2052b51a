// `hyperband` (Li et al., as Katib's own hyperband service runs it): brackets of successive
// halving, from many configs on a small budget (s = s_max) down to a few on the full budget
// (s = 0). Settings: settings.ts; arithmetic: schedule.ts; where a run stands: replay.ts.
//
// One rung runs at a time, in Katib's order. A rung's configs are proposed as the scheduler
// asks (any count: a rung larger than parallelTrialCount runs in waves); while its trials run,
// the next rung cannot be known, so the answer is no assignments (not exhausted) and the study
// waits for its trials. After the last rung of bracket 0 has run, the answer is `exhausted`
// and the study ends SearchSpaceExhausted (if its maxTrialCount, at least
// hyperbandTrialCount(r_l, eta), has not ended it first).
import type { SuggestRequest, SuggestResult, SuggestionAlgorithm } from '../model.js';
import { readSetting } from '../settings.js';
import { replay } from './replay.js';
import { hyperbandSchedule } from './schedule.js';
import { HYPERBAND, readHyperbandSettings } from './settings.js';

export { hyperbandTrialCount, hyperbandSchedule, largestRung } from './schedule.js';

export const hyperbandAlgorithm: SuggestionAlgorithm = {
  name: HYPERBAND,

  validateSettings(space, settings) {
    readHyperbandSettings(space, settings);
  },

  // Its value is the rung's resource, whatever the parameter's range says.
  overwrittenParameters(settings) {
    const name = readSetting(settings, 'resource_name');
    return name === undefined ? [] : [name];
  },

  suggest({ space, trials, count, seed, settings }: SuggestRequest): SuggestResult {
    const { resource, rl, eta } = readHyperbandSettings(space, settings);
    const wanted = Math.max(0, count);
    const progress = replay({ space, seed, resource, schedule: hyperbandSchedule(rl, eta) }, trials, wanted);
    // Katib's names, for a reader of the state; the algorithm itself never reads it back.
    if (progress.finished) return { assignments: [], exhausted: true, state: { current_s: '-1', current_i: '-1' } };
    const { bracket, rung } = progress.current.rung;
    return {
      assignments: progress.current.unfilled().slice(0, wanted),
      state: { current_s: String(bracket), current_i: String(rung) },
    };
  },
};
