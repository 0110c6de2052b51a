// The File and TensorFlowEvent collectors on a real cluster: `sibyl run --runtime kubernetes`
// in this process's child, batch Job trials run by the cluster's own Job controller and kubelet
// in the MLP example's image (node on Debian: POSIX sh and coreutils' base64). Sidecar-free:
// the primary container's command is wrapped and dumps the files to its log when it exits.
// The observations stored must equal what each trial wrote. The summary files are built on the
// host by the independent standard-library writer (TensorFlow cannot be had here) and written
// by the trial from base64.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { stringify } from 'yaml';
import { SqliteStore } from '../src/store/sqlite.js';
import { runCli } from './support/cli.js';
import { startCluster, type KubeCluster } from './support/kube-cluster.js';
import { tempDir } from './support/study.js';
import { writeSummaryFile, type WriterSpec } from './support/tfevents.js';

let cluster: KubeCluster;

before(async () => {
  cluster = await startCluster();
}, { timeout: 40 * 60_000 });

after(async () => {
  await cluster?.stop();
});

/** Runs a study of `trials` Job trials (x = 1…trials) to its end; returns its trials with their observations. */
async function runStudy(name: string, trials: number, script: string, metricsCollectorSpec: unknown, objective: Record<string, unknown>) {
  const dir = tempDir();
  const file = join(dir, 'study.yaml');
  writeFileSync(file, stringify({
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name, namespace: 'default' },
    spec: {
      objective, algorithm: { algorithmName: 'grid' }, parallelTrialCount: trials, maxTrialCount: trials,
      parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: String(trials) } }],
      metricsCollectorSpec,
      trialTemplate: {
        primaryContainerName: 'trial', trialParameters: [{ name: 'x', reference: 'x' }],
        trialSpec: {
          apiVersion: 'batch/v1', kind: 'Job',
          spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'trial', image: 'sibyl/mlp-example:latest', imagePullPolicy: 'Never', command: ['sh', '-c', script] }] } } },
        },
      },
    },
  }));
  const dataDir = join(dir, 'data');
  const run = await runCli(['run', file, '--runtime', 'kubernetes', '--kubeconfig', cluster.kubeconfigPath, '--data-dir', dataDir, '--pending-timeout', '60']);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr.slice(-4000)}`);
  const store = SqliteStore.open(dataDir);
  try {
    const study = (await store.listStudies()).find((s) => s.name === name)!;
    return Promise.all((await store.listTrials(study.id)).map(async (t) => ({
      ...t,
      x: Number(t.assignment['x']),
      rows: (await store.observations(t.id)).map((o) => [o.metric, o.step, o.value] as const),
    })));
  } finally {
    await store.close();
  }
}

test('File collector, Katib default path: the metrics the trials wrote in their pods, not their stdout', { timeout: 10 * 60_000 }, async () => {
  const script = 'mkdir -p /var/log/katib && for i in 1 2 3; do echo "epoch=$i loss=0.${trialParameters.x}$i" >> /var/log/katib/metrics.log; done; echo "loss=99"';
  const trials = await runStudy('collect-file', 2, script, { collector: { kind: 'File' } }, { type: 'minimize', objectiveMetricName: 'loss' });
  assert.equal(trials.length, 2);
  for (const t of trials) {
    assert.equal(t.state, 'SUCCEEDED', `${t.name}: ${t.reason}: ${t.message}`);
    assert.deepEqual(t.rows, [1, 2, 3].map((i) => ['loss', i, Number(`0.${t.x}${i}`)]), t.name);
    assert.equal(t.objectiveValue, Number(`0.${t.x}1`));
  }
});

test('TensorFlowEvent collector (the TFJob example\'s layout): test/accuracy and train/loss by step; a truncated file reported, its records kept', { timeout: 10 * 60_000 }, async () => {
  const dir = tempDir();
  const summaries = (x: number, tag: string, truncate: boolean): string => {
    const spec: WriterSpec = {
      events: [1, 2, 3].map((step) => ({ step: step * 10, wall_time: 1700000000 + step, values: [{ tag, kind: tag === 'accuracy' ? 'float_tensor' : 'simple', value: x / 10 + step / 100, metadata: step === 1 }] })),
      ...(truncate ? { corrupt: 'truncate', cut: 6 } : {}),
    };
    return writeSummaryFile(join(dir, `${x}-${tag}`), spec).toString('base64');
  };
  const cases = [1, 2, 3].map((x) => `${x}) echo ${summaries(x, 'accuracy', x === 3)} | base64 -d > /logs/test/events.out.tfevents.1; echo ${summaries(x, 'loss', false)} | base64 -d > /logs/train/events.out.tfevents.1;;`).join(' ');
  const script = `mkdir -p /logs/test /logs/train && case \${trialParameters.x} in ${cases} esac`;
  const trials = await runStudy('collect-tfevent', 3, script, {
    collector: { kind: 'TensorFlowEvent' },
    source: { fileSystemPath: { path: '/logs', kind: 'Directory' } },
  }, { type: 'maximize', objectiveMetricName: 'test/accuracy', additionalMetricNames: ['train/loss'] });
  assert.equal(trials.length, 3);
  const f32 = (v: number) => Math.fround(v);
  for (const t of trials) {
    assert.equal(t.state, 'SUCCEEDED', `${t.name}: ${t.reason}: ${t.message}`);
    const steps = t.x === 3 ? [1, 2] : [1, 2, 3];
    const sorted = [...t.rows].sort((a, b) => a[0].localeCompare(b[0]) || a[1] - b[1]);
    assert.deepEqual(sorted, [
      ...steps.map((s) => ['test/accuracy', s * 10, f32(t.x / 10 + s / 100)]),
      ...[1, 2, 3].map((s) => ['train/loss', s * 10, f32(t.x / 10 + s / 100)]),
    ], t.name);
    if (t.x === 3) assert.match(t.message ?? '', /metrics: summary file \/logs\/test\/events\.out\.tfevents\.1: the file ends inside a record .*truncated/);
    else assert.equal(t.message ?? null, null, t.name);
  }
});
