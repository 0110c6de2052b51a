// `bayesianoptimization`: Gaussian-process BO in the spirit of Katib's skopt service
// (GP, n_initial_points, gp_hedge, acq_optimizer), rebuilt for speed and determinism.
// - The first n_initial_points trials come from a scrambled Halton design indexed by trial
//   number, so the design continues across calls and batches.
// - Then: Matérn-5/2 ARD GP on standardised losses (MAP hyperparameters), acquisition maximised
//   over quasi-random + local candidates with Nelder–Mead refinement.
// - Batches and pending trials: fantasies with a pessimistic kriging-believer lie (model.ts).
// - gp_hedge's gains live in the returned state (see hedgeState below); without a state they
//   restart at zero, which only changes the portfolio's odds, never validity.
import type { Assignment, SuggestRequest, SuggestResult, SuggestionAlgorithm } from '../model.js';
import { readHistory } from '../history.js';
import { modelTrials, priorCount } from '../priors.js';
import { withoutRepeats } from '../repeats.js';
import { Rng } from '../rng.js';
import { isConditional } from '../conditions.js';
import { canonicalPoint, unitCube } from '../transform.js';
import { drawHeldValues, holdValues, valueOf, type HeldValues } from './categories.js';
import { acquisitionValue, hedgeChoice, type AcquisitionContext, type AcquisitionName } from './acquisition.js';
import { predict, type Hyperparameters } from './gp.js';
import { ScrambledHalton } from './halton.js';
import { FantasyModel, fitSurrogate, trainingSet } from './model.js';
import { feasibilityModel, type FeasibilityModel } from './feasibility.js';
import { compareConstrained } from '../constraints.js';
import { designDims, designToCube, layoutOf, lengthscaleGroups, perturbations, polish, quasiRandomCandidates, type Layout } from './optimize.js';
import { NAME, readSettings, type BayesianOptimizationSettings } from './settings.js';

const KAPPA = 1.96;
/** skopt's default exploration margin, here in standardised loss units. */
const XI = 0.01;
const HEDGE_ETA = 1;
const HEDGE_PORTFOLIO: readonly AcquisitionName[] = ['ei', 'pi', 'lcb'];

const QUASI_RANDOM_CANDIDATES = 1000;
const INCUMBENTS = 5;
const PERTURBATIONS_PER_INCUMBENT = 50;
const REFINED_STARTS = 3;
const REFINE_EVALUATIONS = 60;

// Rng streams (mixed with the trial index where it matters).
const DESIGN_STREAM = 0x6a09e667;
const FIT_STREAM = 0x3c6ef372;
const CANDIDATE_STREAM = 0x510e527f;
const HEDGE_STREAM = 0x1f83d9ab;
const CATEGORY_STREAM = 0x5be0cd19;
const FEASIBILITY_STREAM = 0x7137449;
/**
 * Gelbart et al.'s confidence δ: a candidate less likely than this to be feasible ranks below
 * every likelier one (on a bound-hugging optimum, EI × PoF alone spent ~⅔ of its trials just past
 * the bound; with δ = ½, ~⅛, measured on test/constraints-algorithms' problem).
 */
const LOG_MIN_FEASIBILITY = Math.log(0.5);
const UNSAFE_PENALTY = 1e3;

export const bayesianOptimizationAlgorithm: SuggestionAlgorithm = {
  name: NAME,

  validateSettings(_space, settings) {
    readSettings(settings);
  },

  suggest(request: SuggestRequest): SuggestResult {
    const { space, trials, count, seed, state, settings: raw } = request;
    const settings = readSettings(raw);
    const base = settings.randomState ?? seed;
    const cube = unitCube(space);
    // A tree is modelled flat, inactive dimensions imputed (transform.ts); candidates are scored as they will be run.
    const layout: Layout = isConditional(space) ? { ...layoutOf(cube), canonical: (x) => canonicalPoint(space, cube, x) } : layoutOf(cube);
    // Warm-start priors are observations like the study's own, and take the place of initial points.
    const history = readHistory(space, modelTrials(request), cube);
    const priors = priorCount(request);
    const design = new ScrambledHalton(designDims(layout), new Rng(base, DESIGN_STREAM));

    const chosen: Float64Array[] = [];
    let optimizer: BatchOptimizer | undefined;
    for (let i = 0; i < Math.max(0, count); i++) {
      const trialIndex = trials.length + i;
      if (trialIndex + priors < settings.nInitialPoints || history.observations.length < 2) {
        chosen.push(designToCube(layout, design.point(trialIndex)));
        continue;
      }
      optimizer ??= new BatchOptimizer(settings, layout, history, [...history.pending, ...chosen], base, trials.length, state);
      const x = optimizer.propose(trialIndex);
      chosen.push(x);
    }
    const assignments: Assignment[] = chosen.map((x) => cube.decode(x));
    const result = withoutRepeats(space, trials, assignments, base);
    const nextState = optimizer?.state() ?? (state ? { ...state } : undefined);
    return { ...result, ...(nextState ? { state: nextState } : {}) };
  },
};

/** One call's model and candidates; proposes the batch one point at a time. */
class BatchOptimizer {
  private readonly model: FantasyModel;
  private readonly candidates: Float64Array[];
  private readonly gains: number[];
  private readonly ranked: readonly Float64Array[];
  private readonly observations: number;
  /** Outcome constraints: the violation GP, once some trial broke a bound. */
  private readonly feasibility: FeasibilityModel | undefined;
  /** EI's and PI's threshold: the best feasible loss (+∞ while no trial is feasible). */
  private readonly incumbent: number;
  private hedgeProposals: Float64Array[] | undefined;
  proposals = 0;

  constructor(
    private readonly settings: BayesianOptimizationSettings,
    private readonly layout: Layout,
    history: ReturnType<typeof readHistory>,
    fantasies: readonly Float64Array[],
    private readonly base: number,
    trialCount: number,
    previous: Readonly<Record<string, string>> | undefined,
  ) {
    const training = trainingSet(history.observations);
    // Without choice parameters every column has its own lengthscale: no groups needed.
    const groups = layout.choices.length > 0 ? lengthscaleGroups(layout) : undefined;
    const hyper = fitSurrogate(training, layout.dims, new Rng(base, FIT_STREAM + trialCount), readHyperparameters(previous, layout.dims), groups);
    this.model = new FantasyModel(training, hyper, fantasies);
    this.feasibility = feasibilityModel(training.x, training.violation, layout.dims, new Rng(base, FEASIBILITY_STREAM + trialCount), groups);
    this.incumbent = this.feasibility ? training.feasibleBest : this.model.best;
    this.gains = updatedGains(previous, this.model, layout.dims);

    this.observations = history.observations.length;
    // Incumbents to perturb: feasible ones first (by loss), then the least violating.
    this.ranked = [...history.observations].sort(compareConstrained).map((o) => o.x);
    const rng = new Rng(base, CANDIDATE_STREAM + trialCount);
    this.candidates = quasiRandomCandidates(layout, QUASI_RANDOM_CANDIDATES, rng);
    this.candidates.push(...perturbations(layout, this.ranked.slice(0, INCUMBENTS), PERTURBATIONS_PER_INCUMBENT, rng));
  }

  /**
   * Candidates for one proposal: the shared ones, or, when some categorical values are held for
   * exploration (categories.ts), the quasi-random points and perturbations of the best points
   * that have those values, with the values held.
   */
  private candidatesFor(held: HeldValues, trialIndex: number): readonly Float64Array[] {
    if (held.every((v) => v === undefined)) return this.candidates;
    const matching = this.ranked.filter((x) => held.every((v, p) => v === undefined || valueOf(this.layout, x, p) === v));
    const incumbents = (matching.length > 0 ? matching : this.ranked).slice(0, INCUMBENTS);
    const rng = new Rng(this.base, CANDIDATE_STREAM + trialIndex + 0.5);
    const quasiRandom = this.candidates.slice(0, QUASI_RANDOM_CANDIDATES);
    return [...quasiRandom, ...perturbations(this.layout, incumbents, PERTURBATIONS_PER_INCUMBENT, rng)].map((x) => holdValues(this.layout, Float64Array.from(x), held));
  }

  propose(trialIndex: number): Float64Array {
    const context: AcquisitionContext = { best: this.incumbent, kappa: KAPPA, xi: XI };
    const portfolio = this.settings.acquisition === 'gp_hedge' ? HEDGE_PORTFOLIO : [this.settings.acquisition];
    const held = drawHeldValues(this.layout, this.observations, new Rng(this.base, CATEGORY_STREAM + trialIndex));
    const offered = this.candidatesFor(held, trialIndex);
    const canonical = this.layout.canonical;
    const candidates = canonical ? offered.map((x) => canonical(x)) : offered;
    const free = held.flatMap((v, p) => (v === undefined ? [p] : []));
    const { mean, variance } = predict(this.model.gp, candidates);
    const winners = portfolio.map((name) => this.maximize(name, context, candidates, mean, variance, free));
    let pick = 0;
    if (winners.length > 1) {
      pick = hedgeChoice(this.gains, HEDGE_ETA, new Rng(this.base, HEDGE_STREAM + trialIndex).next());
      if (this.proposals === 0) this.hedgeProposals = winners;
    }
    const x = winners[pick] as Float64Array;
    this.proposals++;
    this.model.addFantasy(x);
    return x;
  }

  private maximize(name: AcquisitionName, context: AcquisitionContext, candidates: readonly Float64Array[], mean: Float64Array, variance: Float64Array, free: readonly number[]): Float64Array {
    const feasible = this.feasibility?.logFeasibility(candidates);
    const values = candidates.map((_, i) => this.score(name, mean[i] as number, variance[i] as number, context, feasible?.[i]));
    const order = values.map((_, i) => i).sort((a, b) => (values[b] as number) - (values[a] as number));
    let best = { x: candidates[order[0] as number] as Float64Array, value: values[order[0] as number] as number };
    if (!this.settings.refine) return best.x;
    const score = (x: Float64Array) => {
      const point = this.layout.canonical?.(x) ?? x;
      const p = predict(this.model.gp, [point]);
      return this.score(name, p.mean[0] as number, p.variance[0] as number, context, this.feasibility?.logFeasibility([point])[0]);
    };
    for (const i of order.slice(0, REFINED_STARTS)) {
      const r = polish(this.layout, candidates[i] as Float64Array, values[i] as number, score, free, REFINE_EVALUATIONS);
      if (r.value > best.value) best = r;
    }
    return best.x;
  }

  /**
   * The acquisition, weighted by the probability of feasibility when constraints broke: log EI
   * (or log PI) + log PoF is constrained EI's log; for LCB the log PoF acts as a barrier; points
   * with PoF < δ rank last. While no trial is feasible there is nothing to improve on: PoF alone
   * (Gelbart et al.).
   */
  private score(name: AcquisitionName, mean: number, variance: number, context: AcquisitionContext, logFeasible: number | undefined): number {
    if (logFeasible === undefined) return acquisitionValue(name, mean, variance, context);
    if (!Number.isFinite(context.best)) return logFeasible;
    const value = acquisitionValue(name, mean, variance, context) + logFeasible;
    return logFeasible >= LOG_MIN_FEASIBILITY ? value : value - UNSAFE_PENALTY;
  }

  /**
   * State carried to the next call: the fitted log-hyperparameters (a warm start for the next
   * fit) and, for gp_hedge, the cumulative gains plus this call's three proposals, whose
   * posterior means under the next call's model become the next gain update (skopt's rule:
   * gains −= predicted loss at each proposal, here in standardised units).
   */
  state(): Record<string, string> {
    const h = this.model.hyper;
    const out: Record<string, string> = { gp_log_hyperparameters: [...h.lengthscales, h.signal, h.noise].map((v) => Math.log(v)).join(',') };
    if (this.settings.acquisition === 'gp_hedge') {
      out['hedge_gains'] = this.gains.join(',');
      if (this.hedgeProposals) out['hedge_proposals'] = JSON.stringify(this.hedgeProposals.map((p) => [...p]));
    }
    return out;
  }
}

function parseNumbers(s: string | undefined, length: number): number[] | undefined {
  if (s === undefined) return undefined;
  const values = s.split(',').map(Number);
  return values.length === length && values.every(Number.isFinite) ? values : undefined;
}

function readHyperparameters(state: Readonly<Record<string, string>> | undefined, d: number): Hyperparameters | undefined {
  const theta = parseNumbers(state?.['gp_log_hyperparameters'], d + 2);
  if (!theta) return undefined;
  return { lengthscales: Float64Array.from(theta.slice(0, d), Math.exp), signal: Math.exp(theta[d] as number), noise: Math.exp(theta[d + 1] as number) };
}

function updatedGains(state: Readonly<Record<string, string>> | undefined, model: FantasyModel, d: number): number[] {
  const gains = parseNumbers(state?.['hedge_gains'], HEDGE_PORTFOLIO.length) ?? HEDGE_PORTFOLIO.map(() => 0);
  let proposals: unknown;
  try {
    proposals = JSON.parse(state?.['hedge_proposals'] ?? 'null');
  } catch {
    proposals = null;
  }
  const valid =
    Array.isArray(proposals) &&
    proposals.length === gains.length &&
    proposals.every((p) => Array.isArray(p) && p.length === d && p.every((v) => typeof v === 'number' && Number.isFinite(v)));
  if (!valid) return gains;
  const { mean } = predict(model.gp, (proposals as number[][]).map((p) => Float64Array.from(p)));
  return gains.map((g, k) => g - (mean[k] as number));
}
