// TPE over a tree of parameters, as Optuna's TPESampler does it for define-by-run spaces:
// - `tpe`: every parameter's estimators l(x) and g(x) are built from the trials where that
//   parameter was active (Optuna 3.1 `_get_observation_pairs` skips trials without it), so a
//   child is modelled on its own branch only; the good/bad split and n_startup_trials count
//   those trials.
// - `multivariate-tpe`: Optuna's `group=True` decomposition: parameters that were active in
//   exactly the same trials form one group (the atoms of the trials' parameter sets), and each
//   group gets a joint estimator over the trials that activated it.
// Each part is proposed by the flat TPE over its own sub-space; the parts are merged and the
// caller drops what the merged assignment leaves inactive.
import type { Assignment, ParamValue, SuggestRequest, TrialView } from '../model.js';
import { withoutConditions } from '../conditions.js';
import type { TpeVariant } from './observations.js';
import type { TpeSettings } from './settings.js';

export type FlatProposer = (request: SuggestRequest, settings: TpeSettings, variant: TpeVariant) => Assignment[];

/** Names of each part: one parameter per part (independent), or groups of co-active parameters. */
export function branchGroups(request: Pick<SuggestRequest, 'space' | 'trials'>, multivariate: boolean): string[][] {
  const names = request.space.parameters.map((p) => p.name);
  if (!multivariate) return names.map((n) => [n]);
  const bySignature = new Map<string, string[]>();
  for (const name of names) {
    const signature = request.trials.flatMap((t, i) => (t.assignment[name] === undefined ? [] : [i])).join(',');
    bySignature.set(signature, [...(bySignature.get(signature) ?? []), name]);
  }
  return [...bySignature.values()];
}

function project(trial: TrialView, names: readonly string[]): TrialView {
  const assignment: Record<string, ParamValue> = {};
  for (const n of names) assignment[n] = trial.assignment[n] as ParamValue;
  return { ...trial, assignment };
}

export function proposeByBranches(request: SuggestRequest, settings: TpeSettings, variant: TpeVariant, propose: FlatProposer): Assignment[] {
  const { space, trials } = request;
  const base = settings.randomState ?? request.seed;
  const wanted = Math.max(0, request.count);
  const merged: Record<string, ParamValue>[] = Array.from({ length: wanted }, () => ({}));
  for (const names of branchGroups(request, variant.multivariate)) {
    const sub = withoutConditions(space, new Set(names));
    const seen = trials.filter((t) => names.every((n) => t.assignment[n] !== undefined)).map((t) => project(t, names));
    // Each part gets its own stream (named by its first parameter, which stays put as groups form).
    const part = space.parameters.findIndex((p) => p.name === names[0]);
    const partSettings: TpeSettings = { ...settings, randomState: (base + 0x9e3779b1 * (part + 1)) % 2 ** 32 };
    const proposals = propose({ ...request, space: sub, trials: seen, count: wanted }, partSettings, variant);
    proposals.forEach((a, i) => Object.assign(merged[i] as Record<string, ParamValue>, a));
  }
  return merged;
}
