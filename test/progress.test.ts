// The live display of `sibyl run`: a redrawn bar on a terminal, one line per event otherwise.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ProgressDisplay } from '../src/cli/progress.js';
import { intStudy, tempDir } from './support/study.js';
import { SqliteStore } from '../src/store/sqlite.js';

function fakeStream(isTTY: boolean) {
  const writes: string[] = [];
  return { writes, stream: { isTTY, write: (s: string) => (writes.push(s), true) } as unknown as NodeJS.WriteStream };
}

async function storeWithTrials() {
  const store = SqliteStore.open(tempDir());
  const spec = intStudy('echo score=${trialParameters.x}', { max: 9, budget: { maxTrialCount: 4, parallelTrialCount: 2 } });
  const study = await store.createStudy(spec, '/', 1);
  const [a, b, c] = await store.addTrials(study.id, [{ x: 1 }, { x: 2 }, { x: 3 }]);
  await store.transitionTrial(a!.id, 'start', { runtimeRef: 'pid:1' });
  await store.transitionTrial(a!.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: 0.75 });
  await store.transitionTrial(b!.id, 'start', { runtimeRef: 'pid:2' });
  await store.transitionTrial(c!.id, 'fail', { reason: 'NonZeroExit', message: 'exit code 1' });
  return { store, study, trial: (await store.getTrial(b!.id))! };
}

test('on a terminal the display redraws one bar with counts, best value and elapsed time', async () => {
  const { store, study, trial } = await storeWithTrials();
  const { writes, stream } = fakeStream(true);
  const display = new ProgressDisplay(store, study.id, stream);
  display.onEvent({ type: 'trial', trial });
  await display.stop();
  assert.equal(writes.length, 2);
  assert.match(writes[0]!, /^\r\x1b\[2K\[█{12}░{12}\] 2\/4 done · 1 running · 1 failed · best score 0\.75 · 00:00$/);
  assert.equal(writes[1], '\n');
  await store.close();
});

test('off a terminal the display writes a plain line per trial event', async () => {
  const { store, study, trial } = await storeWithTrials();
  const { writes, stream } = fakeStream(false);
  const display = new ProgressDisplay(store, study.id, stream);
  display.onEvent({ type: 'trial', trial });
  display.onEvent({ type: 'trial', trial: (await store.getTrial(trial.id - 1))! });
  await display.stop();
  assert.match(writes[0]!, /^\[00:00\] test-study-0002 RUNNING x=2 {2}\(2\/4 done · 1 running · 1 failed · best score 0\.75\)\n$/);
  assert.match(writes[1]!, /^\[00:00\] test-study-0001 SUCCEEDED value=0\.75 /);
  assert.ok(writes.every((w) => !w.includes('\r')));
  await store.close();
});
