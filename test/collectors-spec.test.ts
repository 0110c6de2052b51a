// What Sibyl accepts as a metricsCollectorSpec, with Katib's defaults, and how it refuses the
// rest (field path and reason); what each runtime adds to that.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateForLocal } from '../src/runtimes/local/argv.js';
import { prepareMetricsPlace } from '../src/runtimes/local/metrics-files.js';
import { validateForKubernetes } from '../src/runtimes/kubernetes/validate.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyDocument } from '../src/spec/parse.js';
import { tempDir } from './support/study.js';

const study = (metricsCollectorSpec: unknown, container: Record<string, unknown> = { command: ['python3', 'train.py'] }) => ({
  apiVersion: 'kubeflow.org/v1beta1',
  kind: 'Experiment',
  metadata: { name: 'c' },
  spec: {
    objective: { type: 'maximize', objectiveMetricName: 'accuracy' },
    algorithm: { algorithmName: 'random' },
    parameters: [{ name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.1', max: '0.2' } }],
    metricsCollectorSpec,
    trialTemplate: {
      primaryContainerName: 'main',
      trialParameters: [{ name: 'lr', reference: 'lr' }],
      trialSpec: { apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { containers: [{ name: 'main', image: 'x', args: ['--lr=${trialParameters.lr}'], ...container }] } } } },
    },
  },
});

test('defaults: File reads /var/log/katib/metrics.log as TEXT, TensorFlowEvent the directory /var/log/katib/tfevent/', () => {
  assert.deepEqual(parseStudyDocument(study({ collector: { kind: 'File' } })).metricsCollector.path, '/var/log/katib/metrics.log');
  const tf = parseStudyDocument(study({ collector: { kind: 'TensorFlowEvent' } })).metricsCollector;
  assert.equal(tf.kind, 'TensorFlowEvent');
  assert.equal(tf.path, '/var/log/katib/tfevent/');
  const json = parseStudyDocument(study({ collector: { kind: 'File' }, source: { fileSystemPath: { path: '/out/m.json', kind: 'File', format: 'JSON' } } })).metricsCollector;
  assert.deepEqual([json.path, json.format], ['/out/m.json', 'JSON']);
  const custom = parseStudyDocument(study({ collector: { kind: 'Custom', customCollector: { name: 'mine', image: 'me/collector' } } })).metricsCollector;
  assert.deepEqual(custom.customCollector, { name: 'mine', image: 'me/collector' });
  // Katib's TFJob example.
  const mnist = parseStudyDocument(study({ collector: { kind: 'TensorFlowEvent' }, source: { fileSystemPath: { path: '/mnist-with-summaries-logs/test', kind: 'Directory' } } })).metricsCollector;
  assert.equal(mnist.path, '/mnist-with-summaries-logs/test');
});

const REFUSED: [string, unknown, string, RegExp][] = [
  ['PrometheusMetric', { collector: { kind: 'PrometheusMetric' } }, 'collector.kind', /Katib's shipped configuration has no collector image for it/],
  ['Custom without its container', { collector: { kind: 'Custom' } }, 'collector.customCollector', /is required for the Custom collector/],
  ['a customCollector on another kind', { collector: { kind: 'File', customCollector: {} } }, 'collector.customCollector', /only used by the Custom collector \(kind is File\)/],
  ['File: a relative path', { collector: { kind: 'File' }, source: { fileSystemPath: { path: 'm.log' } } }, 'source.fileSystemPath.path', /must be an absolute path/],
  ['File: a directory path', { collector: { kind: 'File' }, source: { fileSystemPath: { path: '/logs/' } } }, 'source.fileSystemPath.path', /must name a file, not a directory/],
  ['File: kind Directory', { collector: { kind: 'File' }, source: { fileSystemPath: { path: '/m.log', kind: 'Directory' } } }, 'source.fileSystemPath.kind', /must be File for the File collector \(got Directory\)/],
  ['File: a path leaving its folder', { collector: { kind: 'File' }, source: { fileSystemPath: { path: '/var/../../etc/passwd' } } }, 'source.fileSystemPath.path', /must not contain "\." or "\.\." segments/],
  ['TensorFlowEvent: kind File', { collector: { kind: 'TensorFlowEvent' }, source: { fileSystemPath: { path: '/logs', kind: 'File' } } }, 'source.fileSystemPath.kind', /must be Directory for the TensorFlowEvent collector/],
  ['TensorFlowEvent: a format', { collector: { kind: 'TensorFlowEvent' }, source: { fileSystemPath: { path: '/logs', format: 'TEXT' } } }, 'source.fileSystemPath.format', /must be empty for the TensorFlowEvent collector/],
  ['TensorFlowEvent: a filter', { collector: { kind: 'TensorFlowEvent' }, source: { filter: { metricsFormat: ['(\\w+)=(\\d+)'] } } }, 'source.filter', /not used by the TensorFlowEvent collector/],
  ['TensorFlowEvent: a relative path', { collector: { kind: 'TensorFlowEvent' }, source: { fileSystemPath: { path: 'logs' } } }, 'source.fileSystemPath.path', /must be an absolute path/],
  ['an unknown fileSystemPath kind', { collector: { kind: 'File' }, source: { fileSystemPath: { path: '/m.log', kind: 'Socket' } } }, 'source.fileSystemPath.kind', /must be one of File, Directory/],
];

for (const [name, spec, field, reason] of REFUSED) {
  test(`refused: ${name}`, () => {
    assert.throws(() => parseStudyDocument(study(spec)), (err: unknown) => {
      assert.ok(err instanceof SpecError, String(err));
      assert.equal(err.field, `spec.metricsCollectorSpec.${field}`);
      assert.match(err.message, reason);
      return true;
    });
  });
}

test('runtimes: local runs File and TensorFlowEvent (not Push/Custom); kubernetes needs a command to wrap', () => {
  for (const kind of ['File', 'TensorFlowEvent']) {
    validateForLocal(parseStudyDocument(study({ collector: { kind } })));
    validateForKubernetes(parseStudyDocument(study({ collector: { kind } })));
  }
  validateForKubernetes(parseStudyDocument(study({ collector: { kind: 'Custom', customCollector: { name: 'c' } } })));
  assert.throws(() => validateForLocal(parseStudyDocument(study({ collector: { kind: 'Custom', customCollector: { name: 'c' } } }))), /Custom is not supported by the local runtime yet/);
  const noCommand = parseStudyDocument(study({ collector: { kind: 'File' } }, { command: undefined }));
  assert.throws(() => validateForKubernetes(noCommand), (err: unknown) => {
    assert.ok(err instanceof SpecError);
    assert.equal(err.field, 'spec.trialTemplate.trialSpec');
    assert.match(err.message, /the primary container "main" needs a command: the File collector wraps it/);
    return true;
  });
  validateForKubernetes(parseStudyDocument(study({ collector: { kind: 'StdOut' } }, { command: undefined }))); // StdOut reads the log as it is
});

test('local: the collector folder is re-rooted in the trial\'s own folder, in argv and SIBYL_METRICS_PATH', async () => {
  const dataDir = tempDir();
  const tf = await prepareMetricsPlace(dataDir, 's', 't', { kind: 'TensorFlowEvent', path: '/mnist-with-summaries-logs/test', format: 'TEXT', metricsFormat: [] },
    ['python3', 'mnist.py', '--log_dir=/mnist-with-summaries-logs', '/mnist-with-summaries-logs-2', '/data/mnist-with-summaries-logs']);
  const root = `${dataDir}/metrics/s/t`;
  assert.deepEqual(tf.argv, ['python3', 'mnist.py', `--log_dir=${root}/mnist-with-summaries-logs`, '/mnist-with-summaries-logs-2', '/data/mnist-with-summaries-logs']);
  assert.equal(tf.env['SIBYL_METRICS_PATH'], `${root}/mnist-with-summaries-logs/test`);
  const file = await prepareMetricsPlace(dataDir, 's', 't', { kind: 'File', path: '/var/log/katib/metrics.log', format: 'TEXT', metricsFormat: [] }, ['sh', '-c', 'x > /var/log/katib/metrics.log']);
  assert.deepEqual(file.argv, ['sh', '-c', `x > ${root}/var/log/katib/metrics.log`]);
  const top = await prepareMetricsPlace(dataDir, 's', 't', { kind: 'File', path: '/metrics.log', format: 'TEXT', metricsFormat: [] }, ['train', '--out=/metrics.log', '/etc/x']);
  assert.deepEqual(top.argv, ['train', `--out=${root}/metrics.log`, '/etc/x'], 'a file at / : only the path itself is re-rooted');
});
