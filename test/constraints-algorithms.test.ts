// The model-based algorithms steer away from infeasible trials. Problem: minimise
// (x − 0.8)² + (y − 0.8)² on [0, 1]² subject to load = x + y ≤ 1. The unconstrained optimum
// (0.8, 0.8) is infeasible (load 1.6); the constrained one is (0.5, 0.5), value 0.18, on the
// bound. Each algorithm runs 40 sequential trials (10 start-up) with fixed seeds, told each
// trial's feasibility by the store's own rule (feasibilityOf), and again told nothing, which
// shows the steering comes from the feasibility it is given.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { feasibilityOf, type Feasibility } from '../src/model/constraints.js';
import type { Assignment, SearchSpace, Settings, TrialView } from '../suggestion-algorithms/model.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { splitHistory, parameterSpace } from '../suggestion-algorithms/tpe/observations.js';
import { readHistory } from '../suggestion-algorithms/history.js';
import { unitCube } from '../suggestion-algorithms/transform.js';

const SPACE: SearchSpace = {
  parameters: [
    { name: 'x', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
    { name: 'y', parameterType: 'double', min: 0, max: 1, distribution: 'uniform' },
  ],
  direction: 'minimize',
};
const objective = (a: Assignment) => ((a.x as number) - 0.8) ** 2 + ((a.y as number) - 0.8) ** 2;
const CONSTRAINTS = [{ metricName: 'load', max: 1 }] as const;
const judge = (a: Assignment): Feasibility => feasibilityOf(CONSTRAINTS, () => (a.x as number) + (a.y as number));
const CONSTRAINED_OPTIMUM = 0.18;
const BUDGET = 40;
const STARTUP = 10;
const SEEDS = [1, 2, 3];

const SETTINGS: Record<string, Settings> = {
  tpe: [{ name: 'n_startup_trials', value: String(STARTUP) }],
  'multivariate-tpe': [{ name: 'n_startup_trials', value: String(STARTUP) }],
  bayesianoptimization: [{ name: 'n_initial_points', value: String(STARTUP) }],
  cmaes: [],
};

interface Run { readonly trials: readonly TrialView[]; readonly feasibleShare: number; readonly bestFeasible: number }

function run(name: string, seed: number, told: boolean): Run {
  const algorithm = getAlgorithm(name)!;
  const trials: TrialView[] = [];
  const verdicts: Feasibility[] = [];
  let state: Record<string, string> | undefined;
  while (trials.length < BUDGET) {
    const r = algorithm.suggest({ space: SPACE, trials, count: 1, seed, settings: SETTINGS[name]!, ...(state ? { state } : {}) });
    state = r.state;
    const assignment = r.assignments[0]!;
    const verdict = judge(assignment);
    verdicts.push(verdict);
    trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment, objectiveValue: objective(assignment), ...(told ? verdict : {}) });
  }
  const after = verdicts.slice(STARTUP);
  return {
    trials,
    feasibleShare: after.filter((v) => v.feasible).length / after.length,
    bestFeasible: Math.min(...trials.filter((_, i) => verdicts[i]!.feasible).map((t) => t.objectiveValue!)),
  };
}

for (const name of Object.keys(SETTINGS)) {
  test(`${name}: most post-start-up trials are feasible and the best feasible is near the constrained optimum`, { timeout: 120_000 }, () => {
    let feasible = 0;
    let blindFeasible = 0;
    for (const seed of SEEDS) {
      const told = run(name, seed, true);
      const blind = run(name, seed, false);
      feasible += told.feasibleShare / SEEDS.length;
      blindFeasible += blind.feasibleShare / SEEDS.length;
      const label = `${name} seed ${seed}: feasible share ${told.feasibleShare.toFixed(2)} (blind ${blind.feasibleShare.toFixed(2)}), best feasible ${told.bestFeasible.toFixed(4)}`;
      assert.ok(told.feasibleShare > 0.4, label);
      assert.ok(told.bestFeasible - CONSTRAINED_OPTIMUM < 0.04, label);
      assert.ok(told.bestFeasible >= CONSTRAINED_OPTIMUM - 1e-9, `${label}: nothing feasible beats the constrained optimum`);
    }
    assert.ok(feasible > 0.5, `${name}: ${feasible.toFixed(2)} of the post-start-up trials feasible over the seeds`);
    assert.ok(feasible > blindFeasible + 0.25, `${name}: ${feasible.toFixed(2)} feasible when told vs ${blindFeasible.toFixed(2)} blind: the feasibility it is told steers it`);
  });
}

test('tpe split: infeasible trials are in the bad group, ranked by violation, once enough feasible trials exist', () => {
  const cube = unitCube(SPACE);
  const space = parameterSpace(cube);
  const at = (x: number, loss: number, verdict?: Feasibility): TrialView => ({ name: `t${x}`, state: 'SUCCEEDED', assignment: { x, y: 0 }, objectiveValue: loss, ...(verdict ?? {}) });
  const trials = [
    at(0.1, -100, { feasible: false, violation: 3 }), // the lowest losses are infeasible
    at(0.2, -50, { feasible: false, violation: 0.5 }),
    at(0.3, -10, { feasible: false }), // unknown violation: worst
    at(0.4, 5, { feasible: true, violation: 0 }),
    at(0.5, 1, { feasible: true, violation: 0 }),
  ];
  const good = (goodCount: number) => {
    const split = splitHistory(space, readHistory(SPACE, trials, cube), goodCount, 0);
    return Array.from(split.good.rows.subarray(0, split.good.n * 2).filter((_, i) => i % 2 === 0)).map((v) => Math.round(v * 10) / 10).sort();
  };
  assert.deepEqual(good(2), [0.4, 0.5], 'the feasible ones, however low the infeasible losses');
  assert.deepEqual(good(3), [0.2, 0.4, 0.5], 'then the least violating');
  assert.deepEqual(good(4), [0.1, 0.2, 0.4, 0.5], 'an unknown violation comes last');
});

test('with only infeasible trials so far, every algorithm moves towards feasibility: less load than when it is not told', () => {
  // Nothing feasible to improve on: TPE's good group is the least violating, CMA-ES ranks by
  // violation, bayesianoptimization proposes by the probability of feasibility alone. The history
  // has a low objective near (0.8, 0.8), which a blind algorithm follows.
  const history = (told: boolean): TrialView[] => Array.from({ length: 14 }, (_, i) => {
    const assignment = { x: 0.55 + ((i * 7) % 14) / 30, y: 0.5 + ((i * 5) % 14) / 30 };
    return { name: `t${i}`, state: 'SUCCEEDED', assignment, objectiveValue: objective(assignment), ...(told ? judge(assignment) : {}) };
  });
  assert.ok(history(true).every((t) => t.feasible === false), 'every trial of the history is infeasible');
  const meanLoad = (name: string, told: boolean) => {
    const r = getAlgorithm(name)!.suggest({ space: SPACE, trials: history(told), count: 8, seed: 7, settings: SETTINGS[name]! });
    return r.assignments.reduce((sum, a) => sum + (a.x as number) + (a.y as number), 0) / r.assignments.length;
  };
  for (const name of Object.keys(SETTINGS)) {
    const [told, blind] = [meanLoad(name, true), meanLoad(name, false)];
    assert.ok(told < blind - 0.1, `${name}: mean load ${told.toFixed(2)} when told vs ${blind.toFixed(2)} blind`);
  }
});
