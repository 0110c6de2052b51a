// Conditional parameters (#14 item 3): the spec's `condition`, its refusals with the field
// named, grids that enumerate exactly a tree's valid points, every algorithm proposing only
// active subtrees, the trial template of an inactive parameter, and the APIs carrying partial
// assignments.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { algorithmInput } from '../src/spec/algorithm.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyDocument } from '../src/spec/parse.js';
import { inactiveTrialParameters, trialParameterValues } from '../src/spec/template.js';
import { trialArgv } from '../src/runtimes/local/argv.js';
import { renderTrial } from '../src/runtimes/kubernetes/render.js';
import { checkAssignmentTree } from '../src/spec/conditions.js';
import { firstAssignment } from '../src/spec/assignment.js';
import { priorObservations } from '../src/spec/warm-start.js';
import type { StudySpec } from '../src/spec/types.js';
import { activeNames, pruneInactive, treeProblem } from '../suggestion-algorithms/conditions.js';
import type { Assignment, Parameter, ParamValue, SearchSpace, TrialView } from '../suggestion-algorithms/model.js';
import { explore } from '../suggestion-algorithms/pbt/explore.js';
import { algorithmNames, getAlgorithm } from '../suggestion-algorithms/registry.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { assignmentKey, gridPoints, pointCount, gridAxes } from '../suggestion-algorithms/space.js';
import { branchGroups } from '../suggestion-algorithms/tpe/branches.js';
import { startTestServer, call } from './support/server.js';

type Doc = any;

/** The README's example: momentum only for sgd/rmsprop, units_layer3 only with 3+ layers, a chain below momentum. */
function treeDoc(): Doc {
  return {
    apiVersion: 'kubeflow.org/v1beta1',
    kind: 'Experiment',
    metadata: { name: 'tree' },
    spec: {
      objective: { type: 'minimize', objectiveMetricName: 'loss' },
      algorithm: { algorithmName: 'random' },
      parameters: [
        { name: 'optimizer', parameterType: 'categorical', feasibleSpace: { list: ['sgd', 'adam', 'rmsprop'] } },
        { name: 'momentum', parameterType: 'double', feasibleSpace: { min: '0.5', max: '0.99' }, condition: { parent: 'optimizer', in: ['sgd', 'rmsprop'] } },
        { name: 'layers', parameterType: 'int', feasibleSpace: { min: '1', max: '4' } },
        { name: 'units_layer3', parameterType: 'int', feasibleSpace: { min: '8', max: '64' }, condition: { parent: 'layers', min: 3 } },
        { name: 'nesterov', parameterType: 'categorical', feasibleSpace: { list: ['on', 'off'] }, condition: { parent: 'momentum', min: 0.9 } },
        { name: 'beta2', parameterType: 'discrete', feasibleSpace: { list: [0.99, 0.999] }, condition: { parent: 'optimizer', equals: 'adam' } },
        { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.0001', max: '1', distribution: 'logUniform' } },
      ],
      trialTemplate: {
        trialParameters: ['optimizer', 'momentum', 'layers', 'units_layer3', 'nesterov', 'beta2', 'lr'].map((n) => ({ name: n, reference: n })),
        command: ['train', ...['optimizer', 'momentum', 'layers', 'units_layer3', 'nesterov', 'beta2', 'lr'].map((n) => `--${n}=\${trialParameters.${n}}`)],
      },
    },
  };
}

function refused(doc: Doc, field: string, reason: RegExp): void {
  assert.throws(() => parseStudyDocument(doc), (err: unknown) => {
    assert.ok(err instanceof SpecError, `a SpecError, got ${String(err)}`);
    assert.equal(err.field, field, err.message);
    assert.match(err.reason, reason);
    return true;
  });
}

test('a condition parses into its structured form; chains are allowed; a Katib file without one means what it meant', () => {
  const spec = parseStudyDocument(treeDoc());
  const byName = Object.fromEntries(spec.parameters.map((p) => [p.name, p]));
  assert.deepEqual(byName['momentum']!.condition, { parent: 'optimizer', values: ['sgd', 'rmsprop'] });
  assert.deepEqual(byName['units_layer3']!.condition, { parent: 'layers', min: 3 });
  assert.deepEqual(byName['nesterov']!.condition, { parent: 'momentum', min: 0.9 });
  assert.deepEqual(byName['beta2']!.condition, { parent: 'optimizer', values: ['adam'] });
  assert.equal(byName['optimizer']!.condition, undefined);
  const katib = treeDoc();
  for (const p of katib.spec.parameters) delete p.condition;
  for (const p of parseStudyDocument(katib).parameters) assert.equal('condition' in p, false, `${p.name} has no condition key`);
  // Ranges on int and discrete parents, and a list of values on an int.
  const doc = treeDoc();
  doc.spec.parameters[3].condition = { parent: 'layers', in: [3, 4] };
  doc.spec.parameters[5].condition = { parent: 'layers', min: 2, max: 3 };
  const s = parseStudyDocument(doc);
  assert.deepEqual(s.parameters[3]!.condition, { parent: 'layers', values: [3, 4] });
  assert.deepEqual(s.parameters[5]!.condition, { parent: 'layers', min: 2, max: 3 });
});

test('bad trees are refused with the field named: unknown parents, self reference, cycles, impossible conditions, wrong types', () => {
  const cases: [string, (d: Doc) => void, string, RegExp][] = [
    ['unknown parent', (d) => (d.spec.parameters[1].condition.parent = 'optimiser'), 'spec.parameters[1].condition.parent', /names no parameter of this study \(got "optimiser"/],
    ['self reference', (d) => (d.spec.parameters[1].condition.parent = 'momentum'), 'spec.parameters[1].condition.parent', /cannot depend on itself/],
    ['a cycle of two', (d) => (d.spec.parameters[0].condition = { parent: 'nesterov', equals: 'on' }), 'spec.parameters[0].condition.parent', /cycle \(optimizer → nesterov → momentum → optimizer\)/],
    ['a value not in the parent list', (d) => (d.spec.parameters[1].condition.in = ['sgd', 'adagrad']), 'spec.parameters[1].condition.in[1]', /"adagrad" is not a value "optimizer" can take/],
    ['equals a value not in the list', (d) => (d.spec.parameters[5].condition = { parent: 'optimizer', equals: 'adagrad' }), 'spec.parameters[5].condition.equals', /could never hold/],
    ['an int value outside the range', (d) => (d.spec.parameters[3].condition = { parent: 'layers', in: [3, 7] }), 'spec.parameters[3].condition.in[1]', /7 is not a value "layers" can take \(int in \[1, 4\]\)/],
    ['a min above the parent range', (d) => (d.spec.parameters[3].condition = { parent: 'layers', min: 5 }), 'spec.parameters[3].condition.min', /above every value of "layers" \(at most 4\)/],
    ['a max below the parent range', (d) => (d.spec.parameters[3].condition = { parent: 'layers', max: 0 }), 'spec.parameters[3].condition.max', /below every value of "layers" \(at least 1\)/],
    ['min above max', (d) => (d.spec.parameters[3].condition = { parent: 'layers', min: 3, max: 2 }), 'spec.parameters[3].condition.min', /must not exceed max/],
    ['a range between the parent steps', (d) => {
      d.spec.parameters[2].feasibleSpace.step = '3';
      d.spec.parameters[3].condition = { parent: 'layers', min: 2, max: 3 };
    }, 'spec.parameters[3].condition', /no value of "layers" \(int in \[1, 4\] step 3\) lies within \[2, 3\]/],
    ['a range on a discrete parent missing every value', (d) => (d.spec.parameters[4].condition = { parent: 'beta2', min: 0.991, max: 0.998 }), 'spec.parameters[4].condition', /no value of "beta2"/],
    ['a list of values on a double', (d) => (d.spec.parameters[4].condition = { parent: 'momentum', equals: 0.9 }), 'spec.parameters[4].condition.equals', /double parameter: a condition on it is a range/],
    ['a range on a categorical', (d) => (d.spec.parameters[1].condition = { parent: 'optimizer', min: 1 }), 'spec.parameters[1].condition.min', /categorical parameter: a condition on it lists values/],
    ['a number for a discrete list', (d) => (d.spec.parameters[4].condition = { parent: 'beta2', in: ['high'] }), 'spec.parameters[4].condition.in[0]', /number/],
    ['no test at all', (d) => (d.spec.parameters[1].condition = { parent: 'optimizer' }), 'spec.parameters[1].condition', /needs `equals`, `in`, or `min`\/`max`/],
    ['two forms at once', (d) => (d.spec.parameters[1].condition = { parent: 'optimizer', equals: 'sgd', in: ['sgd'] }), 'spec.parameters[1].condition.in', /cannot be combined with `equals`/],
    ['a list and a range at once', (d) => (d.spec.parameters[3].condition = { parent: 'layers', in: [3], min: 3 }), 'spec.parameters[3].condition.min', /cannot be combined with `in`/],
    ['an empty list', (d) => (d.spec.parameters[1].condition.in = []), 'spec.parameters[1].condition.in', /must not be empty/],
    ['an unknown key', (d) => (d.spec.parameters[1].condition = { parent: 'optimizer', value: 'sgd' }), 'spec.parameters[1].condition.value', /./],
    ['an expression string', (d) => (d.spec.parameters[1].condition = 'optimizer == sgd'), 'spec.parameters[1].condition', /object/],
    ['a missing parent', (d) => (d.spec.parameters[1].condition = { in: ['sgd'] }), 'spec.parameters[1].condition.parent', /./],
    // A child of a parameter that can never be active: the parent's own condition is what is refused.
    ['a child below an impossible parent', (d) => (d.spec.parameters[1].condition.in = ['nadam']), 'spec.parameters[1].condition.in[0]', /could never hold/],
    ['hyperband resource as a child', (d) => {
      d.spec.algorithm = { algorithmName: 'hyperband', algorithmSettings: [{ name: 'resource_name', value: 'units_layer3' }, { name: 'r_l', value: '9' }] };
    }, 'spec.algorithm.algorithmSettings[resource_name]', /without a condition/],
    ['hyperband resource as a parent', (d) => {
      d.spec.algorithm = { algorithmName: 'hyperband', algorithmSettings: [{ name: 'resource_name', value: 'layers' }, { name: 'r_l', value: '4' }] };
    }, 'spec.parameters[3].condition.parent', /gets its value from the algorithm/],
  ];
  for (const [name, mutate, field, reason] of cases) {
    const doc = treeDoc();
    mutate(doc);
    try {
      refused(doc, field, reason);
    } catch (err) {
      throw new Error(`${name}: ${(err as Error).message}`);
    }
  }
});

// ---------------------------------------------------------------- trees as the algorithms see them

const cat = (name: string, list: string[], condition?: Parameter['condition']): Parameter => ({ name, parameterType: 'categorical', list, ...(condition ? { condition } : {}) });
const disc = (name: string, list: number[], condition?: Parameter['condition']): Parameter => ({ name, parameterType: 'discrete', list, ...(condition ? { condition } : {}) });
const int = (name: string, min: number, max: number, step?: number, condition?: Parameter['condition']): Parameter => ({
  name, parameterType: 'int', min, max, distribution: 'uniform', ...(step === undefined ? {} : { step }), ...(condition ? { condition } : {}),
});
const space = (...parameters: Parameter[]): SearchSpace => ({ parameters, direction: 'minimize' });

// Shape A: a categorical root with a child per branch: sgd 2 + adam 3 + rmsprop 2 = 7.
const SHAPE_A = space(
  cat('opt', ['sgd', 'adam', 'rmsprop']),
  disc('momentum', [0.5, 0.9], { parent: 'opt', values: ['sgd', 'rmsprop'] }),
  disc('beta', [0.9, 0.99, 0.999], { parent: 'opt', values: ['adam'] }),
);
// Shape B: a numeric parent and a chain; layers 1, 2: 1 each; layers 3, 4: units 8, 16 × act 2 + units 24, 32 = 6 each: 14.
const SHAPE_B = space(
  int('layers', 1, 4),
  int('units3', 8, 32, 8, { parent: 'layers', min: 3 }),
  cat('act', ['relu', 'tanh'], { parent: 'units3', max: 16 }),
);
// Shape C: both trees side by side and an unconditional leaf: 7 × 14 × 2 = 196.
const SHAPE_C = space(...SHAPE_A.parameters, ...SHAPE_B.parameters, disc('bs', [16, 32]));
// Shape D: a child listed before its parent, on a discrete parent's range: 0 → 1, 0.1 and 0.5 → 3 each: 7.
const SHAPE_D = space(int('keep', 1, 3, undefined, { parent: 'dropout', min: 0.1 }), disc('dropout', [0, 0.1, 0.5]));

test('firstAssignment (what the dry run of a new study renders) is in the tree: each first value, the inactive children left out', () => {
  assert.deepEqual(firstAssignment(SHAPE_A.parameters), { opt: 'sgd', momentum: 0.5 });
  assert.deepEqual(firstAssignment(SHAPE_B.parameters), { layers: 1 });
  assert.deepEqual(firstAssignment(SHAPE_D.parameters), { dropout: 0 });
  for (const s of [SHAPE_A, SHAPE_B, SHAPE_C, SHAPE_D]) assert.equal(treeProblem(s, firstAssignment(s.parameters)), undefined);
});

/** The valid points by brute force: every flat grid point, pruned, deduplicated. */
function bruteForce(s: SearchSpace): Set<string> {
  const axes = s.parameters.map((p) => gridPoints(p) as ParamValue[]);
  const out = new Set<string>();
  const walk = (i: number, point: Record<string, ParamValue>) => {
    if (i === axes.length) {
      out.add(JSON.stringify(pruneInactive(s, point)));
      return;
    }
    for (const v of axes[i]!) walk(i + 1, { ...point, [s.parameters[i]!.name]: v });
  };
  walk(0, {});
  return out;
}

test('grid over a tree enumerates exactly its valid points: no duplicates differing only in inactive parameters, the hand-computed count', () => {
  const grid = getAlgorithm('grid')!;
  for (const [shape, expected] of [[SHAPE_A, 7], [SHAPE_B, 14], [SHAPE_C, 196], [SHAPE_D, 7]] as const) {
    assert.equal(pointCount(shape, gridAxes(shape)!), expected);
    const r = grid.suggest({ space: shape, trials: [], count: 1000, seed: 0, settings: [] });
    assert.equal(r.assignments.length, expected);
    assert.equal(r.exhausted, true);
    const keys = r.assignments.map((a) => JSON.stringify(a));
    assert.equal(new Set(keys).size, expected, 'no point twice');
    for (const a of r.assignments) assert.equal(treeProblem(shape, a), undefined, JSON.stringify(a));
    assert.deepEqual(new Set(keys.map((k) => JSON.stringify(pruneInactive(shape, JSON.parse(k))))), bruteForce(shape));
    assert.equal(bruteForce(shape).size, expected);
    // Asked point by point, with the trials so far, grid walks the same points and ends exhausted.
    const trials: TrialView[] = [];
    for (let i = 0; i < expected; i++) {
      const one = grid.suggest({ space: shape, trials, count: 1, seed: 0, settings: [] });
      assert.equal(one.assignments.length, 1);
      trials.push({ name: `t${i}`, state: 'SUCCEEDED', assignment: one.assignments[0]!, objectiveValue: i });
    }
    assert.equal(grid.suggest({ space: shape, trials, count: 1, seed: 0, settings: [] }).assignments.length, 0);
  }
  const a = grid.suggest({ space: SHAPE_A, trials: [], count: 10, seed: 0, settings: [] }).assignments;
  assert.deepEqual(a, [
    { opt: 'sgd', momentum: 0.5 }, { opt: 'sgd', momentum: 0.9 },
    { opt: 'adam', beta: 0.9 }, { opt: 'adam', beta: 0.99 }, { opt: 'adam', beta: 0.999 },
    { opt: 'rmsprop', momentum: 0.5 }, { opt: 'rmsprop', momentum: 0.9 },
  ]);
});

test('random in a finite tree never repeats a valid point and reports exhaustion at the tree count', () => {
  const random = getAlgorithm('random')!;
  const r = random.suggest({ space: SHAPE_A, trials: [], count: 20, seed: 3, settings: [] });
  assert.equal(r.assignments.length, 7);
  assert.equal(r.exhausted, true);
  assert.equal(new Set(r.assignments.map((a) => assignmentKey(SHAPE_A, a))).size, 7);
  // A stored trial with an extra inactive value is the same point as its pruned self.
  assert.equal(assignmentKey(SHAPE_A, { opt: 'adam', beta: 0.9, momentum: 0.5 }), assignmentKey(SHAPE_A, { opt: 'adam', beta: 0.9 }));
});

/** The study the algorithms run over: ranges, lists, a chain and a numeric parent. */
function studySpace(algorithmName: string, settings: Record<string, string>, extra: Doc[] = []): { space: SearchSpace; settings: StudySpec['algorithm']['algorithmSettings'] } {
  const doc = treeDoc();
  doc.spec.parameters.push(...extra);
  doc.spec.trialTemplate.trialParameters.push(...extra.map((p: Doc) => ({ name: p.name, reference: p.name })));
  doc.spec.trialTemplate.command.push(...extra.map((p: Doc) => `--${p.name}=\${trialParameters.${p.name}}`));
  doc.spec.algorithm = { algorithmName, algorithmSettings: Object.entries(settings).map(([name, value]) => ({ name, value })) };
  return algorithmInput(parseStudyDocument(doc));
}

/** A loss over the tree: sgd with high momentum and nesterov on, 3+ layers of ~40 units, lr near 0.01. */
function treeLoss(a: Assignment): number {
  let loss = Math.abs(Math.log10(a['lr'] as number) + 2);
  if (a['optimizer'] === 'sgd') loss += 1 - (a['momentum'] as number) + (a['nesterov'] === 'on' ? 0 : 0.3);
  else if (a['optimizer'] === 'rmsprop') loss += 0.8;
  else loss += 0.5 + (a['beta2'] === 0.999 ? 0 : 0.1);
  loss += (a['layers'] as number) >= 3 ? Math.abs((a['units_layer3'] as number) - 40) / 40 : 1;
  return loss;
}

function inFeasibleSpace(p: Parameter, v: ParamValue): boolean {
  if (p.parameterType === 'categorical' || p.parameterType === 'discrete') return (p.list as readonly ParamValue[]).includes(v);
  return typeof v === 'number' && v >= p.min && v <= p.max && (p.parameterType !== 'int' || Number.isInteger(v));
}

const SETTINGS: Record<string, Record<string, string>> = {
  hyperband: { resource_name: 'epochs', r_l: '9', eta: '3' },
  pbt: { suggestion_trial_dir: '/var/log/katib/checkpoints/', n_population: '6', truncation_threshold: '0.4' },
  'multivariate-tpe': { n_startup_trials: '6' },
  tpe: { n_startup_trials: '6' },
  bayesianoptimization: { n_initial_points: '6' },
};

for (const name of algorithmNames()) {
  test(`${name} over a conditional space: no assignment carries an inactive parameter or misses an active one`, { timeout: 120_000 }, () => {
    const algorithm = getAlgorithm(name)!;
    const extra = name === 'hyperband' ? [{ name: 'epochs', parameterType: 'int', feasibleSpace: { min: '1', max: '9' } }] : [];
    const input = name === 'grid'
      ? { space: SHAPE_C, settings: [] }
      : studySpace(name, SETTINGS[name] ?? {}, extra);
    const trials: TrialView[] = [];
    let state: Record<string, string> | undefined;
    const seenBranches = new Set<string>();
    for (let round = 0; round < 12 && trials.length < 40; round++) {
      const r = algorithm.suggest({ space: input.space, trials, count: 3, seed: 11, settings: input.settings, ...(state ? { state } : {}), fill: true });
      state = r.state ?? state;
      if (r.assignments.length === 0) break;
      r.assignments.forEach((a, i) => {
        const problem = treeProblem(input.space, a);
        assert.equal(problem, undefined, `${name}: ${JSON.stringify(a)}: ${problem?.parameter} ${problem?.reason}`);
        for (const [k, v] of Object.entries(a)) {
          const p = input.space.parameters.find((q) => q.name === k)!;
          if (name !== 'hyperband' || k !== 'epochs') assert.ok(inFeasibleSpace(p, v), `${name}: ${k}=${v} is feasible`);
        }
        seenBranches.add([...activeNames(input.space, a)].sort().join(','));
        const labels = r.labels?.[i];
        trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment: a, objectiveValue: name === 'grid' ? trials.length : treeLoss(a), ...(labels ? { labels } : {}) });
      });
    }
    assert.ok(trials.length >= 12, `${name} proposed ${trials.length} trials`);
    assert.ok(seenBranches.size >= 3, `${name} visited several branches of the tree (${[...seenBranches].join(' | ')})`);
  });
}

test('tpe models a child on its own branch: momentum is fit on the sgd trials only, and proposals follow their good values', () => {
  const tpe = getAlgorithm('tpe')!;
  const s = space(cat('opt', ['sgd', 'adam']), { name: 'momentum', parameterType: 'double', min: 0, max: 1, distribution: 'uniform', condition: { parent: 'opt', values: ['sgd'] } });
  const rng = new Rng(5, 0);
  const trials: TrialView[] = [];
  // sgd is better on the whole, and within sgd the best trials have momentum near 0.9; adam trials carry no momentum.
  for (let i = 0; i < 40; i++) {
    const sgd = i % 2 === 0;
    const m = rng.next();
    const assignment: Assignment = sgd ? { opt: 'sgd', momentum: m } : { opt: 'adam' };
    trials.push({ name: `t${i}`, state: 'SUCCEEDED', assignment, objectiveValue: sgd ? Math.abs(m - 0.9) : 2 });
  }
  const r = tpe.suggest({ space: s, trials, count: 10, seed: 1, settings: [{ name: 'n_startup_trials', value: '5' }] });
  const sgd = r.assignments.filter((a) => a['opt'] === 'sgd');
  assert.ok(sgd.length >= 8, `the better branch is chosen: ${JSON.stringify(r.assignments)}`);
  for (const a of r.assignments) assert.equal(treeProblem(s, a), undefined);
  const near = sgd.filter((a) => Math.abs((a['momentum'] as number) - 0.9) < 0.15).length;
  assert.ok(near >= sgd.length * 0.7, `momentum follows the good sgd trials: ${sgd.map((a) => a['momentum']).join(', ')}`);
});

test("multivariate-tpe groups parameters active in the same trials (Optuna's group decomposition)", () => {
  const trials: TrialView[] = [
    { name: 'a', state: 'SUCCEEDED', assignment: { opt: 'sgd', momentum: 0.5, layers: 3, units3: 8 }, objectiveValue: 1 },
    { name: 'b', state: 'SUCCEEDED', assignment: { opt: 'adam', beta: 0.9, layers: 1 }, objectiveValue: 1 },
    { name: 'c', state: 'SUCCEEDED', assignment: { opt: 'adam', beta: 0.99, layers: 4, units3: 16, act: 'relu' }, objectiveValue: 1 },
  ];
  const groups = branchGroups({ space: SHAPE_C, trials }, true).map((g) => g.join('+')).sort();
  assert.deepEqual(groups, ['act', 'beta', 'bs', 'momentum', 'opt+layers', 'units3'].sort());
  assert.deepEqual(branchGroups({ space: SHAPE_A, trials: [] }, false), [['opt'], ['momentum'], ['beta']]);
});

test('pbt explores only what is active: a child that becomes active gets a fresh value, one that becomes inactive is dropped', () => {
  let freshSeen = 0;
  for (let seed = 0; seed < 40; seed++) {
    const out = explore(SHAPE_A, { opt: 'adam', beta: 0.99 }, undefined, new Rng(seed, 1));
    assert.equal(treeProblem(SHAPE_A, out), undefined, JSON.stringify(out));
    assert.notEqual(out['opt'], 'adam', 'a categorical always moves to a neighbour');
    assert.equal('beta' in out, false);
    assert.ok([0.5, 0.9].includes(out['momentum'] as number));
    freshSeen += 1;
    const kept = explore(SHAPE_A, { opt: 'sgd', momentum: 0.5 }, 0, new Rng(seed, 2));
    assert.deepEqual(kept, { opt: 'sgd', momentum: 0.5 }, 'with resample_probability 0 nothing changes');
  }
  assert.equal(freshSeen, 40);
});

// ---------------------------------------------------------------- the trial template

test('an inactive parameter: its placeholder renders empty, and the local command drops its argument (both --flag=value and --flag value)', () => {
  const spec = parseStudyDocument(treeDoc());
  const template = { ...spec.trialTemplate, command: ['train', '--optimizer', '${trialParameters.optimizer}', '--momentum', '${trialParameters.momentum}', '--beta2=${trialParameters.beta2}', '--lr=${trialParameters.lr}', '--layers=${trialParameters.layers}'] };
  const assignment = { optimizer: 'adam', beta2: 0.999, layers: 2, lr: 0.01 };
  const values = trialParameterValues(template, assignment, { trialName: 't', namespace: 'default' });
  assert.equal(values.get('momentum'), '');
  assert.equal(values.get('units_layer3'), '');
  assert.deepEqual([...inactiveTrialParameters(template, assignment)].sort(), ['momentum', 'nesterov', 'units_layer3']);
  assert.deepEqual(trialArgv(template, values, inactiveTrialParameters(template, assignment)), ['train', '--optimizer', 'adam', '--beta2=0.999', '--lr=0.01', '--layers=2']);
  const sgd = { optimizer: 'sgd', momentum: 0.95, nesterov: 'on', layers: 2, lr: 0.1 };
  const sgdValues = trialParameterValues(template, sgd, { trialName: 't', namespace: 'default' });
  assert.deepEqual(trialArgv(template, sgdValues, inactiveTrialParameters(template, sgd)), ['train', '--optimizer', 'sgd', '--momentum', '0.95', '--lr=0.1', '--layers=2']);
});

test('a Kubernetes trialSpec gets an empty string for an inactive parameter', () => {
  const spec = parseStudyDocument(treeDoc());
  const trialSpec = {
    apiVersion: 'batch/v1', kind: 'Job',
    spec: { template: { spec: { containers: [{ name: 'training', image: 'x', command: ['train', '--optimizer=${trialParameters.optimizer}', '--momentum=${trialParameters.momentum}'] }] } } },
  };
  const template = { ...spec.trialTemplate, trialSpec, primaryContainerName: 'training' };
  const { object } = renderTrial({ trialName: 'tree-0001', studyName: 'tree', namespace: 'default', assignment: { optimizer: 'adam', beta2: 0.99, layers: 1, lr: 0.1 }, template, baseDir: '/tmp' });
  assert.deepEqual(object['spec'].template.spec.containers[0].command, ['train', '--optimizer=adam', '--momentum=']);
});

test('a client-supplied assignment is checked against the tree, the field named', () => {
  const { parameters } = parseStudyDocument(treeDoc());
  checkAssignmentTree(parameters, { optimizer: 'adam', beta2: 0.99, layers: 3, units_layer3: 16, lr: 0.1 }, 'assignment');
  const refusedWith = (a: Assignment, field: string, reason: RegExp) => assert.throws(() => checkAssignmentTree(parameters, a, 'assignment'), (err: unknown) => {
    assert.ok(err instanceof SpecError);
    assert.equal(err.field, field);
    assert.match(err.reason, reason);
    return true;
  });
  refusedWith({ optimizer: 'adam', beta2: 0.99, momentum: 0.9, layers: 1, lr: 0.1 }, 'assignment.momentum', /inactive in this assignment \(its condition on "optimizer" does not hold\)/);
  refusedWith({ optimizer: 'sgd', layers: 1, lr: 0.1 }, 'assignment.momentum', /active in this assignment but has no value/);
  refusedWith({ optimizer: 'sgd', momentum: 0.95, layers: 1, lr: 0.1 }, 'assignment.nesterov', /active/);
  refusedWith({ optimizer: 'sgd', momentum: 0.6, nesterov: 'on', layers: 1, lr: 0.1 }, 'assignment.nesterov', /inactive/);
});

// ---------------------------------------------------------------- over the APIs

function treeYaml(name: string): string {
  const doc = treeDoc();
  doc.metadata.name = name;
  return JSON.stringify(doc);
}

test('REST and gRPC: ask/tell carries partial assignments; bad trees are refused with the field named and nothing is created', { timeout: 120_000 }, async () => {
  const s = await startTestServer();
  try {
    const created = await s.http('POST', '/api/v1/studies', { specText: treeYaml('tree-rest') });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const space = algorithmInput(parseStudyDocument(treeDoc())).space;
    const rest = await s.http('POST', '/api/v1/studies/tree-rest/suggest', { clientId: 'c', count: 6 });
    assert.equal(rest.status, 200, JSON.stringify(rest.body));
    const grpcTrials = (await call(s.client('Trials'), 'suggestTrials', { study: 'tree-rest', clientId: 'g', count: 6 })).trials as { name: string; assignment: { name: string; number?: number; text?: string; value?: string }[] }[];
    const fromGrpc = grpcTrials.map((t) => Object.fromEntries(t.assignment.map((v) => [v.name, v.value === 'text' ? v.text! : v.value === 'number' ? v.number! : (v.text ?? v.number)!])) as Assignment);
    for (const a of [...rest.body.trials.map((t: { assignment: Assignment }) => t.assignment), ...fromGrpc]) {
      assert.equal(treeProblem(space, a), undefined, JSON.stringify(a));
    }
    const listed = await s.http('GET', '/api/v1/studies/tree-rest/trials?pageSize=100');
    for (const t of listed.body.trials) assert.equal(treeProblem(space, t.assignment), undefined, JSON.stringify(t.assignment));
    const done = rest.body.trials[0];
    assert.equal((await s.http('POST', `/api/v1/trials/${done.name}/complete`, { metrics: [{ metric: 'loss', value: 0.5 }] })).status, 200);
    const study = await s.http('GET', '/api/v1/studies/tree-rest');
    assert.deepEqual(study.body.best.assignment, done.assignment, 'the best trial shows its partial assignment');

    const bad = treeDoc();
    bad.metadata.name = 'tree-bad';
    bad.spec.parameters[0].condition = { parent: 'nesterov', equals: 'on' };
    const r = await s.http('POST', '/api/v1/studies', { spec: bad });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.field, 'spec.spec.parameters[0].condition.parent');
    assert.match(r.body.error.message, /cycle/);
    const unknown = treeDoc();
    unknown.metadata.name = 'tree-bad';
    unknown.spec.parameters[3].condition.parent = 'depth';
    const r2 = await s.http('POST', '/api/v1/studies', { specText: JSON.stringify(unknown) });
    assert.equal(r2.status, 400);
    assert.equal(r2.body.error.field, 'specText.spec.parameters[3].condition.parent');
    const impossible = treeDoc();
    impossible.metadata.name = 'tree-bad';
    impossible.spec.parameters[3].condition = { parent: 'layers', min: 9 };
    await assert.rejects(call(s.client('Studies'), 'createStudy', { specText: JSON.stringify(impossible) }), (err: { code: number; details: string }) => {
      assert.equal(err.code, 3);
      assert.match(err.details, /^specText\.spec\.parameters\[3\]\.condition\.min: is above every value of "layers"/);
      return true;
    });
    const typed = treeDoc();
    typed.metadata.name = 'tree-bad';
    typed.spec.parameters[1].condition = { parent: 'optimizer', max: 2 };
    await assert.rejects(call(s.client('Studies'), 'createStudy', { specText: JSON.stringify(typed) }), (err: { code: number; details: string }) => {
      assert.equal(err.code, 3);
      assert.match(err.details, /^specText\.spec\.parameters\[1\]\.condition\.max: "optimizer" is a categorical parameter/);
      return true;
    });
    const names = (await s.http('GET', '/api/v1/studies')).body.studies.map((x: { name: string }) => x.name);
    assert.deepEqual(names, ['tree-rest'], 'no refused study was created');
  } finally {
    await s.close();
  }
});

test('enqueued trials in a conditional space carry exactly the active parameters; warm-start priors are pruned to their tree', () => {
  const doc = treeDoc();
  doc.spec.enqueuedTrials = [
    { optimizer: 'adam', beta2: 0.999, layers: 2, lr: 0.01 },
    { optimizer: 'sgd', momentum: 0.95, nesterov: 'on', layers: 3, units_layer3: 32, lr: 0.1 },
  ];
  const spec = parseStudyDocument(doc);
  assert.equal(spec.enqueuedTrials?.length, 2);
  // An inactive parameter given, or an active one missing, is refused with its field.
  const extra = treeDoc();
  extra.spec.enqueuedTrials = [{ optimizer: 'adam', beta2: 0.999, momentum: 0.9, layers: 2, lr: 0.01 }];
  refused(extra, 'spec.enqueuedTrials[0].momentum', /inactive|not active/);
  const missing = treeDoc();
  missing.spec.enqueuedTrials = [{ optimizer: 'sgd', layers: 2, lr: 0.01 }];
  refused(missing, 'spec.enqueuedTrials[0].momentum', /active|required|missing/);

  // A prior study without conditions: its values are kept where the new tree makes them active.
  const flat = treeDoc();
  flat.spec.parameters = flat.spec.parameters.map((p: Doc) => { const { condition: _c, ...rest } = p; return rest; });
  const prior = { name: 'flat', spec: parseStudyDocument(flat) };
  const priorTrials: TrialView[] = [
    { name: 'p1', state: 'SUCCEEDED', objectiveValue: 1, assignment: { optimizer: 'adam', momentum: 0.6, layers: 1, units_layer3: 16, nesterov: 'off', beta2: 0.99, lr: 0.01 } },
    { name: 'p2', state: 'SUCCEEDED', objectiveValue: 2, assignment: { optimizer: 'sgd', momentum: 0.95, layers: 4, units_layer3: 40, nesterov: 'on', beta2: 0.99, lr: 0.02 } },
  ];
  const kept = priorObservations(spec, prior, priorTrials);
  assert.deepEqual(kept.map((k) => k.assignment), [
    { optimizer: 'adam', layers: 1, beta2: 0.99, lr: 0.01 },
    { optimizer: 'sgd', momentum: 0.95, layers: 4, units_layer3: 40, nesterov: 'on', lr: 0.02 },
  ]);
  // A prior that lacks a parameter its tree makes active here is dropped.
  const partial = priorObservations(spec, prior, [{ name: 'p3', state: 'SUCCEEDED', objectiveValue: 3, assignment: { optimizer: 'sgd', layers: 1, lr: 0.01 } }]);
  assert.deepEqual(partial, []);
});
