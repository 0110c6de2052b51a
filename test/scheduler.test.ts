// The reconcile loop end to end: real SQLite, real child processes, Katib's end rules.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { processesOwnedBy } from '../src/runtimes/local/orphans.js';
import { harness, intStudy, runToEnd, studySpec, tempDir } from './support/study.js';
import { inspect } from './support/sqlite.js';
import { until } from './support/wait.js';

test('a trial that exits non-zero is FAILED with its exit code and the tail of its log', async () => {
  const h = harness();
  const spec = intStudy('echo "loading"; echo "boom: x=${trialParameters.x}" >&2; exit 3', { max: 4, budget: { parallelTrialCount: 1, maxTrialCount: 4, maxFailedTrialCount: 2 } });
  const { study, trials } = await runToEnd(h, spec);
  await h.close();
  assert.equal(study.state, 'FAILED');
  assert.equal(study.reason, 'MaxFailedTrialsReached');
  assert.equal(trials.length, 2, 'maxFailedTrialCount 2 ends the study after the second failure');
  for (const t of trials) {
    assert.equal(t.state, 'FAILED');
    assert.equal(t.reason, 'NonZeroExit');
    assert.match(t.message ?? '', /exit code 3/);
    assert.match(t.message ?? '', new RegExp(`boom: x=${t.assignment['x']}`));
  }
  assert.deepEqual(h.errors, []);
});

test('reaching the goal ends the study SUCCEEDED (GoalReached) and kills the active trials', async () => {
  const h = harness();
  // x=3 reports the goal at once; x=1 and x=2 would run for a minute.
  const spec = intStudy('if [ ${trialParameters.x} = 3 ]; then echo "score=3"; else sleep 60; fi', {
    max: 6,
    budget: { parallelTrialCount: 3, maxTrialCount: 6 },
    objective: { type: 'maximize', objectiveMetricName: 'score', goal: 3 },
  });
  const started = Date.now();
  const { study, trials } = await runToEnd(h, spec);
  const ownedAfter = processesOwnedBy(h.dataDir);
  await h.close();
  assert.equal(study.state, 'SUCCEEDED');
  assert.equal(study.reason, 'GoalReached');
  assert.ok(Date.now() - started < 30_000, 'the sleeping trials were not waited for');
  const byX = new Map(trials.map((t) => [t.assignment['x'], t]));
  assert.equal(byX.get(3)?.state, 'SUCCEEDED');
  assert.equal(byX.get(3)?.objectiveValue, 3);
  assert.equal(byX.get(1)?.state, 'KILLED');
  assert.equal(byX.get(2)?.state, 'KILLED');
  assert.equal(trials.length, 3, 'no trial is started once the goal is reached');
  assert.deepEqual(ownedAfter, [], 'no trial process is left alive');
});

test('a 9-point grid with maxTrialCount 20 ends after 9 trials with SearchSpaceExhausted', async () => {
  const h = harness();
  const spec = studySpec({
    parameters: [
      { name: 'a', parameterType: 'int', feasibleSpace: { min: '1', max: '3' } },
      { name: 'b', parameterType: 'discrete', feasibleSpace: { list: ['10', '20', '30'] } },
    ],
    trialParameters: [{ name: 'a', reference: 'a' }, { name: 'b', reference: 'b' }],
    command: ['sh', '-c', 'echo "score=$((${trialParameters.a} * ${trialParameters.b}))"'],
    budget: { parallelTrialCount: 4, maxTrialCount: 20 },
  });
  const { study, trials } = await runToEnd(h, spec);
  await h.close();
  assert.equal(study.state, 'SUCCEEDED');
  assert.equal(study.reason, 'SearchSpaceExhausted');
  assert.equal(trials.length, 9);
  assert.ok(trials.every((t) => t.state === 'SUCCEEDED'));
  const points = trials.map((t) => `${t.assignment['a']}x${t.assignment['b']}`).sort();
  assert.deepEqual(points, ['1x10', '1x20', '1x30', '2x10', '2x20', '2x30', '3x10', '3x20', '3x30']);
  for (const t of trials) assert.equal(t.objectiveValue, Number(t.assignment['a']) * Number(t.assignment['b']));
});

test('maxTrialCount ends the study with MaxTrialsReached and parallelism is never exceeded', async () => {
  const h = harness();
  const spec = intStudy('sleep 0.2; echo "score=${trialParameters.x}"', { max: 100, budget: { parallelTrialCount: 2, maxTrialCount: 5 } });
  const { study, trials } = await runToEnd(h, spec);
  await h.close();
  assert.equal(study.reason, 'MaxTrialsReached');
  assert.equal(trials.length, 5);
  let running = 0;
  let peak = 0;
  for (const e of h.events) {
    if (e.type !== 'trial') continue;
    if (e.trial.state === 'RUNNING') running += 1;
    if (e.trial.state === 'SUCCEEDED') running -= 1;
    peak = Math.max(peak, running);
  }
  assert.equal(peak, 2);
});

test('a trial that succeeds without reporting the objective is METRICS_UNAVAILABLE and counts as failed', async () => {
  const h = harness();
  const spec = intStudy('echo "loss=0.5 accuracy=0.9 x=${trialParameters.x}"', { max: 3, budget: { parallelTrialCount: 1, maxTrialCount: 3, maxFailedTrialCount: 1 } });
  const { study, trials } = await runToEnd(h, spec);
  await h.close();
  assert.equal(trials.length, 1);
  assert.equal(trials[0]!.state, 'METRICS_UNAVAILABLE');
  assert.match(trials[0]!.message ?? '', /score/);
  assert.equal(study.state, 'FAILED');
  assert.equal(study.reason, 'MaxFailedTrialsReached');
});

test('garbage in trial output never stores a non-finite value and never stops the scheduler', async () => {
  const dir = tempDir();
  const script = join(dir, 'noisy.js');
  writeFileSync(script, `
    const out = (s) => process.stdout.write(s);
    out('score=abc\\nscore=NaN\\nscore=1e999\\nscore=-Infinity\\nscore=\\nscore=inf\\n');
    out(Buffer.from([0xff, 0xfe, 0x00, 0x73, 0x63, 0x6f, 0x72, 0x65, 0x3d, 0x80, 0x0a]));
    out('score=' + 'x'.repeat(1 << 20) + '\\n');
    out('w'.repeat(1 << 20) + ' score ' + '\\n');
    out('{"score": "NaN"}\\n');
    out('epoch=1 score=0.25\\n');
    out('epoch=2 score=' + process.argv[2] + '\\n');
  `);
  const spec = studySpec({
    parameters: [{ name: 'v', parameterType: 'discrete', feasibleSpace: { list: ['0.5', '0.75'] } }],
    trialParameters: [{ name: 'v', reference: 'v' }],
    command: [process.execPath, script, '${trialParameters.v}'],
    objective: { type: 'maximize', objectiveMetricName: 'score', metricStrategies: [{ name: 'score', value: 'latest' }] },
    budget: { parallelTrialCount: 2 },
  });
  const h = harness(dir);
  const { study, trials } = await runToEnd(h, spec);
  assert.equal(study.reason, 'SearchSpaceExhausted');
  for (const t of trials) {
    assert.equal(t.state, 'SUCCEEDED');
    assert.equal(t.objectiveValue, Number(t.assignment['v']));
    const observations = await h.store.observations(t.id);
    assert.deepEqual(observations.map((o) => [o.step, o.value]), [[1, 0.25], [2, Number(t.assignment['v'])]]);
  }
  const all = inspect(h.store).prepare('SELECT value FROM observations').all() as { value: number }[];
  assert.ok(all.every((r) => Number.isFinite(r.value)));
  await h.close();
  assert.deepEqual(h.errors, []);
});

test('placeholders, metadata references and trial environment reach the process; output goes to its log', async () => {
  const h = harness();
  const spec = studySpec({
    parameters: [{ name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.1', max: '0.2', step: '0.1' } }],
    trialParameters: [{ name: 'learningRate', reference: 'lr' }, { name: 'trialName', reference: '${trialSpec.Name}' }],
    command: ['sh', '-c', 'echo "lr=${trialParameters.learningRate} name=${trialParameters.trialName} env=$KATIB_TRIAL_NAME/$SIBYL_TRIAL_NAME"; echo score=1'],
    budget: { parallelTrialCount: 1 },
  });
  const { trials } = await runToEnd(h, spec);
  await h.close();
  assert.equal(trials.length, 2);
  for (const t of trials) {
    const log = readFileSync(join(h.dataDir, 'logs', `${t.name}.log`), 'utf8');
    assert.match(log, new RegExp(`lr=${t.assignment['lr']} name=${t.name} env=${t.name}/${t.name}`));
  }
});

test('a command that cannot be started fails its trial with the reason', async () => {
  const h = harness();
  const spec = studySpec({
    parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: '2' } }],
    trialParameters: [{ name: 'x', reference: 'x' }],
    command: ['/nonexistent/trainer', '--x=${trialParameters.x}'],
    budget: { parallelTrialCount: 1, maxFailedTrialCount: 1, maxTrialCount: 2 },
  });
  const { study, trials } = await runToEnd(h, spec);
  await h.close();
  assert.equal(study.state, 'FAILED');
  assert.equal(trials[0]!.state, 'FAILED');
  assert.equal(trials[0]!.reason, 'LaunchFailed');
  assert.match(trials[0]!.message ?? '', /ENOENT/);
});

test('after a restart, CREATED trials are launched and RUNNING ones rerun with the same assignment', async () => {
  const dir = tempDir();
  const spec = intStudy('echo "score=${trialParameters.x}"', { max: 4, budget: { parallelTrialCount: 2, maxTrialCount: 10 } });
  // What a runner killed mid-pass leaves behind: two write-ahead rows, one marked running.
  const first = harness(dir);
  const study = await first.store.createStudy(spec, process.cwd(), 7);
  const [a, b] = await first.store.addTrials(study.id, [{ x: 4 }, { x: 2 }]);
  await first.store.transitionTrial(a!.id, 'start', { runtimeRef: 'pid:999999' });
  await first.store.addObservations([{ trialId: a!.id, observations: [{ metric: 'score', value: 100, step: 1, time: new Date().toISOString() }] }]);
  await first.close();

  const second = harness(dir);
  await second.scheduler.adopt([study.id]);
  const ended = await second.scheduler.waitForEnd(study.id);
  const trials = await second.store.listTrials(study.id);
  await second.close();
  assert.equal(ended.reason, 'SearchSpaceExhausted');
  assert.equal(trials.length, 4);
  assert.deepEqual(trials.slice(0, 2).map((t) => [t.name, t.assignment['x'], t.state]), [[a!.name, 4, 'SUCCEEDED'], [b!.name, 2, 'SUCCEEDED']]);
  assert.equal(trials[0]!.objectiveValue, 4, 'the partial observation of the dead attempt was dropped');
  assert.deepEqual(trials.map((t) => t.assignment['x']).sort(), [1, 2, 3, 4]);
});

test('a trial that ignores SIGTERM is SIGKILLed after the grace period when its study ends', async () => {
  const h = harness(tempDir(), { gracePeriodMs: 300 });
  const spec = intStudy(`if [ \${trialParameters.x} = 2 ]; then sleep 0.3; echo score=2; else trap "" TERM; while true; do sleep 0.05; done; fi`, {
    max: 2,
    objective: { type: 'maximize', objectiveMetricName: 'score', goal: 2 },
  });
  const { study, trials } = await runToEnd(h, spec);
  const left = processesOwnedBy(h.dataDir);
  await h.close();
  assert.equal(study.reason, 'GoalReached');
  assert.equal(trials.find((t) => t.assignment['x'] === 1)?.state, 'KILLED');
  assert.deepEqual(left, [], 'the stubborn trial and its children are gone');
});

test('a trial ends when its process exits, even if a child it left behind holds its output open; the child is ended with it', async () => {
  const h = harness();
  // The background sleep inherits stdout: waiting for the pipe to close would take a minute.
  const spec = intStudy('echo "score=${trialParameters.x}"; sleep 60 & exit 0', { max: 2, budget: { parallelTrialCount: 2, maxTrialCount: 2 } });
  const started = Date.now();
  const { study, trials } = await runToEnd(h, spec);
  const elapsed = Date.now() - started;
  // Killed with its trial's group when the trial ended; on a loaded machine the kernel may take
  // a moment to retire it, far less than the sleep's 60 s.
  const ownedAfter = await until('the sleep the trial left behind to be ended', 5000, () => processesOwnedBy(h.dataDir).length === 0 || undefined)
    .then(() => [], () => processesOwnedBy(h.dataDir));
  await h.close();
  assert.equal(study.state, 'SUCCEEDED');
  assert.deepEqual(trials.map((t) => [t.state, t.objectiveValue]).sort(), [['SUCCEEDED', 1], ['SUCCEEDED', 2]]);
  assert.ok(elapsed < 20_000, `the study took ${elapsed} ms: it waited for the pipe`);
  assert.deepEqual(ownedAfter, [], 'the sleep the trial left behind was ended');
  for (const t of trials) assert.match(readFileSync(join(h.dataDir, 'logs', `${t.name}.log`), 'utf8'), /score=\d/, 'the log is complete');
});
