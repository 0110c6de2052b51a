// The TensorFlowEvent collector's reader, on summary files written by an independent writer:
// test/support/tfevents_writer.py builds TFRecord framing and Event/Summary protobuf messages
// from the published formats with Python's standard library (TensorFlow cannot be had here).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32c, maskedCrc32c } from '../src/metrics/crc32c.js';
import { TfEventMetrics } from '../src/metrics/tfevent-metrics.js';
import type { ParsedObservation } from '../src/metrics/parse.js';
import { tempDir } from './support/study.js';
import { writeSummaryFile } from './support/tfevents.js';

/** Feeds the bytes in chunks of `chunk` bytes, as a growing file delivers them. */
function read(root: string, files: Record<string, Buffer>, metrics: string[], chunk = Infinity) {
  const problems: string[] = [];
  const reader = new TfEventMetrics(root, metrics, (p) => problems.push(p));
  const observations: ParsedObservation[] = [];
  for (const [name, bytes] of Object.entries(files)) {
    for (let at = 0; at < bytes.length; at += Math.min(chunk, bytes.length)) {
      observations.push(...reader.push(name, bytes.subarray(at, at + Math.min(chunk, bytes.length))));
    }
  }
  reader.end();
  return { observations, problems };
}

const pairs = (os: readonly ParsedObservation[]) => os.map((o) => [o.metric, o.step, Number(o.value.toFixed(6))]);

test('CRC-32C matches its published check value, and TensorFlow masks it', () => {
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  assert.equal(crc32c(Buffer.alloc(32)), 0x8a9136aa); // RFC 3720 B.4: 32 bytes of zeros
  const crc = crc32c(Buffer.from('a'));
  assert.equal(maskedCrc32c(Buffer.from('a')), ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0);
});

test('simple_value (TF1), float and double tensors (TF2), raw tensor_content: every scalar by tag, with its step and time', () => {
  const dir = tempDir();
  const bytes = writeSummaryFile(join(dir, 'events.out.tfevents.1'), {
    events: [
      { step: 1, wall_time: 1700000000.25, values: [{ tag: 'loss', kind: 'simple', value: 0.75 }, { tag: 'accuracy', kind: 'float_tensor', value: 0.5, metadata: true }] },
      { step: 2, wall_time: 1700000001, values: [{ tag: 'loss', kind: 'double_tensor', value: 0.123456789 }, { tag: 'accuracy', kind: 'float_tensor', value: 0.625 }] },
      { step: 30, values: [{ tag: 'accuracy', kind: 'float_content', value: 0.875 }, { tag: 'other', kind: 'simple', value: 9 }] },
    ],
  });
  for (const chunk of [Infinity, 1, 7]) {
    const { observations, problems } = read('/logs', { 'events.out.tfevents.1': bytes }, ['accuracy', 'loss'], chunk);
    assert.deepEqual(problems, []);
    assert.deepEqual(pairs(observations), [
      ['loss', 1, 0.75], ['accuracy', 1, 0.5],
      ['loss', 2, 0.123457], ['accuracy', 2, 0.625],
      ['accuracy', 30, 0.875],
    ], `chunks of ${chunk} bytes`);
    assert.equal(observations[0]!.time, new Date(1700000000250).toISOString());
    assert.equal(observations[4]!.time, undefined, 'no wall time: the collector stamps it');
  }
  // The double keeps its precision (a float32 would not).
  const { observations } = read('/logs', { 'events.out.tfevents.1': bytes }, ['loss']);
  assert.equal(observations[1]!.value, 0.123456789);
});

test('a metric "test/accuracy" is the accuracy tag of files under a test directory; TF1 suffixes (accuracy_1) match; image tensors do not', () => {
  const dir = tempDir();
  const file = (run: string, accuracy: number) => writeSummaryFile(join(dir, run, 'events.out.tfevents.1'), {
    events: [{ step: 1, values: [
      { tag: 'accuracy_1', kind: 'simple', value: accuracy },
      { tag: 'accuracy_images', kind: 'image', metadata: true },
      { tag: 'accuracy', kind: 'image', metadata: true },
    ] }],
  });
  const files = { 'train/events.out.tfevents.1': file('train', 0.9), 'test/events.out.tfevents.1': file('test', 0.8), 'latest/events.out.tfevents.1': file('latest', 0.1) };
  const split = read('/mnist-logs', files, ['test/accuracy', 'train/accuracy']);
  assert.deepEqual(split.problems, []);
  assert.deepEqual(pairs(split.observations), [['train/accuracy', 1, 0.9], ['test/accuracy', 1, 0.8]], '"latest" does not end with the segment "test"');
  // Without a directory, every file under the collector's path counts (Katib's TFJob example points the path at …/test).
  const plain = read('/mnist-logs/test', { 'events.out.tfevents.1': files['test/events.out.tfevents.1'] }, ['accuracy']);
  assert.deepEqual(pairs(plain.observations), [['accuracy', 1, 0.8]]);
});

test('a truncated last record is reported and everything before it kept', () => {
  const dir = tempDir();
  const events = [1, 2, 3].map((step) => ({ step, values: [{ tag: 'loss', kind: 'simple' as const, value: step / 10 }] }));
  for (const cut of [1, 5, 14]) {
    const bytes = writeSummaryFile(join(dir, `cut${cut}`), { events, corrupt: 'truncate', cut });
    const { observations, problems } = read('/logs', { 'events.out.tfevents.x': bytes }, ['loss'], 3);
    assert.deepEqual(pairs(observations), [['loss', 1, 0.1], ['loss', 2, 0.2]], `cut ${cut}`);
    assert.equal(problems.length, 1);
    assert.match(problems[0]!, /summary file \/logs\/events\.out\.tfevents\.x: the file ends inside a record \(\d+ of \d+ bytes\): the file is truncated/);
  }
});

test('a record with a bad data checksum is skipped and reported; a bad length checksum gives up the rest of the file', () => {
  const dir = tempDir();
  const events = [1, 2, 3].map((step) => ({ step, values: [{ tag: 'loss', kind: 'simple' as const, value: step }] }));
  const badData = writeSummaryFile(join(dir, 'a'), { events, corrupt: 'bad_data_crc', corrupt_record: 2 });
  const a = read('/logs', { 'a': badData }, ['loss']);
  assert.deepEqual(pairs(a.observations), [['loss', 1, 1], ['loss', 3, 3]]);
  assert.equal(a.problems.length, 1);
  assert.match(a.problems[0]!, /a: the data checksum of a \d+-byte record does not match: the record is skipped \(at byte \d+\)/);

  const badLength = writeSummaryFile(join(dir, 'b'), { events, corrupt: 'bad_length_crc', corrupt_record: 2 });
  const b = read('/logs', { 'b': badLength }, ['loss'], 2);
  assert.deepEqual(pairs(b.observations), [['loss', 1, 1]]);
  assert.equal(b.problems.length, 1);
  assert.match(b.problems[0]!, /the length checksum does not match \(the framing is lost: the rest of the file is not read\)/);

  // Garbage that is not TFRecord at all: one problem, no crash, no loop.
  const garbage = read('/logs', { 'c': Buffer.from('loss=0.5\n'.repeat(100)) }, ['loss']);
  assert.deepEqual(garbage.observations, []);
  assert.equal(garbage.problems.length, 1);
});

test('a wall time past any RFC 3339 date leaves the values undated (the collector stamps them) and is reported once per file', () => {
  const dir = tempDir();
  const bytes = writeSummaryFile(join(dir, 'w'), {
    events: [1e13, 1e300, 1700000000].map((wall_time, i) => ({ step: i + 1, wall_time, values: [{ tag: 'loss', kind: 'simple' as const, value: i + 1 }] })),
  });
  const { observations, problems } = read('/logs', { w: bytes }, ['loss'], 5);
  assert.deepEqual(pairs(observations), [['loss', 1, 1], ['loss', 2, 2], ['loss', 3, 3]]);
  assert.deepEqual(observations.map((o) => o.time), [undefined, undefined, new Date(1700000000000).toISOString()]);
  assert.deepEqual(problems, ["summary file /logs/w: record 2 has a wall time of 10000000000000 s, past any date; such records' values are stamped when they arrive"]);
});

test('a well-framed record that is not an Event is reported once and skipped', () => {
  const dir = tempDir();
  const good = writeSummaryFile(join(dir, 'g'), { events: [{ step: 4, values: [{ tag: 'loss', kind: 'simple', value: 2 }] }] });
  // A record whose data is an invalid protobuf (a field with wire type 7), framed correctly.
  const data = Buffer.from([0x0f, 0x01]);
  const header = Buffer.alloc(8);
  header.writeBigUInt64LE(BigInt(data.length));
  const crc = (b: Buffer) => { const out = Buffer.alloc(4); out.writeUInt32LE(maskedCrc32c(b)); return out; };
  const bad = Buffer.concat([header, crc(header), data, crc(data)]);
  const { observations, problems } = read('/logs', { 'g': Buffer.concat([bad, good, bad]) }, ['loss']);
  assert.deepEqual(pairs(observations), [['loss', 4, 2]]);
  assert.equal(problems.length, 1);
  assert.match(problems[0]!, /record 1 is not a TensorFlow Event \(unsupported wire type 7\)/);
});
