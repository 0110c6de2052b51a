// The Sibyl side of `npm run bench:early-stopping`: a sequential study driven in-process, as the
// scheduler runs one with parallelTrialCount 1 (src/scheduler/early-stopping.ts). Sibyl's `tpe`
// suggests one assignment; its curve is replayed step by step; after each step the policy's
// decide() sees every trial's curve so far (judgedThrough = the step decided before) and the
// trial stops when it says so. The last step is not judged: it arrives with the trial's end,
// which the scheduler records without judging (its `finishing` trials). A trial that ran its
// whole curve is SUCCEEDED, a stopped one EARLY_STOPPED; both carry the metric strategy `max`
// of what they reported as their objective value, and `tpe` learns from both
// (suggestion-algorithms/history.ts), as it does in the scheduler.
//
// A study runs on a budget of steps (the steps a no-stopping study of the bench's trial count
// spends): trials start while steps are left, and the one that would overspend is cut at the
// budget. A sequential study does not depend on how long it will run, so its first `trials`
// trials are exactly the study of that many trials: one run gives both of the bench's readings,
// the fixed trial count and equal compute.
import type { Assignment, Settings, TrialState, TrialView } from '../suggestion-algorithms/model.js';
import type { CurveView, EarlyStoppingPolicy } from '../suggestion-algorithms/early-stopping/model.js';
import { getPolicy } from '../suggestion-algorithms/early-stopping/registry.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { STEPS, strategyMax, type Problem } from './learning-curves.js';

/** One trial of a study as the metrics see it. */
export interface TrialRecord {
  /** Steps the trial ran (its cost). */
  readonly steps: number;
  /** Stopped by the policy or pruner before its curve ended. */
  readonly stopped: boolean;
  /** Ran every step of the full curve (the problem's end, or the trial's own end when training diverged); false when stopped or cut by the end of the budget. */
  readonly full: boolean;
  /** The metric strategy `max` of the values it reported. */
  readonly value: number;
  /** What `value` would have been had it run its whole curve (for counting the good trials a policy cut short). */
  readonly fullValue: number;
}

/** Settings of Sibyl's policies; Optuna's pruners get the same numbers (bench/optuna_pruners.py). */
export const POLICY_SETTINGS: Readonly<Record<string, Settings>> = {
  medianstop: [
    { name: 'min_trials_required', value: '3' },
    { name: 'start_step', value: '4' },
  ],
  asha: [
    { name: 'min_resource', value: '1' },
    { name: 'reduction_factor', value: '3' },
    { name: 'min_early_stopping_rate', value: '0' },
  ],
  // Its defaults (Optuna has no such pruner).
  curvefit: [],
};

export const SIBYL_METHODS = ['sibyl-none', 'sibyl-medianstop', 'sibyl-asha', 'sibyl-curvefit', 'sibyl-hyperband'] as const;

interface LiveCurve {
  name: string;
  state: TrialState;
  curve: { steps: number[]; values: number[] };
}

/** A sequential TPE study with an optional early-stopping policy, on a budget of `budget` steps and at most `maxTrials` trials. */
export function runTpeStudy(problem: Problem, policyName: string | undefined, seed: number, budget: number, maxTrials = Infinity): TrialRecord[] {
  const tpe = getAlgorithm('tpe');
  if (!tpe) throw new Error('tpe is not registered');
  let policy: EarlyStoppingPolicy | undefined;
  if (policyName !== undefined) {
    policy = getPolicy(policyName);
    if (!policy) throw new Error(`unknown early-stopping policy ${policyName}`);
  }
  const policySettings = policyName === undefined ? [] : (POLICY_SETTINGS[policyName] ?? []);
  policy?.validateSettings(policySettings);
  const space = { parameters: problem.parameters, direction: 'maximize' as const };
  const settings: Settings = [{ name: 'random_state', value: String(seed) }];
  tpe.validateSettings(space, settings);

  const views: TrialView[] = [];
  const curves: LiveCurve[] = [];
  const records: TrialRecord[] = [];
  let state: Record<string, string> | undefined;
  let spent = 0;
  for (let i = 0; spent < budget && i < maxTrials; i++) {
    const result = tpe.suggest({ space, trials: views, count: 1, seed, settings, ...(state ? { state } : {}) });
    state = result.state;
    const assignment: Assignment | undefined = result.assignments[0];
    if (!assignment) throw new Error(`tpe proposed nothing at trial ${i}`);
    const name = `t${i}`;
    const full = problem.curve(assignment);
    const live: LiveCurve = { name, state: 'RUNNING', curve: { steps: [], values: [] } };
    curves.push(live);
    const view: { name: string; state: TrialState; assignment: Assignment; objectiveValue?: number } = { name, state: 'RUNNING', assignment };
    views.push(view);

    let stopped = false;
    let outOfBudget = false;
    let judgedThrough = 0;
    for (let s = 1; s <= full.length; s++) {
      live.curve.steps.push(s);
      live.curve.values.push(full[s - 1]!);
      // The last report ends the trial: there is nothing left to stop.
      if (s === full.length) break;
      if (spent + s === budget) {
        outOfBudget = true;
        break;
      }
      if (!policy) continue;
      const decision = policy.decide({ direction: 'maximize', settings: policySettings, trials: curves as readonly CurveView[], trial: name, judgedThrough });
      judgedThrough = s;
      if (decision.stop) {
        stopped = true;
        break;
      }
    }
    const steps = live.curve.steps.length;
    spent += steps;
    const value = strategyMax(live.curve.values);
    live.state = view.state = stopped ? 'EARLY_STOPPED' : 'SUCCEEDED';
    view.objectiveValue = value;
    records.push({ steps, stopped, full: !stopped && !outOfBudget, value, fullValue: strategyMax(full) });
  }
  return records;
}

/** The resource parameter Sibyl's `hyperband` assigns (Katib's `resource_name`): the steps a trial runs. */
const RESOURCE = 'steps';

/**
 * Sibyl's `hyperband` suggestion algorithm (Katib's: brackets of successive halving over random
 * configurations, each promotion a new trial that trains again from step 1) with r_l = STEPS and
 * eta = 3, Optuna's HyperbandPruner's numbers. Its budget is the no-stopping study's steps
 * (`maxSteps`): it runs until its schedule is done or the next trial would overspend. A trial
 * given r steps costs r steps and gets the curve of a run of r steps (problem.shortRun: for the
 * MLP a real `train.mjs --epochs r`, whose cosine schedule decays within those r epochs; for the
 * simulator the first r steps of its curve); only trials that reach the last step are `full`.
 * When the algorithm is not registered this reports it as not available.
 */
export function runHyperbandStudy(problem: Problem, seed: number, maxSteps: number): { records?: TrialRecord[]; note?: string } {
  const hyperband = getAlgorithm('hyperband');
  if (!hyperband) return { note: 'not on main yet (branch hyperband)' };
  const space = {
    parameters: [...problem.parameters, { name: RESOURCE, parameterType: 'int' as const, min: 1, max: STEPS, distribution: 'uniform' as const }],
    direction: 'maximize' as const,
  };
  const settings: Settings = [
    { name: 'resource_name', value: RESOURCE },
    { name: 'r_l', value: String(STEPS) },
    { name: 'eta', value: '3' },
  ];
  hyperband.validateSettings(space, settings);
  const views: TrialView[] = [];
  const records: TrialRecord[] = [];
  let spent = 0;
  let state: Record<string, string> | undefined;
  for (;;) {
    const result = hyperband.suggest({ space, trials: views, count: 1, seed, settings, ...(state ? { state } : {}) });
    state = result.state;
    const assignment = result.assignments[0];
    if (!assignment) break; // its schedule is done (sequentially, nothing is ever left running)
    const resource = assignment[RESOURCE];
    if (typeof resource !== 'number' || resource < 1) throw new Error(`hyperband gave ${RESOURCE} = ${String(resource)}`);
    const curve = problem.curve(assignment);
    const steps = Math.min(Math.floor(resource), curve.length);
    if (spent + steps > maxSteps) break;
    spent += steps;
    const run = steps < curve.length ? (problem.shortRun?.(assignment, steps) ?? curve.slice(0, steps)) : curve;
    const value = strategyMax(run);
    views.push({ name: `t${views.length}`, state: 'SUCCEEDED', assignment, objectiveValue: value });
    records.push({ steps, stopped: false, full: steps === curve.length, value, fullValue: strategyMax(curve) });
  }
  return { records };
}

export interface SibylRun {
  /** Every trial the study ran within its budget of steps (the equal-compute reading). */
  readonly records?: TrialRecord[];
  /** How many of the first records make the study of the bench's trial count (the fixed-trial reading). */
  readonly fixedTrials?: number;
  readonly note?: string;
}

/**
 * One Sibyl study on the budget of `trials` full trials; with `equalCompute` false, also at most
 * `trials` trials (the fixed-trial reading only, much shorter for policies that cut a lot). The tpe
 * studies give both readings; Sibyl's hyperband runs on that budget in both (its schedule fixes
 * its trials, and it ends within it).
 */
export function runSibylMethod(problem: Problem, method: string, seed: number, trials: number, equalCompute = true): SibylRun {
  const budget = trials * STEPS;
  const tpeStudy = (policy: string | undefined): SibylRun => {
    const records = runTpeStudy(problem, policy, seed, budget, equalCompute ? Infinity : trials);
    return { records, fixedTrials: Math.min(trials, records.length) };
  };
  switch (method) {
    case 'sibyl-none':
      return tpeStudy(undefined);
    case 'sibyl-medianstop':
      return tpeStudy('medianstop');
    case 'sibyl-asha':
      return tpeStudy('asha');
    case 'sibyl-curvefit':
      return tpeStudy('curvefit');
    case 'sibyl-hyperband': {
      const run = runHyperbandStudy(problem, seed, budget);
      return run.records ? { records: run.records, fixedTrials: run.records.length } : run;
    }
    default:
      throw new Error(`unknown Sibyl method ${method}`);
  }
}
