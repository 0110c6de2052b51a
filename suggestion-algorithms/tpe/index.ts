// `tpe` and `multivariate-tpe`: the Tree-structured Parzen Estimator after Optuna's TPESampler.
// Finished trials are split by loss into a good group (the best min(ceil(0.1·n), 25), or
// ceil(gamma·n) when `gamma` is set) and a bad group; Parzen estimators l(x) and g(x) are fit
// to them, n_ei_candidates points are drawn from l(x) (int and stepped values rounded onto
// their grid, as Optuna does before scoring), and the one maximising log l(x) − log g(x) is
// proposed. Scores match Optuna 3.1.0's _ParzenEstimator.log_pdf (see parzen.ts). `tpe` does this per parameter independently; the
// multivariate variant models all parameters jointly (one kernel per trial over every
// dimension). Pending trials and earlier proposals of the same batch join the bad group
// (Optuna's constant liar), so a batch spreads out. The first n_startup_trials are random.
import type { Assignment, SuggestRequest, SuggestResult, SuggestionAlgorithm } from '../model.js';
import { isConditional } from '../conditions.js';
import { proposeByBranches } from './branches.js';
import { readHistory } from '../history.js';
import { modelTrials } from '../priors.js';
import { withoutRepeats } from '../repeats.js';
import { Rng } from '../rng.js';
import { sampleAssignment } from '../space.js';
import { unitCube } from '../transform.js';
import { explorationRate } from '../exploration.js';
import { parameterSpace, rowsMatching, splitHistory, type GrowableGroup, type ParameterSpace, type TpeVariant } from './observations.js';
import { ParzenEstimator, type Group, type ParzenOptions } from './parzen.js';
import { goodCount, readTpeSettings, type TpeSettings } from './settings.js';

function makeTpeAlgorithm(name: string, multivariate: boolean): SuggestionAlgorithm {
  return {
    name,
    validateSettings(_space, settings) {
      readTpeSettings(settings, name);
    },
    suggest(request) {
      return suggestTpe(request, readTpeSettings(request.settings, name), { multivariate });
    },
  };
}

export const tpeAlgorithm = makeTpeAlgorithm('tpe', false);
export const multivariateTpeAlgorithm = makeTpeAlgorithm('multivariate-tpe', true);

/** TPE's proposals for a request whose settings are already read (also what `motpe` builds on). */
export function suggestTpe(request: SuggestRequest, settings: TpeSettings, variant: TpeVariant): SuggestResult {
  // A tree is searched branch by branch (branches.ts), each part by the flat proposer below.
  const proposals = isConditional(request.space)
    ? proposeByBranches(request, settings, variant, proposeTpe)
    : proposeTpe(request, settings, variant);
  return withoutRepeats(request.space, request.trials, proposals, settings.randomState ?? request.seed);
}

/** The proposals of TPE over a space without conditions (repeats not yet replaced). */
function proposeTpe(request: SuggestRequest, settings: TpeSettings, variant: TpeVariant): Assignment[] {
  const { space: searchSpace, trials, count, seed } = request;
  const base = settings.randomState ?? seed;
  // One stream per trial index, as in `random`: a batch proposes what single asks would.
  const streamFor = (i: number) => new Rng(base, trials.length + i);
  const wanted = Math.max(0, count);
  const cube = unitCube(searchSpace);
  // Warm-start priors are observations like the study's own (they also count towards the random start).
  const history = readHistory(searchSpace, modelTrials(request), cube);

  let proposals: Assignment[];
  if (history.observations.length < settings.nStartupTrials) {
    proposals = Array.from({ length: wanted }, (_, i) => sampleAssignment(searchSpace, streamFor(i)));
  } else {
    const space = parameterSpace(cube);
    const split = splitHistory(space, history, goodCount(settings, history.observations.length, variant.goodFraction), wanted, variant.goodWeights);
    const proposer = variant.multivariate
      ? jointProposer(space, split.good, settings)
      : independentProposer(space, split.good, settings, history.observations.length);
    proposals = [];
    const row = new Float64Array(space.kinds.length);
    for (let i = 0; i < wanted; i++) {
      const assignment = proposer(split.bad, streamFor(i));
      proposals.push(assignment);
      // Constant liar: the proposal, as it will be evaluated, counts as a bad observation.
      const x = cube.encode(assignment);
      if (x) {
        space.toRow(x, row, 0);
        split.bad.push(row, 0);
      }
    }
  }
  return proposals;
}

type Proposer = (bad: GrowableGroup, rng: Rng) => Assignment;

/**
 * Univariate TPE: every parameter picks its own best candidate under its own l and g.
 *
 * Categorical parameters: with 24 candidates and a handful of values, the best ratio is found
 * exactly every time, so univariate TPE is purely greedy over categories: once a value's first
 * few (random) points are bad it is never proposed again (measured on bench/mixed.ts's
 * hidden-optimizer: adagrad proposed 3–4 times in 40 trials in 6 of 10 seeds). So, as
 * `bayesianoptimization` does, each categorical parameter is held with probability ε_t (the
 * CoCaBO rate, ../exploration.ts) at a uniformly drawn value, and for that proposal the other
 * parameters' l and g are fitted on the trials with the held values only: the numeric
 * parameters are treated as children of the held category, as Hyperopt's tree-structured TPE
 * (Bergstra et al. 2011) models the parameters under a choice from that branch's trials. A
 * category is then explored where it has not been tried (its own bad points in g), not at the
 * other categories' optimum. Spaces without categoricals draw nothing extra: unchanged.
 */
function independentProposer(space: ParameterSpace, good: Group, settings: TpeSettings, observations: number): Proposer {
  const width = space.kinds.length;
  const options: ParzenOptions = { priorWeight: settings.priorWeight, bandwidth: 'neighbours' };
  // l(x) does not change within a batch; g(x) gains the batch's earlier proposals.
  const goodModels = space.kinds.map((_, p) => new ParzenEstimator(space.kinds, [p], good, options));
  const m = settings.nEiCandidates;
  const candidates = new Float64Array(m * width);
  const logL = new Float64Array(m);
  const logG = new Float64Array(m);
  const chosen = new Float64Array(width);
  const rates = space.kinds.map((k) => (k.kind === 'categorical' ? explorationRate(k.size, observations) : 0));
  const hasChoices = rates.some((r) => r > 0);
  return (bad, rng) => {
    const held = hasChoices ? rates.map((r, p) => (r > 0 && rng.next() < r ? rng.int((space.kinds[p] as { size: number }).size) : undefined)) : [];
    const conditioned = held.some((v) => v !== undefined);
    const goodHere = conditioned ? rowsMatching(good, width, held) : good;
    const badHere = conditioned ? rowsMatching(bad, width, held) : bad;
    space.kinds.forEach((_, p) => {
      const value = held[p];
      if (value !== undefined) {
        chosen[p] = value;
        return;
      }
      const l = conditioned ? new ParzenEstimator(space.kinds, [p], goodHere, options) : (goodModels[p] as ParzenEstimator);
      const g = new ParzenEstimator(space.kinds, [p], badHere, options);
      for (let c = 0; c < m; c++) {
        l.sample(rng, candidates, c);
        space.snap(candidates, c, p);
      }
      l.logPdf(candidates, m, logL);
      g.logPdf(candidates, m, logG);
      chosen[p] = candidates[bestRatio(logL, logG, m) * width + p] as number;
    });
    return space.decodeRow(chosen, 0);
  };
}

/** Multivariate TPE: one joint kernel per observation, candidates scored on every dimension at once. */
function jointProposer(space: ParameterSpace, good: Group, settings: TpeSettings): Proposer {
  const width = space.kinds.length;
  const all = space.kinds.map((_, p) => p);
  const options: ParzenOptions = { priorWeight: settings.priorWeight, bandwidth: 'scott' };
  const l = new ParzenEstimator(space.kinds, all, good, options);
  const m = settings.nEiCandidates;
  const candidates = new Float64Array(m * width);
  const logL = new Float64Array(m);
  const logG = new Float64Array(m);
  return (bad, rng) => {
    const g = new ParzenEstimator(space.kinds, all, bad, options);
    for (let c = 0; c < m; c++) {
      l.sample(rng, candidates, c);
      for (let p = 0; p < width; p++) space.snap(candidates, c, p);
    }
    l.logPdf(candidates, m, logL);
    g.logPdf(candidates, m, logG);
    return space.decodeRow(candidates, bestRatio(logL, logG, m));
  };
}

/** Index of the candidate with the largest log l − log g (the first on ties). */
function bestRatio(logL: Float64Array, logG: Float64Array, m: number): number {
  let best = 0;
  let bestScore = -Infinity;
  for (let c = 0; c < m; c++) {
    const score = (logL[c] as number) - (logG[c] as number);
    if (score > bestScore) {
      bestScore = score;
      best = c;
    }
  }
  return best;
}
