// `motpe`: multi-objective TPE (Ozaki, Tanigaki, Watanabe & Onishi 2020, "Multiobjective
// tree-structured Parzen estimator for computationally expensive optimization problems",
// GECCO; extended in JAIR 2022). TPE's good/bad split becomes: whole non-domination fronts
// (rank 0, 1, …) go to the good group while they fit, and the front that overflows is cut
// greedily by hypervolume contribution (each step keeps the point adding the most volume to
// what was kept, on objectives normalised to [0, 1] with the reference point 1.1 in each).
// The split is handed to our TPE (`tpe`, or `multivariate-tpe` with multivariate=true) as a
// rank: each finished trial's single objective value is its place in that order, so TPE's
// own good group is exactly MOTPE's. Good points are weighted in l(x) by their exclusive
// hypervolume contribution within the good group (the papers' weights, as Optuna 3.1 does),
// relative to the largest, on the same normalised scale: a good point that another good
// point dominates adds no volume and so all but drops out of l(x). Without `gamma`, the good
// group is 20% of the finished trials (at most 25, TPE's cap), not TPE's 10%: chosen among
// 10/15/20/25/30% on bench:multiobjective's seeds 101–110, not on the seeds it reports
// (bench/README.md, "Multi-objective").
import type { Settings, SuggestRequest, SuggestResult, SuggestionAlgorithm, TrialView } from '../model.js';
import { normalizedLosses, scoredTrials, type Scored } from '../objectives.js';
import { hypervolume, hypervolumeContributions, nonDominatedRanks } from '../pareto.js';
import { readSetting, settingError } from '../settings.js';
import { suggestTpe } from '../tpe/index.js';
import { goodCount, readTpeSettings } from '../tpe/settings.js';

const NAME = 'motpe';
const REFERENCE = 1.1;
/** Optuna's EPS: a point that adds no volume still weighs a little, so l(x) is never empty. */
const WEIGHT_FLOOR = 1e-12;
/** The good fraction without `gamma` (see above). */
const GOOD_FRACTION = 0.2;

function readMotpeSettings(settings: Settings): { multivariate: boolean; tpe: Settings } {
  const raw = readSetting(settings, 'multivariate') ?? 'false'; // Optuna 3.1's default; better on 3 of the 4 bench fronts
  if (raw !== 'true' && raw !== 'false') throw settingError('multivariate', `must be true or false (got ${JSON.stringify(raw)})`);
  const tpe = settings.filter((s) => s.name !== 'multivariate');
  readTpeSettings(tpe, NAME);
  return { multivariate: raw === 'true', tpe };
}

export const motpeAlgorithm: SuggestionAlgorithm = {
  name: NAME,
  multiObjective: true,

  validateSettings(_space, settings) {
    readMotpeSettings(settings);
  },

  suggest(request: SuggestRequest): SuggestResult {
    const { multivariate, tpe } = readMotpeSettings(request.settings);
    const settings = readTpeSettings(tpe, NAME);
    const scored = scoredTrials(request.space, request.trials);
    const order = motpeOrder(scored.map((s) => s.loss), goodCount(settings, scored.length, GOOD_FRACTION));
    // Place k of the order is trial scored[order[k]]: TPE's good group hands back places.
    const goodWeights = (places: readonly number[]) => contributionWeights(places.map((k) => scored[order[k]!]!.loss));
    // Warm-start priors carry one objective value, not a place in this order: left out.
    const { priorTrials: _priors, ...own } = request;
    return suggestTpe(
      { ...own, space: { parameters: request.space.parameters, direction: 'minimize' }, trials: rankedTrials(request.trials, scored, order), settings: tpe },
      settings,
      { multivariate, goodFraction: GOOD_FRACTION, goodWeights },
    );
  },
};

/**
 * The trials with each finished one's value replaced by its place in MOTPE's `order` (of the
 * `scored` trials, the good group first), so a single-objective TPE splits them as MOTPE does.
 */
function rankedTrials(trials: readonly TrialView[], scored: readonly Scored[], order: readonly number[]): TrialView[] {
  const place = new Map<TrialView, number>();
  order.forEach((i, k) => place.set(scored[i]!.trial, k));
  return trials.map((t) => {
    const { objectiveValues: _values, objectiveValue: _value, ...rest } = t;
    const k = place.get(t);
    return k === undefined ? rest : { ...rest, objectiveValue: k };
  });
}

/** Indices of the points, the `good` MOTPE picks first (in pick order), then the rest by rank. */
export function motpeOrder(losses: readonly (readonly number[])[], good: number): number[] {
  const ranks = nonDominatedRanks(losses);
  const byRank = [...losses.keys()].sort((a, b) => ranks[a]! - ranks[b]! || a - b);
  const chosen: number[] = [];
  let r = 0;
  while (chosen.length < good) {
    const front = byRank.filter((i) => ranks[i] === r);
    if (chosen.length + front.length <= good) chosen.push(...front);
    else chosen.push(...greedyByContribution(losses, front, good - chosen.length));
    r++;
  }
  const inGood = new Set(chosen);
  return [...chosen, ...byRank.filter((i) => !inGood.has(i))];
}

/** `k` points of `front`, each step the one whose addition to those kept adds the most hypervolume. */
function greedyByContribution(losses: readonly (readonly number[])[], front: readonly number[], k: number): number[] {
  const normalized = normalizedLosses(front.map((i) => losses[i]!));
  const reference = normalized[0]!.map(() => REFERENCE);
  const kept: number[] = [];
  const left = [...front.keys()];
  while (kept.length < k) {
    const base = hypervolume(kept.map((j) => normalized[j]!), reference);
    let best = 0;
    let bestGain = -Infinity;
    left.forEach((j, at) => {
      const gain = hypervolume([...kept, j].map((q) => normalized[q]!), reference) - base;
      if (gain > bestGain) { bestGain = gain; best = at; }
    });
    kept.push(left.splice(best, 1)[0]!);
  }
  return kept.map((j) => front[j]!);
}

/**
 * Each point's weight in MOTPE's l(x): its exclusive hypervolume contribution to the set (on
 * losses normalised to [0, 1], reference 1.1 in each), over the largest one; a tiny floor keeps
 * the weights positive when no point contributes (a single point weighs 1).
 */
export function contributionWeights(losses: readonly (readonly number[])[]): Float64Array {
  if (losses.length <= 1) return new Float64Array(losses.length).fill(1);
  const normalized = normalizedLosses(losses);
  const contributions = hypervolumeContributions(normalized, normalized[0]!.map(() => REFERENCE)).map((c) => Math.max(0, c) + WEIGHT_FLOOR);
  const largest = Math.max(...contributions);
  return Float64Array.from(contributions, (c) => c / largest);
}
