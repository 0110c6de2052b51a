import { test } from 'node:test';
import assert from 'node:assert/strict';

import { LineSplitter } from '../src/metrics/lines.js';
import { createLineParser, validateMetricsFormat, type ParsedObservation } from '../src/metrics/parse.js';
import { summarize } from '../src/metrics/strategy.js';
import { DEFAULT_METRICS_FORMAT } from '../src/spec/types.js';

const text = (names: string[], formats: string[] = [DEFAULT_METRICS_FORMAT]) => createLineParser('TEXT', names, formats);
const json = (names: string[]) => createLineParser('JSON', names, []);
const pairs = (obs: ParsedObservation[]) => obs.map((o) => [o.metric, o.value] as const);

// ---- TEXT ----

test('TEXT: Katib default-regex examples', () => {
  const p = text(['loss', 'accuracy', 'Score']);
  assert.deepEqual(p.parseLine('loss=0.3'), [{ metric: 'loss', value: 0.3 }]);
  assert.deepEqual(p.parseLine('accuracy=.98'), [{ metric: 'accuracy', value: 0.98 }]);
  assert.deepEqual(p.parseLine('Score=-7.53e-05'), [{ metric: 'Score', value: -7.53e-5 }]);
  assert.deepEqual(p.parseLine('Score=1E0'), [{ metric: 'Score', value: 1 }]);
  assert.deepEqual(pairs(p.parseLine('INFO loss = 0.25, accuracy= +0.5')), [
    ['loss', 0.25],
    ['accuracy', 0.5],
  ]);
});

test('TEXT: lines without a requested metric name are skipped', () => {
  const p = text(['loss']);
  assert.deepEqual(p.parseLine('lr=0.1 momentum=0.9'), []);
  assert.deepEqual(p.parseLine(''), []);
});

test('TEXT: only requested metric names are stored', () => {
  const p = text(['accuracy']);
  assert.deepEqual(pairs(p.parseLine('loss=0.3 accuracy=0.9 val_accuracy=0.8')), [['accuracy', 0.9]]);
});

test('TEXT: leading RFC 3339 timestamp becomes the time', () => {
  const p = text(['loss']);
  assert.deepEqual(p.parseLine('2024-05-01T12:00:00Z loss=0.5'), [
    { metric: 'loss', value: 0.5, time: '2024-05-01T12:00:00Z' },
  ]);
  assert.deepEqual(p.parseLine('2024-05-01T12:00:00.123456789+02:00 loss=0.5'), [
    { metric: 'loss', value: 0.5, time: '2024-05-01T12:00:00.123456789+02:00' },
  ]);
  // Not a timestamp: no time.
  assert.deepEqual(p.parseLine('2024-05-01 loss=0.5'), [{ metric: 'loss', value: 0.5 }]);
  assert.deepEqual(p.parseLine('2024-13-45T99:00:00Z loss=0.5'), [{ metric: 'loss', value: 0.5 }]);
});

test('TEXT: epoch/step on the same line is the step of every observation', () => {
  const p = text(['loss', 'accuracy']);
  assert.deepEqual(p.parseLine('epoch=3 loss=0.2 accuracy=0.9'), [
    { metric: 'loss', value: 0.2, step: 3 },
    { metric: 'accuracy', value: 0.9, step: 3 },
  ]);
  assert.deepEqual(p.parseLine('epoch=3 step=120 loss=0.2'), [{ metric: 'loss', value: 0.2, step: 120 }]);
  // Non-integer epoch is not a step.
  assert.deepEqual(p.parseLine('epoch=1.5 loss=0.2'), [{ metric: 'loss', value: 0.2 }]);
});

test('TEXT: non-finite or non-numeric values are dropped', () => {
  const p = text(['accuracy']);
  for (const line of ['accuracy=abc', 'accuracy=', 'accuracy=NaN', 'accuracy=1e999', 'accuracy=inf', 'accuracy=-Infinity']) {
    assert.deepEqual(p.parseLine(line), [], line);
  }
  assert.deepEqual(pairs(p.parseLine('accuracy=NaN accuracy=0.7')), [['accuracy', 0.7]]);
});

test('TEXT: default regex keeps Katib matches next to word characters', () => {
  const p = text(['a', 'b', 'loss']);
  // The default regex resumes right after `a=1`, so `b=2` matches although `1b` is one word run.
  assert.deepEqual(pairs(p.parseLine('a=1b=2')), [
    ['a', 1],
    ['b', 2],
  ]);
  // Names are whole word runs: `xloss=1` is metric `xloss`, not `loss`.
  assert.deepEqual(p.parseLine('xloss=1'), []);
  assert.deepEqual(pairs(p.parseLine('train|loss=1 loss=2')), [['loss', 2]]);
});

test('TEXT: linear default matcher gives exactly the plain default regex matches', () => {
  const names = ['a', 'b', 'ab', 'x', 'a1', 'x-a', 'a|b', 'e', '1'];
  const p = text(names);
  const plain = new RegExp(DEFAULT_METRICS_FORMAT, 'g');
  const alphabet = 'ab1.= -|e+\tx2';
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
  for (let i = 0; i < 5000; i++) {
    let line = '';
    for (let n = Math.floor(random() * 16); n > 0; n--) line += alphabet[Math.floor(random() * alphabet.length)];
    const expected = [...line.matchAll(plain)]
      .filter((m) => names.includes(m[1]!) && m[2]!.trim() !== '' && Number.isFinite(Number(m[2])))
      .map((m) => [m[1]!, Number(m[2])] as const);
    const mentioned = names.some((n) => line.includes(n));
    assert.deepEqual(pairs(p.parseLine(line)), mentioned ? expected : [], JSON.stringify(line));
  }
});

test('TEXT: a 1 MB word-character line parses correctly (linear-time regex)', () => {
  const p = text(['loss']);
  const run = 'x'.repeat(1024 * 1024);
  assert.deepEqual(p.parseLine(`${run}loss ${run}`), []);
  assert.deepEqual(pairs(p.parseLine(`${run} loss=0.4 ${run}`)), [['loss', 0.4]]);
  assert.deepEqual(p.parseLine(`${run}loss=0.4`), []); // name is the whole run
});

test('TEXT: custom regex (Katib file-collector example)', () => {
  const p = text(['accuracy', 'loss'], [String.raw`{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}`]);
  assert.deepEqual(pairs(p.parseLine('{metricName: accuracy, metricValue: 0.8312}{metricName: loss, metricValue: -2}')), [
    ['accuracy', 0.8312],
    ['loss', -2],
  ]);
  assert.deepEqual(p.parseLine('accuracy=0.9'), []);
});

test('TEXT: several regexes, Go named groups, empty-match regex, 4 KiB window', () => {
  const p = text(['acc'], [String.raw`'(?P<name>\w+)'\s*:\s*([\d.]+)`, String.raw`(\w*)=?(\d*)`]);
  assert.deepEqual(pairs(p.parseLine("'acc': 0.5")), [['acc', 0.5]]);
  const far = `${' '.repeat(5000)}'acc': 0.5`;
  assert.deepEqual(p.parseLine(far), []); // beyond the user-regex window
  const q = text(['loss'], ['(loss)=(\\S+)']);
  assert.deepEqual(pairs(q.parseLine(`${'z'.repeat(4080)} loss=1`)), [['loss', 1]]);
});

test('validateMetricsFormat', () => {
  assert.equal(validateMetricsFormat(DEFAULT_METRICS_FORMAT), undefined);
  assert.equal(validateMetricsFormat(String.raw`{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}`), undefined);
  assert.equal(validateMetricsFormat('(?P<n>\\w+)=(\\d+)'), undefined);
  assert.match(validateMetricsFormat('([a-z]+=(\\d+)') ?? '', /is not an RE2 regular expression \(the dialect of Katib's Go collector\): missing \)/);
  // JavaScript-only syntax is refused, as Katib's Go collector refuses it.
  assert.match(validateMetricsFormat('(\\w+)=(\\d+)\\1') ?? '', /is not Go regular-expression syntax.*\\1 is a backreference/);
  assert.match(validateMetricsFormat('(\\w+)(?==)=(\\d+)') ?? '', /is not Go regular-expression syntax.*\(\?= is a lookahead/);
  assert.match(validateMetricsFormat(`(a)(b)${'x'.repeat(5000)}`) ?? '', /at most 4096 characters/);
  assert.match(validateMetricsFormat('(\\w+)=\\d+') ?? '', /1 capture group/);
  assert.match(validateMetricsFormat('\\w+=\\d+') ?? '', /0 capture group/);
  assert.match(validateMetricsFormat('(?:\\w+)=(\\d+)') ?? '', /1 capture group/);
});

test('#5 (hardening) TEXT: a user regex that backtracks exponentially elsewhere runs in linear time (RE2)', () => {
  // On a backtracking engine, (a+)+= against a long run of a's without '=' takes minutes.
  const p = text(['loss'], ['(loss)((a+)+)=']);
  const line = `loss ${'a'.repeat(30_000)}!`;
  const started = performance.now();
  assert.deepEqual(p.parseLine(line), []);
  const ms = performance.now() - started;
  assert.ok(ms < 500, `parsing took ${ms.toFixed(0)} ms`);
  // And it still finds what it should.
  assert.deepEqual(pairs(text(['loss'], ['(loss)=(\\d+)']).parseLine('epoch=1 loss=3')), [['loss', 3]]);
});

// ---- JSON ----

test('JSON: string and number values, only requested names', () => {
  const p = json(['loss', 'accuracy']);
  assert.deepEqual(pairs(p.parseLine('{"loss": "0.25", "accuracy": 0.75, "lr": "0.1"}')), [
    ['loss', 0.25],
    ['accuracy', 0.75],
  ]);
  assert.deepEqual(p.parseLine('{"loss": "abc", "accuracy": "", "x": 1}'), []);
  assert.deepEqual(p.parseLine('{"loss": null, "accuracy": true}'), []);
  assert.deepEqual(p.parseLine('{"loss": "Infinity", "accuracy": "NaN"}'), []);
});

test('JSON: timestamps and steps', () => {
  const p = json(['loss']);
  assert.deepEqual(p.parseLine('{"loss": "1", "timestamp": "2024-05-01T12:00:00.5Z", "epoch": 2}'), [
    { metric: 'loss', value: 1, step: 2, time: '2024-05-01T12:00:00.5Z' },
  ]);
  assert.deepEqual(p.parseLine('{"loss": "1", "timestamp": 1714564800.25, "step": "7", "epoch": 2}'), [
    { metric: 'loss', value: 1, step: 7, time: '2024-05-01T12:00:00.250Z' },
  ]);
  assert.deepEqual(p.parseLine('{"loss": "1", "timestamp": "yesterday", "step": 1.5}'), [{ metric: 'loss', value: 1 }]);
  // Epoch seconds past what RFC 3339 can write (years 0000 to 9999) give no time: the collector stamps it.
  assert.deepEqual(p.parseLine('{"loss": 1, "timestamp": 1e12}'), [{ metric: 'loss', value: 1 }]);
  assert.deepEqual(p.parseLine('{"loss": 1, "timestamp": -62167219201}'), [{ metric: 'loss', value: 1 }]);
  assert.deepEqual(p.parseLine('{"loss": 1, "timestamp": -62167219200}'), [{ metric: 'loss', value: 1, time: '0000-01-01T00:00:00.000Z' }]);
  assert.deepEqual(p.parseLine('{"loss": 1, "timestamp": 253402300799.999}'), [{ metric: 'loss', value: 1, time: '9999-12-31T23:59:59.999Z' }]);
});

test('JSON: invalid JSON and non-objects are ignored', () => {
  const p = json(['loss']);
  for (const line of ['{"loss": "1"', 'loss=1', '[{"loss": "1"}]', '"loss"', 'null', '1', '']) {
    assert.deepEqual(p.parseLine(line), [], line);
  }
});

// ---- LineSplitter ----

function splitAll(chunks: Buffer[], maxLineBytes?: number): string[] {
  const s = new LineSplitter(maxLineBytes);
  return [...chunks.flatMap((c) => s.push(c)), ...s.end()];
}

test('LineSplitter: chunk boundaries inside a line and inside a UTF-8 char', () => {
  const bytes = Buffer.from('loss=0.1 café\naccuracy=0.9 ✓\n', 'utf8');
  for (let cut = 0; cut <= bytes.length; cut++) {
    assert.deepEqual(splitAll([bytes.subarray(0, cut), bytes.subarray(cut)]), ['loss=0.1 café', 'accuracy=0.9 ✓']);
  }
  const oneByteChunks = [...bytes].map((b) => Buffer.from([b]));
  assert.deepEqual(splitAll(oneByteChunks), ['loss=0.1 café', 'accuracy=0.9 ✓']);
});

test('LineSplitter: CRLF, empty lines, final partial line', () => {
  assert.deepEqual(splitAll([Buffer.from('a\r\n\r\nb\nc\r')]), ['a', '', 'b', 'c']);
  assert.deepEqual(splitAll([Buffer.from('a\r'), Buffer.from('\nb')]), ['a', 'b']);
  assert.deepEqual(splitAll([Buffer.from('a\rb\n')]), ['a\rb']);
  assert.deepEqual(splitAll([]), []);
  assert.deepEqual(splitAll([Buffer.from('x\n')]), ['x']);
});

test('LineSplitter: long lines are truncated, memory bounded', () => {
  assert.deepEqual(splitAll([Buffer.from('abcdefgh\nxy\r\nabcd\r\n')], 4), ['abcd', 'xy', 'abcd']);
  assert.deepEqual(splitAll([Buffer.from('abc'), Buffer.from('def'), Buffer.from('gh\nz')], 4), ['abcd', 'z']);

  const s = new LineSplitter();
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  for (let i = 0; i < 160; i++) assert.deepEqual(s.push(chunk), []); // 10 MB without newline
  const [line, next] = s.push(Buffer.from('tail\nloss=1\n'));
  assert.equal(line?.length, 64 * 1024);
  assert.equal(next, 'loss=1');
});

test('LineSplitter + parser: binary noise yields nothing and does not throw', () => {
  const noise = Buffer.from([0xff, 0xfe, 0x00, 0x80, 0xc3, 0x0a, 0x1b, 0x5b, 0x33, 0x31, 0x6d, 0xe2, 0x82, 0x0d, 0x0a]);
  const lines = splitAll([noise, Buffer.from('\xffloss=0.5\n', 'latin1')]);
  const p = text(['loss']);
  assert.deepEqual(lines.flatMap((l) => pairs(p.parseLine(l))), [['loss', 0.5]]);
  assert.deepEqual(lines.flatMap((l) => json(['loss']).parseLine(l)), []);
});

// ---- strategies ----

test('summarize: min, max, latest in arrival order', () => {
  const values = [0.5, 0.1, 0.9, 0.3];
  assert.equal(summarize(values, 'min'), 0.1);
  assert.equal(summarize(values, 'max'), 0.9);
  assert.equal(summarize(values, 'latest'), 0.3);
  assert.equal(summarize([-2], 'min'), -2);
  for (const s of ['min', 'max', 'latest'] as const) assert.equal(summarize([], s), undefined);
});
