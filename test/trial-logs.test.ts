// Trial log files on a real file system: written in order, rotated past their limit, tailed
// across the rotated part, emptied by startOver, deleted whole; and a local trial printing more
// than the limit, through the REST API.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LIMITS } from '../src/model/limits.js';
import { deleteTrialLogs, rotatedLogPath, tailLog, TrialLogFile, trialLogPath } from '../src/runtimes/logs.js';
import { startTestServer } from './support/server.js';
import { tempDir } from './support/study.js';

const lineOf = (i: number) => `line ${String(i).padStart(4, '0')} ${'x'.repeat(40)}\n`;

test('a log past its limit rotates to .1: the newest part is kept whole and in order, and tails read across both files', async () => {
  const path = trialLogPath(tempDir(), 't-0001');
  const log = new TrialLogFile(path, { maxBytes: 1000 });
  for (let i = 0; i < 100; i++) {
    log.write(lineOf(i));
    if (i % 5 === 4) await log.flushed(); // five lines a batch, so the log rotates many times
  }
  await log.close();

  const newest = readFileSync(path, 'utf8');
  const older = readFileSync(rotatedLogPath(path), 'utf8');
  assert.ok(newest.length <= 1000 && older.length <= 1000, `each part within the limit (${older.length}, ${newest.length})`);
  const all = Array.from({ length: 100 }, (_, i) => lineOf(i)).join('');
  assert.ok(all.endsWith(older + newest), 'the two parts are the end of what was written, in order');
  assert.ok((older + newest).length > 1000, 'more than the limit is kept');

  const kept = (older + newest).split('\n').filter(Boolean);
  assert.deepEqual((await tailLog(path, 3)).lines, kept.slice(-3));
  const whole = await tailLog(path, 10_000);
  assert.deepEqual(whole.lines, kept, 'a long tail continues into the rotated part');
  assert.equal(whole.size, older.length + newest.length);
});

test('a line split by a rotation is whole again in the tail', async () => {
  const path = trialLogPath(tempDir(), 't-0002');
  const log = new TrialLogFile(path, { maxBytes: 10 });
  log.write('aaaa\nbbbb');
  await log.flushed();
  log.write('cccc\n');
  await log.close();
  assert.equal(readFileSync(rotatedLogPath(path), 'utf8'), 'aaaa\nbbbb');
  assert.equal(readFileSync(path, 'utf8'), 'cccc\n');
  assert.deepEqual((await tailLog(path, 1)).lines, ['bbbbcccc']);
  assert.deepEqual((await tailLog(path, 5)).lines, ['aaaa', 'bbbbcccc']);
});

test('startOver empties the log and drops its rotated part; deleting a trial\'s logs removes both files', async () => {
  const dir = tempDir();
  const path = trialLogPath(dir, 't-0003');
  writeFileSync(path, 'old\n');
  writeFileSync(rotatedLogPath(path), 'older\n');
  const log = new TrialLogFile(path, { startOver: true });
  log.write('new\n');
  await log.close();
  assert.equal(readFileSync(path, 'utf8'), 'new\n');
  assert.equal(existsSync(rotatedLogPath(path)), false);

  writeFileSync(rotatedLogPath(path), 'older\n');
  await deleteTrialLogs(dir, ['t-0003']);
  assert.equal(existsSync(path), false);
  assert.equal(existsSync(rotatedLogPath(path)), false);
});

test('a writer faster than the disk is told to wait, and everything it wrote arrives in order', async () => {
  const path = trialLogPath(tempDir(), 't-0004');
  const log = new TrialLogFile(path);
  const chunk = Buffer.alloc(64 * 1024, 'y');
  let waited = 0;
  for (let i = 0; i < 64; i++) {
    if (!log.write(chunk)) {
      waited++;
      await log.drained();
    }
  }
  log.write('end\n');
  await log.close();
  assert.ok(waited > 0, 'write asked the writer to wait at least once');
  assert.equal(statSync(path).size, 64 * chunk.length + 4);
  assert.ok(readFileSync(path, 'utf8').endsWith('yend\n'));
  assert.equal(log.write('after close\n'), true, 'a write after close is ignored');
  assert.equal(statSync(path).size, 64 * chunk.length + 4);
});

test('a log that cannot be written loses its lines but never throws or hangs', async () => {
  const dir = tempDir();
  mkdirSync(join(dir, 'a-directory.log'));
  const log = new TrialLogFile(join(dir, 'a-directory.log'));
  for (let i = 0; i < 100; i++) log.write(Buffer.alloc(64 * 1024));
  await log.drained();
  await log.close();
  assert.deepEqual(await tailLog(join(dir, 'missing.log'), 5), { lines: [], size: 0 });
});

test('a local trial printing more than the log limit: the server keeps the newest part, tails it, and its metrics all arrive', { timeout: 120_000 }, async () => {
  const s = await startTestServer({ runtime: 'local' });
  try {
    // 40 MiB of output in 64 KiB writes, then the metric; the limit is 32 MiB.
    const lines = Math.ceil((40 * 1024 * 1024) / 64);
    const program = `const pad='z'.repeat(48); let s=''; for (let i=0;i<${lines};i++){ s+='chatter '+String(i).padStart(7,'0')+pad+'\\n'; if (s.length>65536){ process.stdout.write(s); s=''; } } process.stdout.write(s+'loss=0.25\\n');`;
    const spec = {
      apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'chatty' },
      spec: {
        objective: { type: 'minimize', objectiveMetricName: 'loss' },
        algorithm: { algorithmName: 'random' },
        parallelTrialCount: 1, maxTrialCount: 1,
        parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: '2' } }],
        trialTemplate: { trialParameters: [{ name: 'x', reference: 'x' }], command: [process.execPath, '-e', program, '${trialParameters.x}'] },
      },
    };
    const created = await s.http('POST', '/api/v1/studies', { spec, runtime: 'local' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const deadline = Date.now() + 90_000;
    let study;
    do {
      await new Promise((r) => setTimeout(r, 200));
      study = (await s.http('GET', '/api/v1/studies/chatty')).body;
    } while (study.state !== 'SUCCEEDED' && Date.now() < deadline);
    assert.equal(study.state, 'SUCCEEDED');
    const trial = (await s.http('GET', '/api/v1/trials/chatty-0001')).body;
    assert.equal(trial.objectiveValue, 0.25);

    const path = trialLogPath(join(s.dataDir, 'logs'), 'chatty-0001');
    const [newest, older] = [statSync(path).size, statSync(rotatedLogPath(path)).size];
    assert.ok(newest <= LIMITS.maxTrialLogBytes && older <= LIMITS.maxTrialLogBytes, `each part within the limit (${older}, ${newest})`);
    const tail = (await s.http('GET', '/api/v1/trials/chatty-0001/log?tail=2')).body;
    assert.deepEqual(tail.lines.map((l: string) => l.slice(0, 15)), [`chatter ${String(lines - 1).padStart(7, '0')}`, 'loss=0.25']);
    assert.equal(tail.size, newest + older);
    assert.ok(tail.size > LIMITS.maxTrialLogBytes, 'more than one part is kept');
  } finally {
    await s.close();
  }
});
