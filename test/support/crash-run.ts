// The body of the crash test of `sibyl run`, whatever store it runs on: SIGKILL at random
// moments while trials run, three times, then rerun to the end; the 12-point grid is finished
// exactly once, nothing is left RUNNING or CREATED, and no trial process is left alive.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processesOwnedBy } from '../../src/runtimes/local/orphans.js';
import { openStore } from '../../src/store/open.js';
import { runCli, startCli } from './cli.js';
import { tempDir } from './study.js';

const STUDY = `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: crash-grid
spec:
  objective:
    type: minimize
    objectiveMetricName: loss
  algorithm:
    algorithmName: grid
  parallelTrialCount: 3
  maxTrialCount: 12
  parameters:
    - name: a
      parameterType: int
      feasibleSpace: {min: "1", max: "4"}
    - name: b
      parameterType: categorical
      feasibleSpace: {list: [x, y, z]}
  trialTemplate:
    trialParameters:
      - {name: a, reference: a}
      - {name: b, reference: b}
    # 0.3–1 s per trial, with a loss reported each step.
    command:
      - sh
      - -c
      - |
        for i in 1 2 3; do sleep 0.$(( (\${trialParameters.a} * 7 + i * 3) % 3 + 1 )); echo "step=$i loss=\${trialParameters.a}.$i b=\${trialParameters.b}"; done
`;

/**
 * Runs `sibyl <args>` and SIGKILLs it, up to three times, each time at a random moment within
 * `spreadMs` after `minMs` from when it reports a trial RUNNING (whatever the machine's load).
 * Stops early when a run finishes before its kill. Returns the killed runs' outputs.
 */
export async function killWhileRunning(args: readonly string[], minMs: number, spreadMs: number): Promise<string[]> {
  const killed: string[] = [];
  for (let kills = 0; kills < 3; kills += 1) {
    const run = startCli([...args]);
    let out = '';
    await new Promise<void>((started) => {
      run.child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/ RUNNING /.test(out)) started();
      });
      void run.done.then(() => started());
    });
    await sleep(minMs + Math.random() * spreadMs);
    run.child.kill('SIGKILL');
    const result = await run.done;
    if (result.signal !== 'SIGKILL') break; // it finished first: nothing more to interrupt
    killed.push(`${result.stdout}\n${result.stderr}`);
  }
  return killed;
}

/** storeUrl: a PostgreSQL database for the store; without it, SQLite in the data directory. */
export async function crashAndResume(storeUrl?: string): Promise<void> {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const file = join(dir, 'study.yaml');
  writeFileSync(file, STUDY);
  const args = ['run', file, '--data-dir', dataDir, ...(storeUrl ? ['--store', storeUrl] : [])];

  const killed = await killWhileRunning(args, 100, 700);
  assert.equal(killed.length, 3, `a run ended before it was killed:\n${killed.join('\n')}`);
  let final;
  for (let attempt = 0; attempt < 5; attempt += 1) {
    final = await runCli(args);
    if (final.code === 0) break;
  }
  assert.equal(final?.code, 0, `${final?.stdout}\n${final?.stderr}`);
  assert.match(final!.stdout, /Best trial crash-grid-\d+: loss=1\.1 with a=1 b=/);

  const store = await openStore(storeUrl ?? dataDir);
  const study = (await store.getStudyByName('crash-grid'))!;
  const trials = await store.listTrials(study.id);
  await store.close();
  assert.equal(study.state, 'SUCCEEDED');
  const succeeded = trials.filter((t) => t.state === 'SUCCEEDED');
  const points = succeeded.map((t) => `${t.assignment['a']}${t.assignment['b']}`).sort();
  const grid = [1, 2, 3, 4].flatMap((a) => ['x', 'y', 'z'].map((b) => `${a}${b}`));
  assert.deepEqual(points, grid, 'each of the 12 grid points once among succeeded trials');
  assert.equal(trials.length, 12, 'no extra trial rows');
  assert.ok(trials.every((t) => t.state !== 'RUNNING' && t.state !== 'CREATED'));
  for (const t of succeeded) assert.equal(t.objectiveValue, Number(`${t.assignment['a']}.1`));
  assert.ok(trials.some((t) => t.attempts > 1), 'at least one trial was relaunched after a kill');
  assert.deepEqual(processesOwnedBy(dataDir), [], 'no trial process left alive');
}
