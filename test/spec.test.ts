// The reference of what Sibyl accepts as a study: one valid Katib Experiment, the defaults it
// gets, and a table of small mutations that are rejected with the exact field path and reason.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { templateArgv, validateForLocal } from '../src/runtimes/local/argv.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyDocument, parseStudyText } from '../src/spec/parse.js';
import type { StudySpec } from '../src/spec/types.js';

/** Katib's default metrics regex, spelled out so a change to the constant is caught. */
const KATIB_DEFAULT_METRICS_FORMAT = String.raw`([\w|-]+)\s*=\s*([+-]?\d*(\.\d+)?([Ee][+-]?\d+)?)`;

// Untyped on purpose: the mutations write whatever a user might.
type Doc = any;

const BASE: Doc = {
  apiVersion: 'kubeflow.org/v1beta1',
  kind: 'Experiment',
  metadata: { name: 'mlp-random' },
  spec: {
    objective: { type: 'maximize', objectiveMetricName: 'accuracy', additionalMetricNames: ['loss'] },
    algorithm: { algorithmName: 'random' },
    parallelTrialCount: 2,
    maxTrialCount: 12,
    maxFailedTrialCount: 3,
    parameters: [
      { name: 'learning_rate', parameterType: 'double', feasibleSpace: { min: 0.001, max: 0.1, distribution: 'logUniform' } },
      { name: 'hidden_layers', parameterType: 'int', feasibleSpace: { min: 1, max: 3 } },
    ],
    trialTemplate: {
      command: ['python3', 'train.py', '--lr=${trialParameters.learningRate}', '--layers=${trialParameters.hiddenLayers}'],
      trialParameters: [
        { name: 'learningRate', description: 'Learning rate', reference: 'learning_rate' },
        { name: 'hiddenLayers', description: 'Number of hidden layers', reference: 'hidden_layers' },
      ],
    },
  },
};

/** A deep copy of the base study, changed by `fn`. */
function mutate(fn: (study: Doc) => void): Doc {
  const study = structuredClone(BASE);
  fn(study);
  return study;
}

/** A Kubernetes batch Job running the base command in container `training-container`. */
function jobTrialSpec(container: Doc = {}): Doc {
  return {
    apiVersion: 'batch/v1',
    kind: 'Job',
    spec: {
      template: {
        spec: {
          restartPolicy: 'Never',
          containers: [{
            name: 'training-container',
            image: 'python:3.12',
            command: ['python3', 'train.py', '--lr=${trialParameters.learningRate}', '--layers=${trialParameters.hiddenLayers}'],
            ...container,
          }],
        },
      },
    },
  };
}

/** The base study with its trial defined by a Job instead of `command`. */
function withJob(study: Doc, container: Doc = {}): void {
  delete study.spec.trialTemplate.command;
  study.spec.trialTemplate.trialSpec = jobTrialSpec(container);
  study.spec.trialTemplate.primaryContainerName = 'training-container';
}

/** A Kubeflow TFJob whose `tensorflow` container runs the trial through command + args. */
const TFJOB: Doc = {
  apiVersion: 'kubeflow.org/v1',
  kind: 'TFJob',
  spec: {
    tfReplicaSpecs: {
      Worker: {
        replicas: 1,
        restartPolicy: 'OnFailure',
        template: {
          spec: {
            containers: [{
              name: 'tensorflow',
              image: 'docker.io/kubeflowkatib/tf-mnist-with-summaries:latest',
              command: ['python', '/opt/tf-mnist-with-summaries/mnist.py'],
              args: ['--learning-rate=${trialParameters.learningRate}', '--hidden-layers=${trialParameters.hiddenLayers}'],
            }],
          },
        },
      },
    },
  },
};

function expectSpecError(run: () => unknown, field: string, reason: RegExp): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof SpecError, `expected a SpecError, got ${String(e)}`);
    assert.equal(e.field, field);
    assert.match(e.reason, reason);
    return true;
  });
}

// ---- the valid base and its defaults ----

test('the base study parses, with Katib defaults applied', () => {
  const spec = parseStudyDocument(mutate((s) => {
    delete s.spec.parallelTrialCount;
    delete s.spec.algorithm;
  }));
  assert.deepEqual(spec, {
    name: 'mlp-random',
    namespace: 'default',
    parameters: [
      { name: 'learning_rate', parameterType: 'double', min: 0.001, max: 0.1, distribution: 'logUniform' },
      { name: 'hidden_layers', parameterType: 'int', min: 1, max: 3, distribution: 'uniform' },
    ],
    objective: {
      type: 'maximize',
      objectiveMetricName: 'accuracy',
      additionalMetricNames: ['loss'],
      metricStrategies: [{ name: 'accuracy', value: 'max' }, { name: 'loss', value: 'max' }],
    },
    algorithm: { algorithmName: 'bayesianoptimization', algorithmSettings: [] },
    parallelTrialCount: 3,
    maxTrialCount: 12,
    maxFailedTrialCount: 3,
    trialTemplate: {
      trialParameters: [
        { name: 'learningRate', description: 'Learning rate', reference: 'learning_rate' },
        { name: 'hiddenLayers', description: 'Number of hidden layers', reference: 'hidden_layers' },
      ],
      retain: false,
      command: ['python3', 'train.py', '--lr=${trialParameters.learningRate}', '--layers=${trialParameters.hiddenLayers}'],
    },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [KATIB_DEFAULT_METRICS_FORMAT] },
  } satisfies StudySpec);
  validateForLocal(spec);
});

test('the base study as given keeps its parallelTrialCount and algorithm', () => {
  const spec = parseStudyDocument(structuredClone(BASE));
  assert.equal(spec.parallelTrialCount, 2);
  assert.deepEqual(spec.algorithm, { algorithmName: 'random', algorithmSettings: [] });
});

test('the default parallelTrialCount (3) never exceeds a smaller maxTrialCount', () => {
  const spec = parseStudyDocument(mutate((s) => {
    delete s.spec.parallelTrialCount;
    s.spec.maxTrialCount = 2;
    s.spec.maxFailedTrialCount = 1;
  }));
  assert.equal(spec.parallelTrialCount, 2);
});

test('metric strategies default to min for a minimize objective, and given ones are kept', () => {
  const spec = parseStudyDocument(mutate((s) => {
    s.spec.objective = {
      type: 'minimize',
      objectiveMetricName: 'loss',
      additionalMetricNames: ['accuracy', 'epoch_time'],
      metricStrategies: [{ name: 'accuracy', value: 'max' }],
    };
  }));
  assert.deepEqual(spec.objective.metricStrategies, [
    { name: 'loss', value: 'min' },
    { name: 'accuracy', value: 'max' },
    { name: 'epoch_time', value: 'min' },
  ]);
});

// ---- other accepted forms ----

const ACCEPTED: readonly { name: string; study: Doc; check: (spec: StudySpec) => void }[] = [
  {
    name: 'Katib numbers as strings (min: "0.01", max: "0.1", step: "1")',
    study: mutate((s) => {
      s.spec.parameters[0].feasibleSpace = { min: '0.01', max: '0.1' };
      s.spec.parameters[1].feasibleSpace = { min: '1', max: '3', step: '1' };
    }),
    check: (spec) => assert.deepEqual(spec.parameters, [
      { name: 'learning_rate', parameterType: 'double', min: 0.01, max: 0.1, distribution: 'uniform' },
      { name: 'hidden_layers', parameterType: 'int', min: 1, max: 3, step: 1, distribution: 'uniform' },
    ]),
  },
  {
    name: 'an empty distribution means uniform',
    study: mutate((s) => { s.spec.parameters[1].feasibleSpace.distribution = ''; }),
    check: (spec) => assert.equal((spec.parameters[1] as { distribution: string }).distribution, 'uniform'),
  },
  {
    name: 'discrete and categorical lists (categorical numbers become strings)',
    study: mutate((s) => {
      s.spec.parameters[0] = { name: 'learning_rate', parameterType: 'discrete', feasibleSpace: { list: ['0.01', 0.1] } };
      s.spec.parameters[1] = { name: 'hidden_layers', parameterType: 'categorical', feasibleSpace: { list: ['small', 2] } };
    }),
    check: (spec) => assert.deepEqual(spec.parameters, [
      { name: 'learning_rate', parameterType: 'discrete', list: [0.01, 0.1] },
      { name: 'hidden_layers', parameterType: 'categorical', list: ['small', '2'] },
    ]),
  },
  {
    name: 'algorithm settings given as numbers are carried as strings',
    study: mutate((s) => { s.spec.algorithm.algorithmSettings = [{ name: 'random_state', value: 7 }]; }),
    check: (spec) => assert.deepEqual(spec.algorithm.algorithmSettings, [{ name: 'random_state', value: '7' }]),
  },
  {
    name: 'grid when every double has a step',
    study: mutate((s) => {
      s.spec.algorithm = { algorithmName: 'grid' };
      s.spec.parameters[0].feasibleSpace.step = 0.01;
    }),
    check: (spec) => assert.equal(spec.algorithm.algorithmName, 'grid'),
  },
  {
    name: 'a trialParameter bound to trial metadata (${trialSpec.Name})',
    study: mutate((s) => {
      s.spec.trialTemplate.command.push('--run=${trialParameters.trialName}');
      s.spec.trialTemplate.trialParameters.push({ name: 'trialName', reference: '${trialSpec.Name}' });
    }),
    check: (spec) => assert.equal(spec.trialTemplate.trialParameters[2]?.reference, '${trialSpec.Name}'),
  },
  {
    name: 'a File collector with an absolute path and a custom two-group regex',
    study: mutate((s) => {
      s.spec.metricsCollectorSpec = {
        collector: { kind: 'File' },
        source: {
          fileSystemPath: { path: '/var/log/katib/metrics.log', kind: 'File' },
          filter: { metricsFormat: ['(?P<name>\\w+):\\s*(?P<value>[\\d.]+)'] },
        },
      };
    }),
    check: (spec) => assert.deepEqual(spec.metricsCollector, {
      kind: 'File', format: 'TEXT', path: '/var/log/katib/metrics.log', metricsFormat: ['(?P<name>\\w+):\\s*(?P<value>[\\d.]+)'],
    }),
  },
  {
    name: 'a Job trialSpec with primaryContainerName instead of command',
    study: mutate((s) => withJob(s)),
    check: (spec) => assert.equal(spec.trialTemplate.primaryContainerName, 'training-container'),
  },
  {
    name: 'a status block (an exported Experiment) is ignored',
    study: mutate((s) => { s.status = { conditions: [] }; }),
    check: (spec) => assert.equal(spec.name, 'mlp-random'),
  },
];

for (const c of ACCEPTED) {
  test(`accepted: ${c.name}`, () => c.check(parseStudyDocument(c.study)));
}

test('accepted: the base study as JSON text', () => {
  const spec = parseStudyText(JSON.stringify(mutate((s) => { s.spec.parameters[0].feasibleSpace.min = '0.01'; }), null, 2));
  assert.equal(spec.name, 'mlp-random');
  assert.deepEqual(spec.parameters[0], { name: 'learning_rate', parameterType: 'double', min: 0.01, max: 0.1, distribution: 'logUniform' });
  assert.deepEqual(spec, parseStudyDocument(mutate((s) => { s.spec.parameters[0].feasibleSpace.min = 0.01; })));
});

test('accepted: YAML text with Katib-style quoted numbers', () => {
  const spec = parseStudyText(`
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: yaml-study
  namespace: kubeflow
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: random
  maxTrialCount: 4
  parameters:
    - name: lr
      parameterType: double
      feasibleSpace:
        min: "0.01"
        max: "0.05"
  trialTemplate:
    command: [python3, train.py, "--lr=\${trialParameters.lr}"]
    trialParameters:
      - name: lr
        reference: lr
`);
  assert.equal(spec.namespace, 'kubeflow');
  assert.deepEqual(spec.parameters, [{ name: 'lr', parameterType: 'double', min: 0.01, max: 0.05, distribution: 'uniform' }]);
  assert.deepEqual(spec.trialTemplate.command, ['python3', 'train.py', '--lr=${trialParameters.lr}']);
});

// ---- rejected ----

interface Rejection {
  readonly name: string;
  /** A study document, or text for parseStudyText. */
  readonly study: Doc;
  readonly field: string;
  readonly reason: RegExp;
}

const NAME_41 = `a${'b'.repeat(40)}`;

const REJECTED: readonly Rejection[] = [
  // top level and metadata
  {
    name: 'wrong apiVersion',
    study: mutate((s) => { s.apiVersion = 'kubeflow.org/v1alpha3'; }),
    field: 'apiVersion',
    reason: /must be kubeflow\.org\/v1beta1 \(got "kubeflow\.org\/v1alpha3"; sibyl\.dev\/v1beta1 is the same kind/,
  },
  { name: 'wrong kind', study: mutate((s) => { s.kind = 'Suggestion'; }), field: 'kind', reason: /must be Experiment \(got "Suggestion"\)/ },
  { name: 'unknown top-level field', study: mutate((s) => { s.specs = {}; }), field: 'specs', reason: /unknown field \(known: apiVersion, kind, metadata, spec, status\)/ },
  { name: 'missing metadata.name', study: mutate((s) => { delete s.metadata.name; }), field: 'metadata.name', reason: /is required/ },
  {
    name: 'metadata.name with upper case',
    study: mutate((s) => { s.metadata.name = 'MLP-random'; }),
    field: 'metadata.name',
    reason: /must be lower-case letters, digits and '-'.*\(got "MLP-random"\)/,
  },
  { name: 'metadata.name ending with -', study: mutate((s) => { s.metadata.name = 'mlp-'; }), field: 'metadata.name', reason: /not ending with '-'/ },
  {
    name: 'metadata.name of 41 characters',
    study: mutate((s) => { s.metadata.name = NAME_41; }),
    field: 'metadata.name',
    reason: /must be at most 40 characters \(got 41\)/,
  },
  { name: 'missing spec', study: mutate((s) => { delete s.spec; }), field: 'spec', reason: /is required/ },
  {
    name: 'typo in a spec field (paralelTrialCount)',
    study: mutate((s) => { s.spec.paralelTrialCount = 2; }),
    field: 'spec.paralelTrialCount',
    reason: /unknown field \(known: .*parallelTrialCount/,
  },
  {
    name: 'earlyStopping without an algorithm',
    study: mutate((s) => { s.spec.earlyStopping = {}; }),
    field: 'spec.earlyStopping.algorithmName',
    reason: /is required/,
  },
  {
    name: 'unknown earlyStopping algorithm',
    study: mutate((s) => { s.spec.earlyStopping = { algorithmName: 'percentile' }; }),
    field: 'spec.earlyStopping.algorithmName',
    reason: /unknown early-stopping algorithm "percentile" \(known: asha, curvefit, medianstop\)/,
  },
  {
    name: 'medianstop start_step 0',
    study: mutate((s) => { s.spec.earlyStopping = { algorithmName: 'medianstop', algorithmSettings: [{ name: 'start_step', value: '0' }] }; }),
    field: 'spec.earlyStopping.algorithmSettings[start_step]',
    reason: /must be an integer ≥ 1 \(got "0"\)/,
  },
  {
    name: 'medianstop min_trials_required 0',
    study: mutate((s) => { s.spec.earlyStopping = { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: '0' }] }; }),
    field: 'spec.earlyStopping.algorithmSettings[min_trials_required]',
    reason: /must be an integer > 0/,
  },
  {
    name: 'medianstop unknown setting',
    study: mutate((s) => { s.spec.earlyStopping = { algorithmName: 'medianstop', algorithmSettings: [{ name: 'n_startup_trials', value: '3' }] }; }),
    field: 'spec.earlyStopping.algorithmSettings[n_startup_trials]',
    reason: /unknown setting .*known: min_trials_required, start_step/,
  },
  {
    name: 'asha reduction_factor 1',
    study: mutate((s) => { s.spec.earlyStopping = { algorithmName: 'asha', algorithmSettings: [{ name: 'reduction_factor', value: '1' }] }; }),
    field: 'spec.earlyStopping.algorithmSettings[reduction_factor]',
    reason: /must be an integer ≥ 2/,
  },
  {
    name: 'asha min_resource 0',
    study: mutate((s) => { s.spec.earlyStopping = { algorithmName: 'asha', algorithmSettings: [{ name: 'min_resource', value: '0' }] }; }),
    field: 'spec.earlyStopping.algorithmSettings[min_resource]',
    reason: /must be a number > 0/,
  },
  { name: 'unknown resumePolicy', study: mutate((s) => { s.spec.resumePolicy = 'Always'; }), field: 'spec.resumePolicy', reason: /must be one of Never, LongRunning, FromVolume/ },

  // objective
  { name: 'missing objective', study: mutate((s) => { delete s.spec.objective; }), field: 'spec.objective', reason: /is required/ },
  {
    name: 'objective.type not minimize/maximize',
    study: mutate((s) => { s.spec.objective.type = 'maximise'; }),
    field: 'spec.objective.type',
    reason: /must be one of minimize, maximize \(got "maximise"\)/,
  },
  {
    name: 'missing objectiveMetricName',
    study: mutate((s) => { delete s.spec.objective.objectiveMetricName; }),
    field: 'spec.objective.objectiveMetricName',
    reason: /is required/,
  },
  {
    name: 'non-numeric goal',
    study: mutate((s) => { s.spec.objective.goal = 'high'; }),
    field: 'spec.objective.goal',
    reason: /must be a finite number \(got "high"\)/,
  },
  {
    name: 'additional metric repeating the objective metric',
    study: mutate((s) => { s.spec.objective.additionalMetricNames = ['accuracy']; }),
    field: 'spec.objective.additionalMetricNames[0]',
    reason: /must not repeat the objective metric "accuracy"/,
  },
  {
    name: 'duplicate additional metric',
    study: mutate((s) => { s.spec.objective.additionalMetricNames = ['loss', 'loss']; }),
    field: 'spec.objective.additionalMetricNames[1]',
    reason: /duplicate metric name "loss"/,
  },
  {
    name: 'metric strategy for a metric the study does not have',
    study: mutate((s) => { s.spec.objective.metricStrategies = [{ name: 'f1', value: 'max' }]; }),
    field: 'spec.objective.metricStrategies[0].name',
    reason: /names no metric of this study \(metrics: accuracy, loss\)/,
  },
  {
    name: 'unknown metric strategy value',
    study: mutate((s) => { s.spec.objective.metricStrategies = [{ name: 'loss', value: 'last' }]; }),
    field: 'spec.objective.metricStrategies[0].value',
    reason: /must be one of min, max, latest \(got "last"\)/,
  },

  // parameters
  { name: 'missing parameters', study: mutate((s) => { delete s.spec.parameters; }), field: 'spec.parameters', reason: /is required/ },
  { name: 'no parameters', study: mutate((s) => { s.spec.parameters = []; }), field: 'spec.parameters', reason: /must list at least one parameter/ },
  {
    name: 'unknown parameterType',
    study: mutate((s) => { s.spec.parameters[0].parameterType = 'float'; }),
    field: 'spec.parameters[0].parameterType',
    reason: /must be one of double, int, discrete, categorical \(got "float"\)/,
  },
  {
    name: 'missing feasibleSpace',
    study: mutate((s) => { delete s.spec.parameters[1].feasibleSpace; }),
    field: 'spec.parameters[1].feasibleSpace',
    reason: /is required/,
  },
  {
    name: 'typo in a feasibleSpace field (maximum)',
    study: mutate((s) => { s.spec.parameters[1].feasibleSpace.maximum = 4; }),
    field: 'spec.parameters[1].feasibleSpace.maximum',
    reason: /unknown field \(known: min, max, step, list, distribution\)/,
  },
  {
    name: 'min ≥ max',
    study: mutate((s) => { s.spec.parameters[1].feasibleSpace = { min: 5, max: 2 }; }),
    field: 'spec.parameters[1].feasibleSpace.min',
    reason: /must be below max \(got 5 >= 2\)/,
  },
  {
    name: 'min equal to max',
    study: mutate((s) => { s.spec.parameters[0].feasibleSpace.min = '0.1'; }),
    field: 'spec.parameters[0].feasibleSpace.min',
    reason: /must be below max \(got 0\.1 >= 0\.1\)/,
  },
  { name: 'missing max', study: mutate((s) => { delete s.spec.parameters[1].feasibleSpace.max; }), field: 'spec.parameters[1].feasibleSpace.max', reason: /is required/ },
  {
    name: 'non-numeric min ("abc")',
    study: mutate((s) => { s.spec.parameters[0].feasibleSpace.min = 'abc'; }),
    field: 'spec.parameters[0].feasibleSpace.min',
    reason: /must be a finite number \(got "abc"\)/,
  },
  {
    name: 'infinite max',
    study: mutate((s) => { s.spec.parameters[0].feasibleSpace.max = Infinity; }),
    field: 'spec.parameters[0].feasibleSpace.max',
    reason: /must be a finite number \(got Infinity\)/,
  },
  {
    name: 'logUniform with min ≤ 0',
    study: mutate((s) => { s.spec.parameters[0].feasibleSpace.min = 0; }),
    field: 'spec.parameters[0].feasibleSpace.min',
    reason: /must be > 0 for a logUniform distribution \(got 0\)/,
  },
  {
    name: 'unknown distribution',
    study: mutate((s) => { s.spec.parameters[1].feasibleSpace.distribution = 'gaussian'; }),
    field: 'spec.parameters[1].feasibleSpace.distribution',
    reason: /must be one of uniform, logUniform, normal, logNormal \(got "gaussian"\)/,
  },
  {
    name: 'step ≤ 0',
    study: mutate((s) => { s.spec.parameters[1].feasibleSpace.step = 0; }),
    field: 'spec.parameters[1].feasibleSpace.step',
    reason: /must be > 0 \(got 0\)/,
  },
  {
    name: 'step wider than the range',
    study: mutate((s) => { s.spec.parameters[1].feasibleSpace.step = 3; }),
    field: 'spec.parameters[1].feasibleSpace.step',
    reason: /must not exceed max − min \(got 3 > 2\)/,
  },
  {
    name: 'a step so fine that (max − min) / step is beyond 2^53 (its grid indices would overflow)',
    study: mutate((s) => { s.spec.parameters[0].feasibleSpace.step = 1e-320; }),
    field: 'spec.parameters[0].feasibleSpace.step',
    reason: /is too fine: \(max − min\) \/ step must be at most 9007199254740991 grid steps \(got 1e-320\)/,
  },
  {
    name: 'int with a fractional min',
    study: mutate((s) => { s.spec.parameters[1].feasibleSpace.min = 1.5; }),
    field: 'spec.parameters[1].feasibleSpace.min',
    reason: /must be an integer for int parameters \(got 1\.5\)/,
  },
  {
    name: 'int with a fractional step',
    study: mutate((s) => { s.spec.parameters[1].feasibleSpace.step = '0.5'; }),
    field: 'spec.parameters[1].feasibleSpace.step',
    reason: /must be an integer for int parameters \(got 0\.5\)/,
  },
  {
    name: 'list on a double',
    study: mutate((s) => { s.spec.parameters[0].feasibleSpace.list = ['0.01', '0.1']; }),
    field: 'spec.parameters[0].feasibleSpace.list',
    reason: /not allowed for double parameters \(use min and max\)/,
  },
  {
    name: 'empty list',
    study: mutate((s) => { s.spec.parameters[1] = { name: 'hidden_layers', parameterType: 'discrete', feasibleSpace: { list: [] } }; }),
    field: 'spec.parameters[1].feasibleSpace.list',
    reason: /must not be empty/,
  },
  {
    name: 'duplicate list value',
    study: mutate((s) => { s.spec.parameters[1] = { name: 'hidden_layers', parameterType: 'discrete', feasibleSpace: { list: [1, 2, '2'] } }; }),
    field: 'spec.parameters[1].feasibleSpace.list[2]',
    reason: /duplicate value 2/,
  },
  {
    name: 'non-numeric value in a discrete list',
    study: mutate((s) => { s.spec.parameters[1] = { name: 'hidden_layers', parameterType: 'discrete', feasibleSpace: { list: [1, 'two'] } }; }),
    field: 'spec.parameters[1].feasibleSpace.list[1]',
    reason: /must be a finite number \(got "two"\)/,
  },
  {
    name: 'min on a categorical',
    study: mutate((s) => { s.spec.parameters[1] = { name: 'hidden_layers', parameterType: 'categorical', feasibleSpace: { min: '1', list: ['1', '2'] } }; }),
    field: 'spec.parameters[1].feasibleSpace.min',
    reason: /not allowed for categorical parameters \(use list\)/,
  },
  {
    name: 'a non-uniform distribution on a categorical (uniform is accepted: test/katib-quirks.test.ts)',
    study: mutate((s) => { s.spec.parameters[1] = { name: 'hidden_layers', parameterType: 'categorical', feasibleSpace: { list: ['1', '2'], distribution: 'logUniform' } }; }),
    field: 'spec.parameters[1].feasibleSpace.distribution',
    reason: /logUniform has no meaning for a categorical list/,
  },
  {
    name: 'duplicate parameter names',
    study: mutate((s) => { s.spec.parameters[1].name = 'learning_rate'; }),
    field: 'spec.parameters[1].name',
    reason: /duplicate parameter name "learning_rate"/,
  },
  {
    name: 'a parameter no template uses',
    study: mutate((s) => { s.spec.parameters.push({ name: 'momentum', parameterType: 'double', feasibleSpace: { min: 0.5, max: 0.99 } }); }),
    field: 'spec.parameters[2].name',
    reason: /"momentum" is not referenced by any trialParameter/,
  },

  // budgets
  { name: 'parallelTrialCount < 1', study: mutate((s) => { s.spec.parallelTrialCount = 0; }), field: 'spec.parallelTrialCount', reason: /must be ≥ 1 \(got 0\)/ },
  {
    name: 'parallelTrialCount not an integer',
    study: mutate((s) => { s.spec.parallelTrialCount = 1.5; }),
    field: 'spec.parallelTrialCount',
    reason: /must be an integer \(got 1\.5\)/,
  },
  { name: 'maxTrialCount < 1', study: mutate((s) => { s.spec.maxTrialCount = 0; }), field: 'spec.maxTrialCount', reason: /must be ≥ 1 \(got 0\)/ },
  { name: 'negative maxFailedTrialCount', study: mutate((s) => { s.spec.maxFailedTrialCount = -1; }), field: 'spec.maxFailedTrialCount', reason: /must be ≥ 0 \(got -1\)/ },
  {
    name: 'maxFailedTrialCount > maxTrialCount',
    study: mutate((s) => { s.spec.maxFailedTrialCount = 13; }),
    field: 'spec.maxFailedTrialCount',
    reason: /must not exceed maxTrialCount \(got 13 > 12\)/,
  },
  {
    name: 'parallelTrialCount > maxTrialCount',
    study: mutate((s) => { s.spec.parallelTrialCount = 13; }),
    field: 'spec.parallelTrialCount',
    reason: /must not exceed maxTrialCount \(got 13 > 12\)/,
  },

  // algorithm
  {
    name: 'unknown algorithm',
    study: mutate((s) => { s.spec.algorithm.algorithmName = 'hyperopt'; }),
    field: 'spec.algorithm.algorithmName',
    reason: /unknown algorithm "hyperopt" \(known: bayesianoptimization, cmaes, grid, hyperband, motpe, multivariate-tpe, nsga2, parego, pbt, random, sobol, tpe\)/,
  },
  {
    name: 'bad algorithm setting (random_state "abc")',
    study: mutate((s) => { s.spec.algorithm.algorithmSettings = [{ name: 'random_state', value: 'abc' }]; }),
    field: 'spec.algorithm.algorithmSettings[random_state]',
    reason: /must be an integer ≥ 0 \(got "abc"\)/,
  },
  {
    name: 'unknown algorithm setting',
    study: mutate((s) => { s.spec.algorithm.algorithmSettings = [{ name: 'seed', value: '1' }]; }),
    field: 'spec.algorithm.algorithmSettings[seed]',
    reason: /unknown setting for algorithm "random" \(known: random_state\)/,
  },
  {
    name: 'duplicate algorithm setting',
    study: mutate((s) => { s.spec.algorithm.algorithmSettings = [{ name: 'random_state', value: '1' }, { name: 'random_state', value: '2' }]; }),
    field: 'spec.algorithm.algorithmSettings[1].name',
    reason: /duplicate setting "random_state"/,
  },
  {
    name: 'grid with a double without step',
    study: mutate((s) => { s.spec.algorithm.algorithmName = 'grid'; }),
    field: 'spec.parameters[0].feasibleSpace.step',
    reason: /required by algorithm "grid" for double parameters/,
  },

  // trial template
  {
    name: 'missing trialParameters',
    study: mutate((s) => { delete s.spec.trialTemplate.trialParameters; }),
    field: 'spec.trialTemplate.trialParameters',
    reason: /is required/,
  },
  { name: 'empty command', study: mutate((s) => { s.spec.trialTemplate.command = []; }), field: 'spec.trialTemplate.command', reason: /must not be empty/ },
  {
    name: 'a placeholder with no trialParameter',
    study: mutate((s) => { s.spec.trialTemplate.command.push('--momentum=${trialParameters.momentum}'); }),
    field: 'spec.trialTemplate.command[4]',
    reason: /placeholder \$\{trialParameters\.momentum\} has no trialParameter named "momentum"/,
  },
  {
    name: 'a trialParameter naming no parameter',
    study: mutate((s) => { s.spec.trialTemplate.trialParameters[1].reference = 'layers'; }),
    field: 'spec.trialTemplate.trialParameters[1].reference',
    reason: /names no parameter of this study \(parameters: learning_rate, hidden_layers\)/,
  },
  {
    name: 'a trialParameter not used in the template',
    study: mutate((s) => { s.spec.trialTemplate.command.pop(); }),
    field: 'spec.trialTemplate.trialParameters[1].name',
    reason: /"hiddenLayers" is not used by any \$\{trialParameters\.hiddenLayers\} placeholder/,
  },
  {
    name: 'duplicate trialParameter names',
    study: mutate((s) => { s.spec.trialTemplate.trialParameters[1].name = 'learningRate'; }),
    field: 'spec.trialTemplate.trialParameters[1].name',
    reason: /duplicate trialParameter name "learningRate"/,
  },
  {
    name: 'unknown trial metadata reference',
    study: mutate((s) => {
      s.spec.trialTemplate.command.push('--uid=${trialParameters.uid}');
      s.spec.trialTemplate.trialParameters.push({ name: 'uid', reference: '${trialSpec.UID}' });
    }),
    field: 'spec.trialTemplate.trialParameters[2].reference',
    reason: /unknown metadata reference "\$\{trialSpec\.UID\}"/,
  },
  {
    name: 'trial template from a ConfigMap without its namespace (Katib: all three fields required; the rest: test/katib-quirks.test.ts)',
    study: mutate((s) => { s.spec.trialTemplate.configMap = { configMapName: 'templates', templatePath: 'job.yaml' }; }),
    field: 'spec.trialTemplate.configMap.configMapNamespace',
    reason: /is required/,
  },
  {
    name: 'trialSpec with metadata.name set',
    study: mutate((s) => {
      withJob(s);
      s.spec.trialTemplate.trialSpec.metadata = { name: 'my-trial' };
    }),
    field: 'spec.trialTemplate.trialSpec.metadata.name',
    reason: /must be omitted: Sibyl sets it for each trial/,
  },
  {
    name: 'trialSpec metadata that is not an object (its labels are read by ${trialSpec.Labels[...]})',
    study: mutate((s) => { withJob(s); s.spec.trialTemplate.trialSpec.metadata = 'x'; }),
    field: 'spec.trialTemplate.trialSpec.metadata',
    reason: /must be an object/,
  },
  {
    name: 'a trialSpec label whose value is not a string',
    study: mutate((s) => { withJob(s); s.spec.trialTemplate.trialSpec.metadata = { labels: { 'example.com/team': 7 } }; }),
    field: 'spec.trialTemplate.trialSpec.metadata.labels.example.com/team',
    reason: /must be a string \(got 7\)/,
  },
  {
    name: 'trialSpec annotations that are a list',
    study: mutate((s) => { withJob(s); s.spec.trialTemplate.trialSpec.metadata = { annotations: ['a'] }; }),
    field: 'spec.trialTemplate.trialSpec.metadata.annotations',
    reason: /must be an object/,
  },
  {
    name: 'trialSpec without kind',
    study: mutate((s) => {
      withJob(s);
      delete s.spec.trialTemplate.trialSpec.kind;
    }),
    field: 'spec.trialTemplate.trialSpec.kind',
    reason: /is required/,
  },
  {
    name: 'trialSpec without primaryContainerName',
    study: mutate((s) => {
      withJob(s);
      delete s.spec.trialTemplate.primaryContainerName;
    }),
    field: 'spec.trialTemplate.primaryContainerName',
    reason: /is required with a trialSpec/,
  },
  {
    name: 'a trialSpec placeholder with no trialParameter',
    study: mutate((s) => withJob(s, { args: ['--dropout=${trialParameters.dropout}'] })),
    field: 'spec.trialTemplate.trialSpec',
    reason: /placeholder \$\{trialParameters\.dropout\} has no trialParameter named "dropout"/,
  },

  // metrics collector
  {
    name: 'unsupported collector kind (PrometheusMetric)',
    study: mutate((s) => { s.spec.metricsCollectorSpec = { collector: { kind: 'PrometheusMetric' } }; }),
    field: 'spec.metricsCollectorSpec.collector.kind',
    reason: /PrometheusMetric is not supported: Katib's shipped configuration has no collector image for it/,
  },
  {
    name: 'unknown collector kind',
    study: mutate((s) => { s.spec.metricsCollectorSpec = { collector: { kind: 'Stdout' } }; }),
    field: 'spec.metricsCollectorSpec.collector.kind',
    reason: /must be one of StdOut, File, Push, TensorFlowEvent, PrometheusMetric, Custom \(got "Stdout"\)/,
  },
  {
    name: 'metrics regex that does not compile',
    study: mutate((s) => { s.spec.metricsCollectorSpec = { source: { filter: { metricsFormat: ['([\\w-]+=(\\d+)'] } } }; }),
    field: 'spec.metricsCollectorSpec.source.filter.metricsFormat[0]',
    reason: /is not an RE2 regular expression/,
  },
  {
    name: 'metrics regex with fewer than two groups',
    study: mutate((s) => { s.spec.metricsCollectorSpec = { source: { filter: { metricsFormat: ['(\\w+)=\\d+'] } } }; }),
    field: 'spec.metricsCollectorSpec.source.filter.metricsFormat[0]',
    reason: /has 1 capture group\(s\); it needs two \(metric name, value\)/,
  },
  {
    name: 'File collector of a Directory (a bare File collector gets Katib\'s default path: test/katib-quirks.test.ts)',
    study: mutate((s) => { s.spec.metricsCollectorSpec = { collector: { kind: 'File' }, source: { fileSystemPath: { kind: 'Directory' } } }; }),
    field: 'spec.metricsCollectorSpec.source.fileSystemPath.kind',
    reason: /must be File for the File collector/,
  },
  {
    name: 'File collector with a directory for a path (with none, Katib\'s default file)',
    study: mutate((s) => { s.spec.metricsCollectorSpec = { collector: { kind: 'File' }, source: { fileSystemPath: { path: '/var/log/' } } }; }),
    field: 'spec.metricsCollectorSpec.source.fileSystemPath.path',
    reason: /must name a file, not a directory/,
  },
  {
    name: 'File collector with a relative path',
    study: mutate((s) => { s.spec.metricsCollectorSpec = { collector: { kind: 'File' }, source: { fileSystemPath: { path: 'metrics.log' } } }; }),
    field: 'spec.metricsCollectorSpec.source.fileSystemPath.path',
    reason: /must be an absolute path \(got "metrics\.log"\)/,
  },
  {
    name: 'metrics filter with the JSON format',
    study: mutate((s) => {
      s.spec.metricsCollectorSpec = {
        collector: { kind: 'File' },
        source: { fileSystemPath: { path: '/tmp/m.json', format: 'JSON' }, filter: { metricsFormat: ['(\\w+)=(\\d+)'] } },
      };
    }),
    field: 'spec.metricsCollectorSpec.source.filter',
    reason: /not allowed with the JSON format/,
  },

  // text
  {
    name: 'invalid YAML text (unclosed flow sequence)',
    study: 'apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata: {name: [x\nspec: {}\n',
    field: '',
    reason: /^not valid YAML or JSON at line \d+, column \d+: /,
  },
  {
    name: 'YAML text with a repeated key names the line',
    study: 'apiVersion: kubeflow.org/v1beta1\nkind: Experiment\nmetadata:\n  name: a\n  name: b\n',
    field: '',
    reason: /^not valid YAML or JSON at line 5, column 3: Map keys must be unique/,
  },
  {
    name: 'invalid JSON text names the line',
    study: '{\n  "apiVersion": "kubeflow.org/v1beta1",,\n  "kind": "Experiment"\n}',
    field: '',
    reason: /^not valid YAML or JSON at line 2, /,
  },
  { name: 'empty text', study: '# nothing but a comment\n', field: '', reason: /the study is empty/ },

  // bounds (src/model/limits.ts)
  { name: 'maxTrialCount beyond the limit', study: mutate((s) => { s.spec.maxTrialCount = 3e9; }), field: 'spec.maxTrialCount', reason: /must be at most 1000000 \(got 3000000000\)/ },
  { name: 'parallelTrialCount beyond the limit', study: mutate((s) => { s.spec.maxTrialCount = 50_000; s.spec.parallelTrialCount = 20_000; }), field: 'spec.parallelTrialCount', reason: /must be at most 1000 \(got 20000\)/ },
  { name: 'maxFailedTrialCount beyond the limit', study: mutate((s) => { delete s.spec.maxTrialCount; s.spec.maxFailedTrialCount = '1e20'; }), field: 'spec.maxFailedTrialCount', reason: /must be at most 1000000/ },
  { name: 'a double range at the edges of the float range', study: mutate((s) => { s.spec.parameters[0] = { name: 'learning_rate', parameterType: 'double', feasibleSpace: { min: -1.7e308, max: 1.7e308 } }; }), field: 'spec.parameters[0].feasibleSpace.min', reason: /must be within ±1e\+300 \(got -1\.7e\+308\)/ },
  { name: 'an int bound beyond the safe integers', study: mutate((s) => { s.spec.parameters[1].feasibleSpace.max = '1e17'; }), field: 'spec.parameters[1].feasibleSpace.max', reason: /must be within ±9007199254740991 for int parameters/ },
  { name: 'too many parameters', study: mutate((s) => { s.spec.parameters = Array.from({ length: 101 }, (_, i) => ({ name: `p${i}`, parameterType: 'int', feasibleSpace: { min: 0, max: 1 } })); }), field: 'spec.parameters', reason: /must have at most 100 items \(got 101\)/ },
  { name: 'a categorical list beyond the limit', study: mutate((s) => { s.spec.parameters[1] = { name: 'hidden_layers', parameterType: 'categorical', feasibleSpace: { list: Array.from({ length: 10_001 }, (_, i) => `v${i}`) } }; }), field: 'spec.parameters[1].feasibleSpace.list', reason: /must have at most 10000 items/ },
  { name: 'a metric name of 1 MB', study: mutate((s) => { s.spec.objective.objectiveMetricName = 'm'.repeat(1 << 20); }), field: 'spec.objective.objectiveMetricName', reason: /must be at most 253 characters \(got 1048576\)/ },
  { name: 'a metric name with surrounding white space', study: mutate((s) => { s.spec.objective.objectiveMetricName = ' accuracy'; }), field: 'spec.objective.objectiveMetricName', reason: /must not start or end with white space/ },
  { name: 'a namespace that is not a Kubernetes name', study: mutate((s) => { s.metadata.namespace = 'Team A'; }), field: 'metadata.namespace', reason: /must be a Kubernetes namespace name/ },
  { name: 'too many metrics regexes', study: mutate((s) => { s.spec.metricsCollectorSpec = { source: { filter: { metricsFormat: Array.from({ length: 17 }, () => '(\\w+)=(\\d+)') } } }; }), field: 'spec.metricsCollectorSpec.source.filter.metricsFormat', reason: /must have at most 16 items/ },
  { name: 'a document nested 100 levels deep', study: mutate((s) => { let deep: Doc = {}; for (let i = 0; i < 100; i++) deep = { x: deep }; withJob(s); s.spec.trialTemplate.trialSpec.metadata = { labels: deep }; }), field: '', reason: /is nested more than 64 levels deep/ },
  { name: 'YAML text that expands aliases too often', study: `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`, field: '', reason: /the YAML uses aliases too often \(at most 100 expansions\)/ },
  { name: 'YAML text nested a hundred thousand levels deep', study: `${'['.repeat(100_000)}${']'.repeat(100_000)}`, field: '', reason: /nested/ },
  { name: 'text that is not a mapping', study: '- just\n- a list\n', field: '', reason: /must be an object \(got a list\)/ },
];

for (const c of REJECTED) {
  test(`rejected: ${c.name}`, () => {
    const run = typeof c.study === 'string' ? () => parseStudyText(c.study) : () => parseStudyDocument(c.study);
    expectSpecError(run, c.field, c.reason);
  });
}

test('the rejection table has at least 30 cases, all distinct', () => {
  assert.ok(REJECTED.length >= 30, `only ${REJECTED.length} cases`);
  assert.equal(new Set(REJECTED.map((c) => c.name)).size, REJECTED.length);
});

// ---- the local runtime ----

interface LocalRejection {
  readonly name: string;
  readonly spec: () => StudySpec;
  readonly field: string;
  readonly reason: RegExp;
}

const LOCAL_REJECTED: readonly LocalRejection[] = [
  {
    // The parser never yields this (every parameter must reach a placeholder), so it is built by hand.
    name: 'no command and no trialSpec',
    spec: () => {
      const spec = parseStudyDocument(structuredClone(BASE));
      const { command: _command, ...template } = spec.trialTemplate;
      return { ...spec, trialTemplate: template };
    },
    field: 'spec.trialTemplate.command',
    reason: /required to run trials locally: there is no trialSpec/,
  },
  {
    name: 'a trialSpec whose primary container has no command',
    spec: () => parseStudyDocument(mutate((s) => {
      withJob(s, { env: [{ name: 'LR', value: '${trialParameters.learningRate}' }, { name: 'LAYERS', value: '${trialParameters.hiddenLayers}' }] });
      delete s.spec.trialTemplate.trialSpec.spec.template.spec.containers[0].command;
    })),
    field: 'spec.trialTemplate.command',
    reason: /the primary container "training-container" has no command or args in trialSpec/,
  },
  {
    name: 'a primaryContainerName matching no container',
    spec: () => parseStudyDocument(mutate((s) => {
      withJob(s);
      s.spec.trialTemplate.primaryContainerName = 'trainer';
    })),
    field: 'spec.trialTemplate.command',
    reason: /the primary container "trainer" has no command or args/,
  },
  {
    name: 'a Push collector',
    spec: () => parseStudyDocument(mutate((s) => {
      s.spec.metricsCollectorSpec = { collector: { kind: 'Push' } };
    })),
    field: 'spec.metricsCollectorSpec.collector.kind',
    reason: /Push is not supported by the local runtime yet/,
  },
];

for (const c of LOCAL_REJECTED) {
  test(`local runtime rejects: ${c.name}`, () => {
    const spec = c.spec(); // a valid study: only the local runtime cannot run it
    expectSpecError(() => validateForLocal(spec), c.field, c.reason);
  });
}

test('a study without trialTemplate parses (ask/tell clients run its trials) but cannot run locally', () => {
  const spec = parseStudyDocument(mutate((s) => { delete s.spec.trialTemplate; }));
  assert.deepEqual(spec.trialTemplate, { trialParameters: [], retain: false });
  expectSpecError(() => validateForLocal(spec), 'spec.trialTemplate.command', /there is no trialSpec/);
});

test('a study with neither command nor trialSpec is already rejected by the parser', () => {
  expectSpecError(
    () => parseStudyDocument(mutate((s) => { delete s.spec.trialTemplate.command; })),
    'spec.trialTemplate.trialParameters[0].name',
    /"learningRate" is not used by any/,
  );
});

test('local runtime accepts: no command but a TFJob whose primary container has command + args', () => {
  const spec = parseStudyDocument(mutate((s) => {
    delete s.spec.trialTemplate.command;
    s.spec.trialTemplate.trialSpec = structuredClone(TFJOB);
    s.spec.trialTemplate.primaryContainerName = 'tensorflow';
  }));
  validateForLocal(spec);
  assert.deepEqual(templateArgv(spec.trialTemplate), [
    'python',
    '/opt/tf-mnist-with-summaries/mnist.py',
    '--learning-rate=${trialParameters.learningRate}',
    '--hidden-layers=${trialParameters.hiddenLayers}',
  ]);
});

test("Katib's own early-stopping examples are accepted as written", () => {
  for (const name of ['median-stop', 'median-stop-with-json-format']) {
    const spec = parseStudyText(readFileSync(new URL(`../../test/fixtures/katib/${name}.yaml`, import.meta.url), 'utf8'));
    assert.equal(spec.earlyStopping?.algorithmName, 'medianstop', name);
    assert.deepEqual(spec.earlyStopping?.algorithmSettings, [{ name: 'min_trials_required', value: '1' }, { name: 'start_step', value: '2' }]);
  }
});
