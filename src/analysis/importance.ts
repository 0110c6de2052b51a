// Parameter importance: which parameters move the objective. A random forest (forest.ts) is fit
// on the completed trials (assignment → objective value) and fANOVA (fanova.ts) splits its
// variance: each parameter's main effect is the share its marginal explains; the importances
// are those shares normalised to sum to 1, as Optuna's FanovaImportanceEvaluator reports them.
// A forest rather than the GP surrogate: it needs no hyperparameter fit, handles categorical and
// stepped values as they are, and its fANOVA is exact (sums over leaves), not sampled.
//
// Encoding: each parameter is one dimension under the uniform measure of its feasible space:
// ranges on their scale (log for log distributions), ints and stepped ranges padded by half a
// step so every point has equal weight; lists (categorical, discrete) as the index of the value,
// one unit per value. Pure and deterministic for a seed.
import type { Parameter, ParamValue, TrialView } from '../../suggestion-algorithms/model.js';
import { LIMITS } from '../model/limits.js';
import { fitForest } from './forest.js';
import { mainEffects } from './fanova.js';

export interface ImportanceRequest {
  readonly parameters: readonly Parameter[];
  readonly trials: readonly TrialView[];
  readonly seed: number;
  /** Trees in the forest (default LIMITS.importanceTrees). */
  readonly trees?: number;
}

export interface ParameterImportance {
  readonly name: string;
  /** The parameter's share of the importances (they sum to 1 when any parameter matters). */
  readonly importance: number;
  /** The share of the objective's variance its main effect explains alone (what is left is interactions). */
  readonly mainEffect: number;
}

export interface ImportanceResult {
  /** Most important first (ties: in spec order). */
  readonly parameters: ParameterImportance[];
  /** The completed trials the forest was fit on. */
  readonly trials: number;
}

const MAX_DEPTH = 32;
const MIN_LEAF = 1;

export function parameterImportance(request: ImportanceRequest): ImportanceResult {
  const dims = request.parameters.map(dimensionOf);
  const rows: Float64Array[] = [];
  const y: number[] = [];
  for (const t of request.trials) {
    if ((t.state !== 'SUCCEEDED' && t.state !== 'EARLY_STOPPED') || t.objectiveValue === undefined || !Number.isFinite(t.objectiveValue)) continue;
    const row = new Float64Array(dims.length);
    const usable = dims.every((d, k) => {
      const x = d.encode(t.assignment[request.parameters[k]!.name]);
      if (x === undefined) return false;
      row[k] = x;
      return true;
    });
    if (!usable) continue; // from an older space, or a parameter inactive in it
    rows.push(row);
    y.push(t.objectiveValue);
  }
  const used = rows.slice(-LIMITS.maxImportanceTrials);
  const targets = y.slice(-LIMITS.maxImportanceTrials);
  const domain = { lo: Float64Array.from(dims, (d) => d.lo), hi: Float64Array.from(dims, (d) => d.hi) };
  const fractions = used.length < 2
    ? dims.map(() => 0)
    : mainEffects(fitForest(used, targets, domain, { trees: request.trees ?? LIMITS.importanceTrees, seed: request.seed, maxDepth: MAX_DEPTH, minLeaf: MIN_LEAF }), domain).fractions;
  const sum = fractions.reduce((a, b) => a + b, 0);
  const parameters = request.parameters.map((p, k) => ({
    name: p.name,
    importance: sum > 0 ? (fractions[k] as number) / sum : 0,
    mainEffect: fractions[k] as number,
  }));
  return { parameters: parameters.map((p, k) => ({ p, k })).sort((a, b) => b.p.importance - a.p.importance || a.k - b.k).map(({ p }) => p), trials: used.length };
}

interface Dimension {
  readonly lo: number;
  readonly hi: number;
  /** The value's coordinate, or undefined when it has none in this space. */
  encode(v: ParamValue | undefined): number | undefined;
}

function dimensionOf(p: Parameter): Dimension {
  if (p.parameterType === 'categorical' || p.parameterType === 'discrete') {
    const list: readonly ParamValue[] = p.list;
    return {
      lo: 0,
      hi: list.length,
      encode: (v) => {
        const i = p.parameterType === 'categorical' ? list.indexOf(String(v)) : list.indexOf(Number(v));
        return i < 0 ? undefined : i + 0.5;
      },
    };
  }
  const log = p.distribution === 'logUniform' || p.distribution === 'logNormal';
  const scale = (v: number) => (log ? Math.log(v) : v);
  const pad = p.step !== undefined ? p.step / 2 : p.parameterType === 'int' ? 0.5 : 0;
  const lo = log ? scale(p.min) - (pad > 0 ? (scale(p.min + pad) - scale(p.min)) : 0) : p.min - pad;
  const hi = log ? scale(p.max) + (pad > 0 ? (scale(p.max) - scale(p.max - pad)) : 0) : p.max + pad;
  // A one-point range (hyperband's resource) has no width: a unit one, where every trial sits alike.
  const width = hi - lo > 0 ? hi - lo : 1;
  return {
    lo,
    hi: lo + width,
    encode: (v) => {
      const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
      if (!Number.isFinite(n) || n < p.min || n > p.max || (log && n <= 0)) return undefined;
      return Math.min(lo + width, Math.max(lo, scale(n)));
    },
  };
}
