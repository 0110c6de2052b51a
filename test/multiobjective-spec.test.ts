// Multi-objective studies in the spec (spec.objective.objectives): what is accepted, what it
// means, and what is refused with the field named. A Katib single-objective file is unchanged.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { algorithmInput } from '../src/spec/algorithm.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyDocument } from '../src/spec/parse.js';
import { objectivesOf } from '../src/spec/types.js';

type Doc = any;

const BASE: Doc = {
  apiVersion: 'kubeflow.org/v1beta1',
  kind: 'Experiment',
  metadata: { name: 'mo' },
  spec: {
    objective: {
      objectives: [
        { type: 'minimize', objectiveMetricName: 'loss' },
        { type: 'maximize', objectiveMetricName: 'accuracy' },
      ],
      additionalMetricNames: ['latency'],
    },
    algorithm: { algorithmName: 'random' },
    maxTrialCount: 10,
    parameters: [{ name: 'x', parameterType: 'double', feasibleSpace: { min: 0, max: 1 } }],
  },
};

function mutate(fn: (study: Doc) => void): Doc {
  const study = structuredClone(BASE);
  fn(study);
  return study;
}

test('several objectives parse: each with its direction and default strategy, the first as Katib\'s fields', () => {
  const spec = parseStudyDocument(BASE);
  assert.equal(spec.objective.type, 'minimize');
  assert.equal(spec.objective.objectiveMetricName, 'loss');
  assert.deepEqual(spec.objective.objectives, [
    { type: 'minimize', objectiveMetricName: 'loss' },
    { type: 'maximize', objectiveMetricName: 'accuracy' },
  ]);
  assert.deepEqual(objectivesOf(spec.objective), spec.objective.objectives);
  assert.deepEqual(spec.objective.metricStrategies, [
    { name: 'loss', value: 'min' },
    { name: 'accuracy', value: 'max' },
    { name: 'latency', value: 'min' }, // an additional metric takes the first objective's direction (Katib's rule)
  ]);
  assert.deepEqual(algorithmInput(spec).space.directions, ['minimize', 'maximize']);
});

test('type and objectiveMetricName may repeat the first objective (a file Katib also accepts)', () => {
  const spec = parseStudyDocument(mutate((s) => { s.spec.objective.type = 'minimize'; s.spec.objective.objectiveMetricName = 'loss'; }));
  assert.equal(spec.objective.objectives?.length, 2);
});

test('given strategies apply to objective metrics too', () => {
  const spec = parseStudyDocument(mutate((s) => { s.spec.objective.metricStrategies = [{ name: 'accuracy', value: 'latest' }]; }));
  assert.deepEqual(spec.objective.metricStrategies.map((m) => m.value), ['min', 'latest', 'min']);
});

test('a single-objective Katib file means what it meant: no objectives, no directions', () => {
  const spec = parseStudyDocument(mutate((s) => { s.spec.objective = { type: 'maximize', objectiveMetricName: 'accuracy', goal: 0.99 }; s.spec.algorithm.algorithmName = 'tpe'; }));
  assert.equal(spec.objective.objectives, undefined);
  assert.deepEqual(objectivesOf(spec.objective), [{ type: 'maximize', objectiveMetricName: 'accuracy' }]);
  assert.equal(algorithmInput(spec).space.directions, undefined);
  assert.equal(spec.objective.goal, 0.99);
});

test('random, grid and sobol serve a multi-objective study (they never read values)', () => {
  for (const name of ['random', 'grid', 'sobol']) {
    const study = mutate((s) => {
      s.spec.algorithm.algorithmName = name;
      s.spec.parameters = [{ name: 'x', parameterType: 'int', feasibleSpace: { min: 0, max: 5 } }];
    });
    assert.equal(parseStudyDocument(study).algorithm.algorithmName, name);
  }
});

const REJECTED: { name: string; study: Doc; field: string; reason: RegExp }[] = [
  { name: 'one objective in the list', study: mutate((s) => { s.spec.objective.objectives.pop(); }), field: 'spec.objective.objectives', reason: /at least 2 objectives \(got 1\)/ },
  { name: 'an empty list', study: mutate((s) => { s.spec.objective.objectives = []; }), field: 'spec.objective.objectives', reason: /at least 2 objectives \(got 0\)/ },
  { name: 'not a list', study: mutate((s) => { s.spec.objective.objectives = 'loss'; }), field: 'spec.objective.objectives', reason: /must be a list/ },
  { name: 'too many', study: mutate((s) => { s.spec.objective.objectives = Array.from({ length: 9 }, (_, i) => ({ type: 'minimize', objectiveMetricName: `m${i}` })); }), field: 'spec.objective.objectives', reason: /at most 8/ },
  { name: 'duplicate metric', study: mutate((s) => { s.spec.objective.objectives[1].objectiveMetricName = 'loss'; }), field: 'spec.objective.objectives[1].objectiveMetricName', reason: /duplicate objective metric "loss"/ },
  { name: 'bad type', study: mutate((s) => { s.spec.objective.objectives[1].type = 'max'; }), field: 'spec.objective.objectives[1].type', reason: /must be one of minimize, maximize/ },
  { name: 'missing metric', study: mutate((s) => { delete s.spec.objective.objectives[0].objectiveMetricName; }), field: 'spec.objective.objectives[0].objectiveMetricName', reason: /is required/ },
  { name: 'unknown key in an objective', study: mutate((s) => { s.spec.objective.objectives[0].goal = 1; }), field: 'spec.objective.objectives[0].goal', reason: /unknown field/ },
  { name: 'goal with several objectives', study: mutate((s) => { s.spec.objective.goal = 0.1; }), field: 'spec.objective.goal', reason: /multi-objective study has no goal/ },
  { name: 'type differing from the first', study: mutate((s) => { s.spec.objective.type = 'maximize'; }), field: 'spec.objective.type', reason: /equal the first objective's type "minimize"/ },
  { name: 'metric differing from the first', study: mutate((s) => { s.spec.objective.objectiveMetricName = 'accuracy'; }), field: 'spec.objective.objectiveMetricName', reason: /equal the first objective's metric "loss"/ },
  { name: 'additional metric repeating an objective', study: mutate((s) => { s.spec.objective.additionalMetricNames = ['accuracy']; }), field: 'spec.objective.additionalMetricNames[0]', reason: /must not repeat the objective metric "accuracy"/ },
  { name: 'strategy for no metric', study: mutate((s) => { s.spec.objective.metricStrategies = [{ name: 'f1', value: 'max' }]; }), field: 'spec.objective.metricStrategies[0].name', reason: /metrics: loss, accuracy, latency/ },
  { name: 'a single-objective algorithm (tpe)', study: mutate((s) => { s.spec.algorithm.algorithmName = 'tpe'; }), field: 'spec.algorithm.algorithmName', reason: /"tpe" optimises a single objective.*needs one of: .*random/ },
  { name: 'a single-objective algorithm (bayesianoptimization)', study: mutate((s) => { s.spec.algorithm.algorithmName = 'bayesianoptimization'; }), field: 'spec.algorithm.algorithmName', reason: /optimises a single objective/ },
];

for (const c of REJECTED) {
  test(`rejected: ${c.name} → ${c.field}`, () => {
    assert.throws(() => parseStudyDocument(c.study), (err: unknown) => {
      assert.ok(err instanceof SpecError, String(err));
      assert.equal(err.field, c.field);
      assert.match(err.message, c.reason);
      return true;
    });
  });
}
