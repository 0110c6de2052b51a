// Early stopping while trials run: a local study with `medianstop` (real processes, stopped by
// SIGTERM while they print), the same study killed with SIGKILL and resumed (no decision taken
// is revisited, the later ones are the same), and an ask/tell study over REST.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SqliteStore } from '../src/store/sqlite.js';
import type { TrialRecord } from '../src/store/store.js';
import { runCli, startCli } from './support/cli.js';
import { startTestServer } from './support/server.js';
import { tempDir } from './support/study.js';

const CURVE_TRIAL = fileURLToPath(new URL('../../test/support/curve-trial.mjs', import.meta.url));
/** Trials in grid order (parallel 1, so every decision sees the same completed trials). */
const QUALITIES = ['0.9', '0.8', '0.7', '0.2', '0.85', '0.1', '0.3', '0.95'];
/**
 * With min_trials_required 3 and start_step 4, the first three complete; the running averages
 * by step 4 are q · 0.667, so the median is 0.533 for 0.9, 0.8, 0.7; a trial's best by step 4 is
 * q · 0.865: 0.2, 0.1 and 0.3 fall below it and stop at step 4, 0.85 and 0.95 do not.
 */
const LAGGARDS = ['0.2', '0.1', '0.3'];

const studyYaml = (name: string, steps: number, pauseMs: number) => `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: ${name}
spec:
  objective:
    type: maximize
    objectiveMetricName: accuracy
  algorithm:
    algorithmName: grid
  earlyStopping:
    algorithmName: medianstop
    algorithmSettings:
      - {name: min_trials_required, value: "3"}
      - {name: start_step, value: "4"}
  parallelTrialCount: 1
  maxTrialCount: ${QUALITIES.length}
  parameters:
    - name: q
      parameterType: categorical
      feasibleSpace: {list: [${QUALITIES.map((q) => `"${q}"`).join(', ')}]}
  trialTemplate:
    trialParameters:
      - {name: q, reference: q}
    command: [node, ${JSON.stringify(CURVE_TRIAL)}, "\${trialParameters.q}", "${steps}", "${pauseMs}"]
`;

async function readStudy(dataDir: string, name: string): Promise<{ trials: TrialRecord[]; observations: Map<string, number[]>; summary: Awaited<ReturnType<SqliteStore['earlyStoppingSummary']>>; state: string }> {
  const store = SqliteStore.open(dataDir);
  try {
    const study = (await store.getStudyByName(name))!;
    const trials = await store.listTrials(study.id);
    const observations = new Map<string, number[]>();
    for (const t of trials) observations.set(t.name, await store.metricValues(t.id, 'accuracy'));
    return { trials, observations, summary: await store.earlyStoppingSummary(study.id, 'accuracy'), state: `${study.state} ${study.reason}` };
  } finally {
    await store.close();
  }
}

const stopsOf = (trials: TrialRecord[]) =>
  trials.filter((t) => t.state === 'EARLY_STOPPED').map((t) => `${t.assignment['q']}@${t.earlyStop?.step}`).sort();

test('medianstop on the local runtime stops laggards while they run; they end EARLY_STOPPED with what they reported', { timeout: 120_000 }, async () => {
  const dir = tempDir();
  const file = join(dir, 'study.yaml');
  const steps = 20;
  writeFileSync(file, studyYaml('median-local', steps, 60));
  const result = await runCli(['run', file, '--data-dir', join(dir, 'data')]);
  assert.equal(result.code, 0, `${result.stdout}\n${result.stderr}`);
  const { trials, observations, summary, state } = await readStudy(join(dir, 'data'), 'median-local');
  assert.equal(state, 'SUCCEEDED MaxTrialsReached');
  assert.deepEqual(stopsOf(trials), LAGGARDS.map((q) => `${q}@4`).sort());
  for (const t of trials) {
    const values = observations.get(t.name)!;
    const log = readFileSync(join(dir, 'data', 'logs', `${t.name}.log`), 'utf8');
    if (t.state === 'EARLY_STOPPED') {
      assert.equal(t.reason, 'EarlyStopped');
      assert.match(t.message ?? '', /stopped at step 4: best value .* worse than the median/);
      // Stopped while it ran: it printed far fewer than its 20 steps and never finished.
      assert.ok(values.length >= 4 && values.length < steps, `${t.name}: ${values.length} observations`);
      assert.doesNotMatch(log, /done/);
      assert.equal(t.objectiveValue, Math.max(...values), 'its strategy (max) over what it reported');
    } else {
      assert.equal(t.state, 'SUCCEEDED', `${t.name} ${t.state} ${t.message}`);
      assert.equal(values.length, steps);
      assert.match(log, /done/);
    }
  }
  assert.equal(summary.trialsStopped, 3);
  const runByStopped = trials.filter((t) => t.state === 'EARLY_STOPPED').reduce((n, t) => n + observations.get(t.name)!.length, 0);
  assert.equal(summary.stepsSaved, 3 * steps - runByStopped);
  // What the user sees: the stop as it happens, the step in the table, the budget saved.
  assert.match(result.stdout, /median-local-0004 STOPPING at step 4: best value 0\.17\d* by step 4 is worse than the median/);
  assert.match(result.stdout, /median-local-0004 +EARLY_STOPPED +0\.2 +0\.172933 +step 4 /);
  assert.match(result.stdout, new RegExp(`Early stopping \\(medianstop\\): 3 trials stopped, ${summary.stepsRun} steps run, ${summary.stepsSaved} steps saved`));
  assert.match(result.stdout, /Best trial median-local-0008: accuracy=0\.9499\d* with q=0\.95/);
});

test('medianstop: sibyl run killed with SIGKILL mid-study and resumed takes the same decisions', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  const file = join(dir, 'study.yaml');
  writeFileSync(file, studyYaml('median-crash', 12, 80));
  const dataDir = join(dir, 'data');
  const args = ['run', file, '--data-dir', dataDir];
  // Kill once the fifth trial (0.85, after the first laggard was stopped) is running.
  const run = startCli(args);
  let out = '';
  await new Promise<void>((resolve) => {
    run.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/median-crash-0005 RUNNING/.test(out)) resolve();
    });
    void run.done.then(() => resolve());
  });
  await new Promise((r) => setTimeout(r, 500));
  run.child.kill('SIGKILL');
  assert.equal((await run.done).signal, 'SIGKILL', `ended before it was killed:\n${out}`);
  const before = await readStudy(dataDir, 'median-crash');
  assert.deepEqual(stopsOf(before.trials), ['0.2@4'], 'one decision was taken before the kill');

  const resumed = await runCli(args);
  assert.equal(resumed.code, 0, `${resumed.stdout}\n${resumed.stderr}`);
  const after = await readStudy(dataDir, 'median-crash');
  assert.equal(after.state, 'SUCCEEDED MaxTrialsReached');
  assert.deepEqual(stopsOf(after.trials), LAGGARDS.map((q) => `${q}@4`).sort(), 'the same decisions as a run without a crash');
  assert.deepEqual(after.trials.map((t) => t.assignment['q']), QUALITIES, 'every assignment once');
});

test('medianstop over ask/tell: should-stop says yes to laggards, and their next report ends them EARLY_STOPPED', { timeout: 60_000 }, async () => {
  const s = await startTestServer();
  try {
    const spec = studyYaml('median-asktell', 10, 0).replace(/ {2}trialTemplate:[\s\S]*$/, '');
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: spec })).status, 201);
    const seen: { q: string; stoppedAt?: number; state: string }[] = [];
    for (;;) {
      const asked = await s.http('POST', '/api/v1/studies/median-asktell/suggest', { count: 1, clientId: 'notebook' });
      if (asked.status === 409 || asked.body.trials.length === 0) break;
      const [trial] = asked.body.trials;
      const q = Number(trial.assignment.q);
      let stoppedAt: number | undefined;
      let state = 'RUNNING';
      for (let step = 1; step <= 10; step++) {
        const report = await s.http('POST', `/api/v1/trials/${trial.name}/observations`, { observations: [{ metric: 'accuracy', value: q * (1 - Math.exp(-step / 2)), step }] });
        assert.equal(report.status, 200, JSON.stringify(report.body));
        const now = (await s.http('GET', `/api/v1/trials/${trial.name}`)).body;
        if (stoppedAt !== undefined) {
          // The report after the client was told to stop is its last: the trial ends EARLY_STOPPED.
          assert.equal(now.state, 'EARLY_STOPPED');
          assert.equal(now.stoppedAtStep, stoppedAt);
          state = now.state;
          break;
        }
        assert.equal(now.state, 'RUNNING');
        if ((await s.http('GET', `/api/v1/trials/${trial.name}/should-stop`)).body.shouldStop) stoppedAt = step;
      }
      if (state === 'RUNNING') {
        const done = await s.http('POST', `/api/v1/trials/${trial.name}/complete`, {});
        assert.equal(done.status, 200, JSON.stringify(done.body));
        state = done.body.state;
      }
      seen.push({ q: trial.assignment.q, ...(stoppedAt === undefined ? {} : { stoppedAt }), state });
    }
    assert.deepEqual(seen.filter((t) => t.state === 'EARLY_STOPPED').map((t) => `${t.q}@${t.stoppedAt}`).sort(), LAGGARDS.map((q) => `${q}@4`).sort());
    assert.deepEqual(seen.filter((t) => t.state === 'SUCCEEDED').map((t) => t.q), QUALITIES.filter((q) => !LAGGARDS.includes(q)));
    const study = (await s.http('GET', '/api/v1/studies/median-asktell')).body;
    assert.equal(study.state, 'SUCCEEDED');
    assert.equal(study.trials.EARLY_STOPPED, 3);
    assert.deepEqual(study.earlyStopping, { algorithm: 'medianstop', trialsStopped: 3, stepsRun: 5 * 10 + 3 * 5, stepsSaved: 3 * 5 });
    // A stopped trial takes no more reports.
    const stopped = (await s.http('GET', '/api/v1/studies/median-asktell/trials?state=EARLY_STOPPED')).body.trials[0];
    assert.equal((await s.http('POST', `/api/v1/trials/${stopped.name}/observations`, { observations: [{ metric: 'accuracy', value: 1, step: 11 }] })).status, 409);
  } finally {
    await s.close();
  }
});

/** An ask/tell study with medianstop on `acc` (maximised) and `trials` trials, all asked for at once. */
function askTellSpec(name: string, minTrialsRequired: number, startStep: number, trials: number) {
  return {
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: 'acc' },
      algorithm: { algorithmName: 'random' },
      earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'min_trials_required', value: String(minTrialsRequired) }, { name: 'start_step', value: String(startStep) }] },
      parallelTrialCount: trials, maxTrialCount: trials,
      parameters: [{ name: 'x', parameterType: 'double', feasibleSpace: { min: '0', max: '1' } }],
    },
  };
}

test('medianstop over ask/tell across a server restart: a step judged before it is not judged again, new steps are', { timeout: 60_000 }, async () => {
  // min_trials_required 1, start_step 2. a completes at 0.5; b is judged at step 2 (0.6 above the
  // median 0.5: go on); c completes at 0.9, which moves the median at step 2 to 0.7. Judged again
  // after the restart, b's step 2 would now stop it; b's step 3 (0.95) must not. d, asked before
  // the restart and reporting 0.3 after it, is stopped at its step 2.
  const spec = askTellSpec('median-restart', 1, 2, 4);
  const dataDir = join(tempDir(), 'data');
  let s = await startTestServer({ dataDir });
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { spec })).status, 201);
    const [a, b, c, d] = (await s.http('POST', '/api/v1/studies/median-restart/suggest', { count: 4, clientId: 'notebook' })).body.trials;
    const report = async (name: string, step: number, value: number) => {
      const res = await s.http('POST', `/api/v1/trials/${name}/observations`, { observations: [{ metric: 'acc', value, step }] });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const shouldStop = async (name: string) => (await s.http('GET', `/api/v1/trials/${name}/should-stop`)).body.shouldStop as boolean;
    for (let step = 1; step <= 4; step++) await report(a.name, step, 0.5);
    assert.equal((await s.http('POST', `/api/v1/trials/${a.name}/complete`, {})).status, 200);
    await report(b.name, 1, 0.6);
    await report(b.name, 2, 0.6);
    assert.equal(await shouldStop(b.name), false, 'b goes on at step 2');
    for (let step = 1; step <= 4; step++) await report(c.name, step, 0.9);
    assert.equal((await s.http('POST', `/api/v1/trials/${c.name}/complete`, {})).status, 200);

    await s.close();
    s = await startTestServer({ dataDir });
    await report(b.name, 3, 0.95);
    assert.equal(await shouldStop(b.name), false, 'the decision at step 2 stands after the restart');
    assert.equal((await s.http('GET', `/api/v1/trials/${b.name}`)).body.state, 'RUNNING');
    await report(d.name, 1, 0.3);
    await report(d.name, 2, 0.3);
    assert.equal(await shouldStop(d.name), true, 'a step first reported after the restart is judged');
    // gRPC's ShouldStopTrial gives the same answers.
    const trials = s.client('Trials');
    const overGrpc = (trial: string) => new Promise<boolean>((resolve, reject) =>
      trials.shouldStopTrial({ trial }, (err: Error | null, res: { shouldStop: boolean }) => (err ? reject(err) : resolve(res.shouldStop))));
    assert.equal(await overGrpc(b.name), false);
    assert.equal(await overGrpc(d.name), true);
  } finally {
    await s.close();
  }
});

test('medianstop over ask/tell: reports out of step order are judged in step order, and a step reported twice counts its last value', { timeout: 60_000 }, async () => {
  // min_trials_required 3, start_step 4: three trials complete at 0.5, so the median of their
  // running averages is 0.5. d reports step 5 (0.9) before step 4 (0.1) in one batch: in step
  // order its best by step 4 is 0.1, so it stops at 4. e reports step 4 twice, 0.1 then 0.9:
  // 0.9 counts, and it goes on; a third report of step 4 (0.05) comes after step 4 was judged.
  const spec = askTellSpec('median-order', 3, 4, 5);
  const s = await startTestServer();
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { spec })).status, 201);
    const [a, b, c, d, e] = (await s.http('POST', '/api/v1/studies/median-order/suggest', { count: 5, clientId: 'notebook' })).body.trials;
    const report = async (name: string, points: [number, number][]) => {
      const res = await s.http('POST', `/api/v1/trials/${name}/observations`, { observations: points.map(([step, value]) => ({ metric: 'acc', value, step })) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
    };
    const shouldStop = async (name: string) => (await s.http('GET', `/api/v1/trials/${name}/should-stop`)).body.shouldStop as boolean;
    for (const t of [a, b, c]) {
      await report(t.name, [1, 2, 3, 4, 5, 6].map((step) => [step, 0.5]));
      assert.equal((await s.http('POST', `/api/v1/trials/${t.name}/complete`, {})).status, 200);
    }
    await report(d.name, [[5, 0.9], [4, 0.1]]);
    assert.equal(await shouldStop(d.name), true, 'judged in step order, d is behind at step 4');
    await report(d.name, [[6, 0.9]]);
    const stopped = (await s.http('GET', `/api/v1/trials/${d.name}`)).body;
    assert.equal(stopped.state, 'EARLY_STOPPED');
    assert.equal(stopped.stoppedAtStep, 4);

    await report(e.name, [[4, 0.1], [4, 0.9]]);
    assert.equal(await shouldStop(e.name), false, "step 4's last value, 0.9, is above the median");
    await report(e.name, [[4, 0.05]]);
    assert.equal(await shouldStop(e.name), false, 'a step judged already is not judged again, even with a new value');
  } finally {
    await s.close();
  }
});
