// `cmaes`: CMA-ES as Katib serves it through goptuna (settings `sigma`, `restart_strategy`
// none/ipop/bipop, `random_state`), as a pure function of the trials.
//
// - Search happens in the unit cube of the RANGE parameters (double/int, log scales and steps
//   through the shared transform). Categorical and discrete parameters have a categorical
//   distribution of their own next to the Gaussian, updated from the same ranking (CatCMA,
//   categories.ts); goptuna and Optuna instead draw them at random, which never learns that
//   one value is better. A single Gaussian cannot hold a category whose optimum lies where
//   the other categories' points are (bench/mixed.ts: 0 of 10 with CatCMA alone), so, as
//   `bayesianoptimization` and `tpe` do, each categorical parameter is with probability ε_t
//   (CoCaBO's rate, ../exploration.ts) held at a uniform value for a proposal. The Gaussian
//   follows the incumbent's (best trial's) values: a proposal that holds values, or whose
//   values drawn from q differ from the incumbent's, takes its range part from those values'
//   own local search over their trials (held.ts: an elitist (1+1)-ES pre-screened by a
//   polynomial model; a uniform probe while they have no trial). The update tells such points
//   as injected ones (step clipped), and one that beats the run from far outside its Gaussian
//   restarts the run there (replay.ts). The draws come from the slot's own stream, so the
//   replay reproduces them.
// - The state is replayed from the trials on every call (see replay.ts): generation g owns λ
//   consecutive trials in creation order, its samples come from Rng(seed, stream of g), and the
//   update uses the trials' actual assignments re-encoded (as Optuna's CmaEsSampler tells them).
//   The `state` map only carries a checked snapshot of that replay to skip work.
// - Batches and pending trials: proposals fill the current generation's free slots with that
//   generation's samples; asked for more than the generation has left while it is unfinished,
//   the extra points are drawn from the current distribution on a separate stream per slot, and
//   take the first slots of the next generation (which tells them as injected points).
// - Points outside [0,1] are resampled (up to 100 times) and then clipped.
import type { Assignment, Parameter, ParamValue, SearchSpace, SuggestRequest, SuggestResult, SuggestionAlgorithm, TrialView } from '../model.js';
import { lossOf } from '../history.js';
import { violationOf } from '../constraints.js';
import { withoutRepeats } from '../repeats.js';
import { Rng } from '../rng.js';
import { normalizeValue } from '../space.js';
import { sampleCategories } from './categories.js';
import { explorationRate } from '../exploration.js';
import { unitCube, type UnitCube } from '../transform.js';
import { defaultPopulationSize, eigenOf, sampleGeneration } from './distribution.js';
import { bestSlot, heldPoint } from './held.js';
import { choiceStream, extraStream, generationSamples, initialSearch, replay, type ReplayContext, type Search, type Slot } from './replay.js';
import { NAME, readCmaesSettings, requireRangeParameters, type CmaesSettings } from './settings.js';
import { loadSnapshot, saveSnapshot } from './snapshot.js';

/**
 * CMA-ES over the unit cube of the double/int parameters (at least two), replayed from the
 * trials; categorical and discrete parameters are drawn from CatCMA's categorical distribution.
 * Settings: `sigma` (initial step in unit-cube units, default 1/6), `restart_strategy`
 * (none | ipop | bipop, case-insensitive), `random_state`.
 */
export const cmaesAlgorithm: SuggestionAlgorithm = {
  name: NAME,

  validateSettings(space, settings) {
    readCmaesSettings(settings);
    requireRangeParameters(space);
  },

  suggest(request: SuggestRequest): SuggestResult {
    const { space, trials, count, seed, state, settings: raw } = request;
    const settings = readCmaesSettings(raw);
    requireRangeParameters(space);
    const cube = unitCube(space, { rangesOnly: true });
    const start = warmStart(space, request.priorTrials ?? [], cube, settings.sigma);
    const ctx: ReplayContext = {
      seed: settings.randomState ?? seed,
      n: cube.dims,
      lambda0: defaultPopulationSize(cube.dims),
      sigma0: start?.sigma ?? settings.sigma,
      strategy: settings.restartStrategy,
      choiceSizes: choiceParameters(space).map((p) => p.list.length),
      ...(start ? { mean0: start.mean } : {}),
    };
    const slots = slotsOf(space, trials, cube);
    const context = contextKey(space, settings, ctx);
    const search = replay(slots, ctx, loadSnapshot(context, slots, state) ?? initialSearch(ctx));
    const points = proposePoints(search, slots.length, Math.max(0, count), ctx.seed);
    const finished = slots.filter((s) => !s.active).length;
    const incumbent = bestSlot(slots);
    const proposals = points.map(({ x, slot }) => {
      const rng = new Rng(ctx.seed, choiceStream(slot));
      const choices = sampleCategories(search.categories, rng);
      const explored = ctx.choiceSizes.map((k, j) => {
        if (!(rng.next() < explorationRate(k, finished))) return false;
        choices[j] = rng.int(k);
        return true;
      });
      const held = heldValues(choices, explored, incumbent);
      const at = held.some((c) => c >= 0) ? heldPoint(slots, held, ctx.n, ctx.sigma0, rng) : x;
      return withChoices(space, cube.decode(at), choices);
    });
    const result = withoutRepeats(space, trials, proposals, ctx.seed);
    return { ...result, state: saveSnapshot(context, slots, search) };
  },
};

/**
 * A warm start's first distribution, after WS-CMA-ES (Nomura et al., "Warm Starting CMA-ES for
 * Hyperparameter Optimization", AAAI 2021) simplified to an isotropic one: the mean of the best
 * 10% of the prior points, and their spread (at least 0.05, at most the `sigma` setting) as the
 * step size. None without priors in this range space.
 */
function warmStart(space: SearchSpace, priors: readonly TrialView[], cube: UnitCube, sigma: number): { mean: number[]; sigma: number } | undefined {
  const points = slotsOf(space, priors, cube).filter((s) => Number.isFinite(s.loss)).sort((a, b) => a.loss - b.loss);
  if (points.length === 0) return undefined;
  const top = points.slice(0, Math.max(1, Math.ceil(0.1 * points.length)));
  const mean = Array.from({ length: cube.dims }, (_, i) => top.reduce((sum, s) => sum + (s.x[i] as number), 0) / top.length);
  const spread = Math.sqrt(top.reduce((sum, s) => sum + s.x.reduce((d, v, i) => d + (v - (mean[i] as number)) ** 2, 0), 0) / (top.length * cube.dims));
  return { mean, sigma: Math.min(sigma, Math.max(0.05, spread)) };
}

/** Trials of this range space in creation order (trials from another space take no slot). */
function slotsOf(space: SearchSpace, trials: readonly TrialView[], cube: UnitCube): Slot[] {
  const slots: Slot[] = [];
  const choiceParams = choiceParameters(space);
  for (const t of trials) {
    const x = cube.encode(t.assignment);
    if (!x) continue;
    // An absent value is an inactive conditional parameter (−1: no say in its categories); a
    // value outside the list is another space's trial.
    const choices = choiceParams.map((p) => (t.assignment[p.name] === undefined ? -1 : (p.list as readonly ParamValue[]).indexOf(normalizeValue(p, t.assignment[p.name]) as ParamValue)));
    if (choices.some((c, j) => c < 0 && t.assignment[choiceParams[j]!.name] !== undefined)) continue;
    const active = t.state === 'CREATED' || t.state === 'RUNNING';
    const usable = t.state === 'SUCCEEDED' && t.objectiveValue !== undefined && Number.isFinite(t.objectiveValue);
    slots.push({ x, choices, active, loss: usable ? lossOf(space, t.objectiveValue as number) : Infinity, violation: usable ? violationOf(t) : 0 });
  }
  return slots;
}

/** The points for slots `filled`, `filled + 1`, …: the current generation's, then extras. */
function proposePoints(search: Search, filled: number, count: number, seed: number): { x: Float64Array; slot: number }[] {
  if (count === 0) return [];
  const eigen = eigenOf(search.run.dist.C);
  const samples = generationSamples(search, seed, eigen);
  return Array.from({ length: count }, (_, i) => {
    const slot = filled + i;
    const own = samples[slot - search.start];
    const x = own ?? (sampleGeneration(search.run.dist, eigen, 1, new Rng(seed, extraStream(slot)))[0] as Float64Array);
    return { x, slot };
  });
}

/**
 * The values that set a proposal apart from the Gaussian, which follows the incumbent's values
 * (−1 elsewhere): the held ones if any parameter was held, else those drawn from q that differ
 * from the incumbent's (an inactive incumbent value, −1, has no say). Such a proposal searches
 * among the trials with these values instead (held.ts).
 */
function heldValues(choices: readonly number[], explored: readonly boolean[], incumbent: Slot | undefined): number[] {
  const anyHeld = explored.some(Boolean);
  return choices.map((c, j) => {
    const theirs = incumbent?.choices[j] ?? -1;
    return (anyHeld ? explored[j] : theirs >= 0 && c !== theirs) ? c : -1;
  });
}

type ChoiceParameter = Extract<Parameter, { parameterType: 'categorical' | 'discrete' }>;

function choiceParameters(space: SearchSpace): ChoiceParameter[] {
  return space.parameters.filter((p): p is ChoiceParameter => p.parameterType === 'categorical' || p.parameterType === 'discrete');
}

/** Adds the drawn categorical/discrete values (`choices`, value indexes), in the spec's parameter order. */
function withChoices(space: SearchSpace, ranges: Assignment, choices: readonly number[]): Assignment {
  const out: Record<string, ParamValue> = {};
  let next = 0;
  for (const p of space.parameters) {
    if (p.parameterType === 'categorical' || p.parameterType === 'discrete') out[p.name] = p.list[choices[next++] as number] as ParamValue;
    else out[p.name] = ranges[p.name] as ParamValue;
  }
  return out;
}

/** What a snapshot depends on besides the slots: the range space, the settings and the seed. */
function contextKey(space: SearchSpace, settings: CmaesSettings, ctx: ReplayContext): string {
  const ranges = space.parameters.filter((p) => p.parameterType === 'double' || p.parameterType === 'int');
  const choices = choiceParameters(space);
  return JSON.stringify({ ranges, choices, sigma: ctx.sigma0, strategy: settings.restartStrategy, seed: ctx.seed, ...(ctx.mean0 ? { mean0: ctx.mean0 } : {}) });
}
