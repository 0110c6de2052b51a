// The `sibyl` command as users call it: exit codes, messages, tables and JSON.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCli } from './support/cli.js';
import { tempDir } from './support/study.js';

function studyFile(dir: string, name: string, command: string, extra = ''): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ${name}}
spec:
  objective: {type: maximize, objectiveMetricName: accuracy, additionalMetricNames: [loss]}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 2
${extra}
  parameters:
    - {name: layers, parameterType: int, feasibleSpace: {min: "1", max: "3"}}
  trialTemplate:
    trialParameters: [{name: layers, reference: layers}]
    command: [sh, -c, '${command}']
`);
  return file;
}

test('run: a study that succeeds exits 0 with the trials table and the best trial; queries agree', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const file = studyFile(dir, 'ok-study', 'echo "epoch=1 loss=0.9 accuracy=0.${trialParameters.layers}"; echo "epoch=2 loss=0.5 accuracy=0.${trialParameters.layers}5"');
  const run = await runCli(['run', file, '--data-dir', dataDir]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /ok-study-0003 \*\s+SUCCEEDED\s+3\s+0\.35/);
  assert.match(run.stdout, /Best trial ok-study-0003: accuracy=0\.35 with layers=3/);
  assert.match(run.stdout, /SUCCEEDED \(SearchSpaceExhausted\)/);

  const studies = JSON.parse((await runCli(['studies', '--json', '--data-dir', dataDir])).stdout);
  assert.equal(studies.length, 1);
  assert.equal(studies[0].state, 'SUCCEEDED');
  assert.equal(studies[0].trials.SUCCEEDED, 3);
  assert.deepEqual(studies[0].best.assignment, { layers: 3 });

  const trials = JSON.parse((await runCli(['trials', 'ok-study', '--json', '--data-dir', dataDir])).stdout);
  assert.deepEqual(trials.map((t: { assignment: { layers: number } }) => t.assignment.layers), [1, 2, 3]);
  const loss = trials[0].metrics.find((m: { name: string }) => m.name === 'loss');
  assert.deepEqual(loss, { name: 'loss', min: 0.5, max: 0.9, latest: 0.5, count: 2 });

  const best = JSON.parse((await runCli(['best', 'ok-study', '--json', '--data-dir', dataDir])).stdout);
  assert.equal(best.name, 'ok-study-0003');
  assert.equal(best.objectiveValue, 0.35);

  const table = await runCli(['studies', '--data-dir', dataDir]);
  assert.match(table.stdout, /ok-study\s+SUCCEEDED\s+SearchSpaceExhausted\s+grid\s+3\/∞/);

  // Running a finished study again reports it without running anything.
  const again = await runCli(['run', file, '--data-dir', dataDir]);
  assert.equal(again.code, 0);
  assert.match(again.stdout, /already ended: SUCCEEDED/);
  const trialsAfter = JSON.parse((await runCli(['trials', 'ok-study', '--json', '--data-dir', dataDir])).stdout);
  assert.equal(trialsAfter.length, 3);
});

test('run: a study that fails exits 1', async () => {
  const dir = tempDir();
  const file = studyFile(dir, 'bad-study', 'echo layers ${trialParameters.layers}; exit 4', '  maxFailedTrialCount: 1\n  maxTrialCount: 3');
  const run = await runCli(['run', file, '--data-dir', join(dir, 'data')]);
  assert.equal(run.code, 1);
  assert.match(run.stdout, /FAILED \(MaxFailedTrialsReached\)/);
});

test('run: an invalid spec exits 2 naming the field, and writes nothing to the store', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const file = studyFile(dir, 'invalid', 'echo accuracy=1 ${trialParameters.layers}', '  maxTrialCount: 2\n  maxFailedTrialCount: 5');
  const run = await runCli(['run', file, '--data-dir', dataDir]);
  assert.equal(run.code, 2);
  assert.equal(run.stderr, 'sibyl: invalid study: spec.maxFailedTrialCount: must not exceed maxTrialCount (got 5 > 2)\n');
  const studies = await runCli(['studies', '--json', '--data-dir', dataDir]);
  assert.deepEqual(JSON.parse(studies.stdout), []);
});

test('run: a different study under a taken name exits 2 and leaves the first one alone', async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const first = studyFile(dir, 'same', 'echo accuracy=0.${trialParameters.layers}');
  assert.equal((await runCli(['run', first, '--data-dir', dataDir])).code, 0);
  const second = studyFile(join(dir), 'same', 'echo accuracy=0.${trialParameters.layers}', '  maxTrialCount: 2');
  const run = await runCli(['run', second, '--data-dir', dataDir]);
  assert.equal(run.code, 2);
  assert.match(run.stderr, /metadata\.name: a different study named "same" already exists/);
});

test('usage errors exit 2 with a message', async () => {
  const cases: [string[], RegExp][] = [
    [[], /no command given/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['run'], /usage: sibyl run <study.yaml>/],
    [['run', '/nonexistent/study.yaml'], /cannot read \/nonexistent\/study.yaml: ENOENT/],
    [['studies', '--colour'], /unknown option --colour/],
    [['trials', 'nope', '--data-dir', tempDir()], /no study named "nope"/],
    [['run', '/nonexistent/study.yaml', '--pending-timeout', 'abc', '--data-dir', tempDir()], /--pending-timeout must be a number of seconds from 1 to 86400 \(got "abc"\)/],
    [['serve', '--pending-timeout', '0', '--data-dir', tempDir()], /--pending-timeout must be a number of seconds/],
    [['run', '/nonexistent/study.yaml', '--kube-checkpoint-claim', 'ckpt', '--kube-checkpoint-dir', tempDir(), '--data-dir', tempDir()], /--kube-checkpoint-claim and --kube-checkpoint-dir are for --runtime kubernetes/],
    [['run', '/nonexistent/study.yaml', '--runtime', 'kubernetes', '--kube-checkpoint-claim', 'ckpt', '--data-dir', tempDir()], /--kube-checkpoint-claim needs --kube-checkpoint-dir/],
    [['serve', '--runtime', 'kubernetes', '--kube-checkpoint-claim', 'Bad_Name', '--kube-checkpoint-dir', tempDir(), '--data-dir', tempDir()], /--kube-checkpoint-claim must name a PersistentVolumeClaim/],
    [['serve', '--katib-db-managers', 'katib-db-manager.kubeflow:6789,http://x', '--data-dir', tempDir()], /--katib-db-managers: "http:\/\/x" is not host:port/],
  ];
  for (const [args, message] of cases) {
    const r = await runCli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
  }
  const help = await runCli(['--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /Usage: sibyl <command>/);
});
