// File and TensorFlowEvent collectors on the local runtime, end to end: real trial processes
// (sh, and the stdlib Python summary writer), a real scheduler and SQLite store. The metrics
// stored must equal what each trial wrote, at Katib's default paths re-rooted per trial.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseStudyDocument } from '../src/spec/parse.js';
import type { StudySpec } from '../src/spec/types.js';
import { harness, runToEnd, tempDir } from './support/study.js';
import { WRITER } from './support/tfevents.js';
import { until } from './support/wait.js';

/** The trial runs `sh -c script x args…`: $0 is its parameter x. */
function study([script, ...args]: string[], metricsCollectorSpec: unknown, objective: Record<string, unknown> = { type: 'minimize', objectiveMetricName: 'loss' }, max = 2): StudySpec {
  return parseStudyDocument({
    apiVersion: 'kubeflow.org/v1beta1',
    kind: 'Experiment',
    metadata: { name: 'collect' },
    spec: {
      objective,
      algorithm: { algorithmName: 'grid' },
      maxTrialCount: max,
      parallelTrialCount: Math.min(2, max),
      parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: String(Math.max(max, 2)) } }],
      trialTemplate: { command: ['sh', '-c', script!, '${trialParameters.x}', ...args], trialParameters: [{ name: 'x', reference: 'x' }] },
      metricsCollectorSpec,
    },
  });
}

const observed = async (h: ReturnType<typeof harness>, trialId: number) =>
  (await h.store.observations(trialId)).map((o) => [o.metric, o.step, o.value]);

test('File (TEXT, Katib default path): the lines of the file, not of the output; parallel trials each have their own file', async () => {
  const h = harness();
  try {
    // The trial is given Katib's default path; it prints a decoy on stdout that must not count.
    const script = 'echo "loss=99"; for i in 1 2 3; do echo "epoch=$i loss=0.$((${0}*10+i))" >> "$1"; done';
    const spec = study([script, '/var/log/katib/metrics.log'], { collector: { kind: 'File' } });
    assert.equal(spec.metricsCollector.path, '/var/log/katib/metrics.log');
    const { trials } = await runToEnd(h, spec);
    assert.equal(trials.length, 2);
    for (const t of trials) {
      const x = Number(t.assignment['x']);
      assert.equal(t.state, 'SUCCEEDED', t.message);
      assert.deepEqual(await observed(h, t.id), [1, 2, 3].map((i) => ['loss', i, Number(`0.${x * 10 + i}`)]));
      assert.ok(existsSync(join(h.dataDir, 'metrics', 'collect', t.name, 'var/log/katib/metrics.log')));
    }
    assert.deepEqual(h.errors, []);
  } finally {
    await h.close();
  }
});

test('File (JSON) through SIBYL_METRICS_PATH, a last line without a newline; the file is followed while the trial runs', async () => {
  const h = harness();
  const gate = join(tempDir(), 'go');
  try {
    const script = `printf '{"step": 1, "loss": "0.5"}\\n' >> "$SIBYL_METRICS_PATH"; while [ ! -e ${gate} ]; do sleep 0.1; done; printf '{"step": 2, "loss": 0.25}' >> "$SIBYL_METRICS_PATH"`;
    const spec = study([script], { collector: { kind: 'File' }, source: { fileSystemPath: { path: '/out/m.json', kind: 'File', format: 'JSON' } } }, undefined, 1);
    const created = await h.store.createStudy(spec, process.cwd(), 1);
    await h.scheduler.adopt([created.id]);
    // While the trial waits at its gate, its first line is stored already.
    const running = await until('the first line stored while the trial runs', 10_000, async () => {
      const t = (await h.store.listTrials(created.id))[0];
      return t && t.state === 'RUNNING' && (await h.store.observations(t.id)).length === 1 ? t : undefined;
    });
    assert.deepEqual(await observed(h, running.id), [['loss', 1, 0.5]]);
    writeFileSync(gate, '');
    await h.scheduler.waitForEnd(created.id);
    const [t] = await h.store.listTrials(created.id);
    assert.equal(t!.state, 'SUCCEEDED', t!.message);
    assert.deepEqual(await observed(h, t!.id), [['loss', 1, 0.5], ['loss', 2, 0.25]]);
    assert.equal(t!.objectiveValue, 0.25);
  } finally {
    await h.close();
  }
});

test('TensorFlowEvent (Katib TFJob example layout): --logdir re-rooted, test/accuracy from its test run, steps from the events', async () => {
  const h = harness();
  try {
    const events = JSON.stringify({ events: [1, 2, 3].map((step) => ({ step: step * 100, wall_time: 1700000000 + step, values: [{ tag: 'accuracy', kind: 'float_tensor', value: step / 4, metadata: step === 1 }, { tag: 'loss', kind: 'simple', value: step }] })) });
    // Two runs under the log directory, as mnist_with_summaries writes them.
    const script = `python3 ${WRITER} "$1/train/events.out.tfevents.1" '${events}' && python3 ${WRITER} "$1/test/events.out.tfevents.1" '${events}'`;
    const spec = study([script, '/mnist-with-summaries-logs'], {
      collector: { kind: 'TensorFlowEvent' },
      source: { fileSystemPath: { path: '/mnist-with-summaries-logs', kind: 'Directory' } },
    }, { type: 'maximize', objectiveMetricName: 'test/accuracy', additionalMetricNames: ['train/loss'] }, 1);
    const { trials } = await runToEnd(h, spec);
    const t = trials[0]!;
    assert.equal(t.state, 'SUCCEEDED', t.message);
    const rows = (await observed(h, t.id)).sort((a, b) => String(a[0]).localeCompare(String(b[0])) || Number(a[1]) - Number(b[1]));
    assert.deepEqual(rows, [
      ['test/accuracy', 100, 0.25], ['test/accuracy', 200, 0.5], ['test/accuracy', 300, 0.75],
      ['train/loss', 100, 1], ['train/loss', 200, 2], ['train/loss', 300, 3],
    ]);
    assert.equal(t.objectiveValue, 0.75);
    assert.equal((await h.store.observations(t.id))[0]!.time, new Date(1700000001000).toISOString());
  } finally {
    await h.close();
  }
});

test('TensorFlowEvent, default directory: a truncated summary file is reported in the trial message, what came before is kept', async () => {
  const h = harness();
  try {
    const spec0 = { events: [1, 2, 3].map((step) => ({ step, values: [{ tag: 'loss', kind: 'simple', value: step }] })), corrupt: 'truncate', cut: 3 };
    const spec = study([`python3 ${WRITER} "$1" '${JSON.stringify(spec0)}'`, '/var/log/katib/tfevent/events.out.tfevents.9'], { collector: { kind: 'TensorFlowEvent' } }, undefined, 1);
    assert.equal(spec.metricsCollector.path, '/var/log/katib/tfevent/');
    const { trials } = await runToEnd(h, spec);
    const t = trials[0]!;
    assert.equal(t.state, 'SUCCEEDED');
    assert.deepEqual(await observed(h, t.id), [['loss', 1, 1], ['loss', 2, 2]]);
    assert.match(t.message ?? '', /metrics: summary file \/var\/log\/katib\/tfevent\/events\.out\.tfevents\.9: the file ends inside a record .* truncated/);
    assert.equal(h.errors.length, 1, 'reported once, as it was found');
  } finally {
    await h.close();
  }
});

test('a step outside 0 to 2^53−1 (a negative epoch printed, an int64 step in a summary file) is numbered in order and reported; a wall time past any date is stamped on arrival', async () => {
  const h = harness();
  try {
    const printed = study(['echo "step=1 loss=0.5"; echo "step=-3 loss=0.4"; echo "step=5 loss=0.3"'], { collector: { kind: 'StdOut' } }, undefined, 1);
    const [p] = (await runToEnd(h, printed)).trials;
    assert.equal(p!.state, 'SUCCEEDED', p!.message);
    assert.deepEqual(await observed(h, p!.id), [['loss', 1, 0.5], ['loss', 2, 0.4], ['loss', 5, 0.3]]);
    assert.match(p!.message ?? '', /metrics: loss: a step of -3 is outside 0 to 9007199254740991; such observations are numbered in order instead/);

    const events = { events: [{ step: 2 ** 62, wall_time: 1e13, values: [{ tag: 'loss', kind: 'simple', value: 1 }] }, { step: 7, wall_time: 1700000000, values: [{ tag: 'loss', kind: 'simple', value: 2 }] }] };
    const written = study([`python3 ${WRITER} "$1" '${JSON.stringify(events)}'`, '/var/log/katib/tfevent/events.out.tfevents.9'], { collector: { kind: 'TensorFlowEvent' } }, undefined, 1);
    const before = Date.now();
    const [w] = (await runToEnd(h, { ...written, name: 'collect-tf' })).trials;
    assert.equal(w!.state, 'SUCCEEDED', w!.message);
    assert.deepEqual(await observed(h, w!.id), [['loss', 1, 1], ['loss', 7, 2]], 'both values kept');
    const [first, second] = await h.store.observations(w!.id);
    assert.ok(Date.parse(first!.time) >= before - 1000 && Date.parse(first!.time) <= Date.now(), `stamped on arrival: ${first!.time}`);
    assert.equal(second!.time, new Date(1700000000000).toISOString());
    assert.match(w!.message ?? '', /record 2 has a wall time of 10000000000000 s, past any date/);
    assert.match(w!.message ?? '', /loss: a step of 4611686018427388000 is outside 0 to 9007199254740991/);
  } finally {
    await h.close();
  }
});

test('a trial that writes no metrics file ends MetricsUnavailable, saying where the file was expected', async () => {
  const h = harness();
  try {
    const spec = study(['echo loss=1'], { collector: { kind: 'File' } }, undefined, 1);
    const { trials } = await runToEnd(h, spec);
    const t = trials[0]!;
    assert.equal(t.state, 'METRICS_UNAVAILABLE');
    assert.match(t.message ?? '', /never reported the objective metric "loss"; metrics: the trial wrote no metrics file .*\/metrics\/collect\/collect-0001\/var\/log\/katib\/metrics\.log \(given to it as SIBYL_METRICS_PATH\)/);
  } finally {
    await h.close();
  }
});
