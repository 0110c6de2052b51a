// Enqueued assignments survive kill -9: `sibyl run` of a study that starts with four enqueued
// assignments is SIGKILLed three times while trials run, then run to its end. Each enqueued
// assignment ran in exactly one trial, the first four trials in queue order, and none was lost.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openStore } from '../src/store/open.js';
import { runCli } from './support/cli.js';
import { killWhileRunning } from './support/crash-run.js';
import { tempDir } from './support/study.js';

const ENQUEUED = [0.11, 0.22, 0.33, 0.44];

const STUDY = `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: crash-queue}
spec:
  objective: {type: minimize, objectiveMetricName: loss}
  algorithm: {algorithmName: random}
  parallelTrialCount: 2
  maxTrialCount: 8
  enqueuedTrials:
${ENQUEUED.map((x) => `    - {x: ${x}}`).join('\n')}
  parameters:
    - {name: x, parameterType: double, feasibleSpace: {min: "0", max: "1"}}
  trialTemplate:
    trialParameters: [{name: x, reference: x}]
    command: [sh, -c, 'sleep 0.4; echo "loss=\${trialParameters.x}"']
`;

test('kill -9 during a study with enqueued assignments: each runs in exactly one trial, first and in order', { timeout: 240_000 }, async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const file = join(dir, 'study.yaml');
  writeFileSync(file, STUDY);
  const args = ['run', file, '--data-dir', dataDir];
  await killWhileRunning(args, 50, 400);
  const final = await runCli(args);
  assert.equal(final.code, 0, `${final.stdout}\n${final.stderr}`);

  const store = await openStore(dataDir);
  try {
    const study = (await store.getStudyByName('crash-queue'))!;
    const trials = await store.listTrials(study.id);
    assert.equal(study.state, 'SUCCEEDED');
    assert.equal(trials.length, 8, 'no extra trial rows');
    assert.ok(trials.every((t) => t.state === 'SUCCEEDED'), trials.map((t) => t.state).join());
    assert.deepEqual(trials.slice(0, 4).map((t) => t.assignment['x']), ENQUEUED, 'the enqueued assignments are the first trials, in order');
    for (const x of ENQUEUED) assert.equal(trials.filter((t) => t.assignment['x'] === x).length, 1, `x = ${x} in one trial`);
    assert.deepEqual(await store.enqueuedTrials(study.id), []);
  } finally {
    await store.close();
  }
});
