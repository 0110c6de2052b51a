// The Kubernetes side of the File and TensorFlowEvent collectors, short of a cluster: the
// wrapper script runs in a real POSIX sh here, its stdout is read as the pod log would be, and
// the decoded bytes must equal the files the trial wrote (base64, and od where there is none).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { LineSplitter } from '../src/metrics/lines.js';
import { dumpScript, MetricsDumpReader, wrapPrimaryContainer } from '../src/runtimes/kubernetes/metrics-dump.js';
import type { MetricsCollectorSpec } from '../src/spec/types.js';
import { tempDir } from './support/study.js';
import { writeSummaryFile } from './support/tfevents.js';

type Collector = MetricsCollectorSpec & { path: string };

/** Runs the wrapped argv with sh; returns its exit code, the trial's own lines and the files read from the dump. */
async function runWrapped(c: Collector, argv: string[], env: NodeJS.ProcessEnv = process.env, signalAfterMs?: number) {
  const child = spawn('/bin/sh', ['-c', dumpScript(c), 'sibyl-trial', ...argv], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const files = new Map<string, Buffer>();
  const problems: string[] = [];
  const output: string[] = [];
  const reader = new MetricsDumpReader(c, (f, chunk) => files.set(f, Buffer.concat([files.get(f) ?? Buffer.alloc(0), chunk])), (p) => problems.push(p));
  const splitter = new LineSplitter();
  child.stdout.on('data', (chunk: Buffer) => splitter.push(chunk).forEach((l) => reader.consume(l) || output.push(l)));
  if (signalAfterMs !== undefined) setTimeout(() => child.kill('SIGTERM'), signalAfterMs);
  const code = await new Promise<number | null>((done) => child.on('close', (c) => done(c)));
  splitter.end().forEach((l) => reader.consume(l) || output.push(l));
  reader.end();
  return { code, files, problems, output };
}

const fileCollector = (path: string): Collector => ({ kind: 'File', path, format: 'TEXT', metricsFormat: [] });
const tfCollector = (path: string): Collector => ({ kind: 'TensorFlowEvent', path, format: 'TEXT', metricsFormat: [] });

test('File: the trial writes, the dump carries the file byte for byte (no final newline, quotes in the path); the exit status is kept', async () => {
  const dir = join(tempDir(), "it's here");
  mkdirSync(dir);
  const path = join(dir, 'metrics.log');
  const r = await runWrapped(fileCollector(path), ['sh', '-c', `echo hello; printf 'loss=0.5\\nloss=0.25' > "$1"; exit 3`, 'x', path]);
  assert.equal(r.code, 3);
  assert.deepEqual(r.output, ['hello']);
  assert.deepEqual([...r.files.keys()], ['']);
  assert.equal(r.files.get('')!.toString(), 'loss=0.5\nloss=0.25');
  assert.deepEqual(r.problems, []);
});

test('TensorFlowEvent: every file under the directory, relative to it, binary intact; with od when the image has no base64', async () => {
  const root = tempDir();
  const a = writeSummaryFile(join(root, 'seed', 'a'), { events: [{ step: 1, values: [{ tag: 'accuracy', kind: 'float_tensor', value: 0.5 }] }] });
  const b = writeSummaryFile(join(root, 'seed', 'b'), { events: [{ step: 2, values: [{ tag: 'loss', kind: 'simple', value: 1 }] }], corrupt: 'truncate' });
  const logs = join(root, 'logs');
  const trial = ['sh', '-c', `mkdir -p "$1/test" "$1/train" && cp "$2" "$1/test/events.out.tfevents.1" && cp "$3" "$1/train/events.out.tfevents.2"`, 'x', logs, join(root, 'seed', 'a'), join(root, 'seed', 'b')];
  const withBase64 = await runWrapped(tfCollector(`${logs}/`), trial);
  assert.equal(withBase64.code, 0);
  assert.deepEqual([...withBase64.files.keys()], ['test/events.out.tfevents.1', 'train/events.out.tfevents.2']);
  assert.deepEqual(withBase64.files.get('test/events.out.tfevents.1'), a);
  assert.deepEqual(withBase64.files.get('train/events.out.tfevents.2'), b);

  // An image with a POSIX shell and od but no base64.
  const bin = join(root, 'bin');
  mkdirSync(bin);
  for (const tool of ['od', 'find', 'sort', 'mkdir', 'cp', 'sh']) symlinkSync(tool === 'sh' ? '/bin/sh' : `/usr/bin/${tool}`, join(bin, tool));
  const withOd = await runWrapped(tfCollector(logs), trial, { PATH: bin });
  assert.equal(withOd.code, 0);
  assert.deepEqual(withOd.files.get('test/events.out.tfevents.1'), a);
  assert.deepEqual(withOd.files.get('train/events.out.tfevents.2'), b);
});

test('no file at the path is reported; a SIGTERM reaches the trial and the files are still dumped', async () => {
  const root = tempDir();
  const none = await runWrapped(fileCollector(join(root, 'nothing.log')), ['true']);
  assert.equal(none.code, 0);
  assert.deepEqual(none.problems, [`the trial's container had no metrics file ${join(root, 'nothing.log')} when it exited`]);

  const path = join(root, 'm.log');
  writeFileSync(path, 'loss=1\n');
  // The trial traps TERM, appends a line and exits 7: the wrapper forwarded the signal and waited.
  const stopped = await runWrapped(fileCollector(path), ['sh', '-c', `trap 'echo loss=2 >> "$1"; exit 7' TERM; while :; do sleep 0.05; done`, 'x', path], process.env, 500);
  assert.equal(stopped.code, 7);
  assert.equal(stopped.files.get('')!.toString(), 'loss=1\nloss=2\n');
});

test('a dump cut short is reported with what came; the container is wrapped with its command and args', () => {
  const problems: string[] = [];
  const got: Buffer[] = [];
  const reader = new MetricsDumpReader(fileCollector('/var/log/katib/metrics.log'), (_f, c) => got.push(c), (p) => problems.push(p));
  assert.equal(reader.consume('<<<sibyl-metrics-file begin base64 /var/log/katib/metrics.log'), true);
  assert.equal(reader.consume(Buffer.from('loss=0.1\n').toString('base64')), true);
  reader.end();
  assert.equal(Buffer.concat(got).toString(), 'loss=0.1\n');
  assert.match(problems[0]!, /the pod log ends inside the dump of \/var\/log\/katib\/metrics\.log \(9 bytes came\)/);
  assert.equal(reader.consume('an ordinary line'), false);

  const job = { spec: { template: { spec: { containers: [{ name: 'side', command: ['x'] }, { name: 'main', command: ['python3', 'train.py'], args: ['--lr=0.1'] }] } } } };
  wrapPrimaryContainer(job, 'main', fileCollector('/var/log/katib/metrics.log'));
  const main = job.spec.template.spec.containers[1]! as { command: string[]; args?: string[] };
  assert.deepEqual([main.command[0], main.command[1], ...main.command.slice(3)], ['sh', '-c', 'sibyl-trial', 'python3', 'train.py', '--lr=0.1']);
  assert.equal(main.args, undefined);
  assert.deepEqual(job.spec.template.spec.containers[0]!.command, ['x']);
  // Katib's emptyDir at the collector's folder, so a non-root image can write it.
  assert.deepEqual((main as any).volumeMounts, [{ name: 'sibyl-metrics', mountPath: '/var/log/katib' }]);
  assert.deepEqual((job.spec.template.spec as any).volumes, [{ name: 'sibyl-metrics', emptyDir: {} }]);
  // A TensorFlowEvent directory the container mounts itself is left to it.
  const own = { spec: { template: { spec: { volumes: [{ name: 'logs', persistentVolumeClaim: { claimName: 'l' } }], containers: [{ name: 'main', command: ['t'], volumeMounts: [{ name: 'logs', mountPath: '/logs/' }] }] } } } };
  wrapPrimaryContainer(own, 'main', tfCollector('/logs'));
  assert.deepEqual(own.spec.template.spec.volumes.map((v) => v.name), ['logs']);
  assert.deepEqual(own.spec.template.spec.containers[0]!.volumeMounts.map((m) => m.mountPath), ['/logs/']);
});
