// `sibyl serve` as a process: startup, the CLI against it, SIGTERM, and recovery on restart.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { processesOwnedBy } from '../src/runtimes/local/orphans.js';
import { runCli, startCli } from './support/cli.js';
import { braninStudy } from './support/branin.js';
import { tempDir } from './support/study.js';

async function serve(dataDir: string, extra: string[] = [], env: Record<string, string> = {}) {
  const proc = startCli(['serve', '--data-dir', dataDir, '--grpc-port', '0', '--http-port', '0', ...extra], env);
  let out = '';
  const ports = await new Promise<{ http: number; grpc: number }>((resolve, reject) => {
    proc.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /gRPC on 127\.0\.0\.1:(\d+) and HTTP on http:\/\/127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve({ grpc: Number(m[1]), http: Number(m[2]) });
    });
    void proc.done.then((r) => reject(new Error(`serve exited: ${r.code} ${r.stderr}`)));
  });
  return { ...proc, ...ports, url: `http://127.0.0.1:${ports.http}` };
}

const SLOW_STUDY = `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: slow}
spec:
  objective: {type: maximize, objectiveMetricName: score}
  algorithm: {algorithmName: grid}
  parallelTrialCount: 2
  parameters: [{name: x, parameterType: int, feasibleSpace: {min: "1", max: "4"}}]
  trialTemplate:
    trialParameters: [{name: x, reference: x}]
    command: [sh, -c, 'sleep 1.5; echo score=\${trialParameters.x}']
`;

test('serve: the CLI submits and queries over REST; SIGTERM exits cleanly; a restart finishes the interrupted trials', { timeout: 180_000 }, async () => {
  const dir = tempDir();
  const dataDir = join(dir, 'data');
  const file = join(dir, 'slow.yaml');
  writeFileSync(file, SLOW_STUDY);
  const first = await serve(dataDir);
  assert.equal((await fetch(`${first.url}/readyz`)).status, 200);
  const submitted = await runCli(['submit', file, '--server', first.url, '--json']);
  assert.equal(submitted.code, 0, submitted.stderr);
  assert.equal(JSON.parse(submitted.stdout).name, 'slow');
  const again = await runCli(['submit', join(dir, 'slow.yaml'), '--server', first.url]);
  assert.equal(again.code, 0, 'submitting the same spec again is idempotent');

  // Wait until the first two trials run, then stop the server in their middle.
  // Polled over HTTP: a CLI process per poll costs most of a trial's 1.5 s on a loaded machine.
  const studyAt = async (url: string) => ((await (await fetch(`${url}/api/v1/studies/slow`)).json()) as { state: string; reason: string; trials: { RUNNING: number } });
  for (let i = 0; i < 300; i += 1) {
    if ((await studyAt(first.url)).trials.RUNNING === 2) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  first.child.kill('SIGTERM');
  const ended = await first.done;
  assert.equal(ended.code, 0, ended.stderr);
  assert.match(ended.stderr, /SIGTERM: shutting down/);
  assert.deepEqual(processesOwnedBy(dataDir), [], 'no trial process outlives the server');

  const second = await serve(dataDir);
  const deadline = Date.now() + 60_000;
  let study;
  do {
    await new Promise((r) => setTimeout(r, 200));
    study = await studyAt(second.url);
  } while (study.state !== 'SUCCEEDED' && Date.now() < deadline);
  assert.equal(JSON.parse((await runCli(['studies', '--json', '--server', second.url])).stdout)[0].state, 'SUCCEEDED', 'the CLI sees it too');
  assert.equal(study.state, 'SUCCEEDED');
  assert.equal(study.reason, 'SearchSpaceExhausted');
  const trials = JSON.parse((await runCli(['trials', 'slow', '--json', '--server', second.url])).stdout);
  assert.deepEqual(trials.map((t: { assignment: { x: number }; state: string }) => [t.assignment.x, t.state]),
    [[1, 'SUCCEEDED'], [2, 'SUCCEEDED'], [3, 'SUCCEEDED'], [4, 'SUCCEEDED']]);
  assert.ok(trials[0].metrics.length === 1 && trials[0].metrics[0].count === 1, 'the interrupted attempt left no partial metrics');
  const table = await runCli(['trials', 'slow', '--server', second.url]);
  assert.match(table.stdout, /slow-0004 \*\s+SUCCEEDED\s+4\s+4/);
  const best = await runCli(['best', 'slow', '--server', second.url]);
  assert.match(best.stdout, /Best trial slow-0004: score=4 with x=4/);
  const missing = await runCli(['trials', 'nope', '--server', second.url]);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /name: study "nope" not found/);
  second.child.kill('SIGTERM');
  assert.equal((await second.done).code, 0);
});

test('serve refuses a non-loopback host without a token, and a busy data directory', { timeout: 120_000 }, async () => {
  const dataDir = join(tempDir(), 'data');
  const open = await runCli(['serve', '--data-dir', dataDir, '--host', '0.0.0.0', '--grpc-port', '0', '--http-port', '0'], { SIBYL_TOKEN: '' });
  assert.equal(open.code, 2);
  assert.match(open.stderr, /refusing to listen on 0\.0\.0\.0 without a token/);
  const running = await serve(dataDir);
  const twice = await runCli(['serve', '--data-dir', dataDir, '--grpc-port', '0', '--http-port', '0']);
  assert.equal(twice.code, 2);
  assert.match(twice.stderr, /is in use by process/);
  const bad = await runCli(['submit', '/nonexistent.yaml', '--server', running.url]);
  assert.equal(bad.code, 2);
  const invalid = join(tempDir(), 'bad.yaml');
  writeFileSync(invalid, braninStudy('bad').replace('type: minimize', 'type: lowest'));
  const rejected = await runCli(['submit', invalid, '--server', running.url]);
  assert.equal(rejected.code, 2);
  assert.match(rejected.stderr, /specText\.spec\.objective\.type: must be one of minimize, maximize/);
  running.child.kill('SIGTERM');
  assert.equal((await running.done).code, 0);
});
