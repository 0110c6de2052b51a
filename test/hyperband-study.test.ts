// examples/mlp/hyperband.yaml end to end with `sibyl run` and the real trainer: every bracket
// and rung in Katib's order, promotion of the best, and a study whose trials fail in two rungs.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { hyperbandSchedule, hyperbandTrialCount } from '../suggestion-algorithms/hyperband/index.js';
import { runCli } from './support/cli.js';
import { tempDir } from './support/study.js';

const EXAMPLE = fileURLToPath(new URL('../../examples/mlp/hyperband.yaml', import.meta.url));
const TRAINER = fileURLToPath(new URL('../../examples/mlp/train.mjs', import.meta.url));
const FAILING = fileURLToPath(new URL('./support/failing-trainer.js', import.meta.url));

interface Trial {
  name: string;
  seq: number;
  state: string;
  assignment: { learning_rate: number; hidden_layers: number; epochs: number };
  objectiveValue?: number;
}

// r_l 8, eta 2, by hand: (bracket s, configs, epochs) per rung, in Katib's order.
const RUNGS: [number, number, number][] = [
  [3, 8, 1], [3, 4, 2], [3, 2, 4], [3, 1, 8],
  [2, 6, 2], [2, 3, 4], [2, 2, 8],
  [1, 4, 4], [1, 2, 8],
  [0, 4, 8],
];
const EPOCHS = RUNGS.flatMap(([, n, epochs]) => Array.from({ length: n }, () => epochs));

async function runStudy(file: string, name: string): Promise<{ stdout: string; trials: Trial[] }> {
  const dataDir = join(tempDir(), 'data');
  const run = await runCli(['run', file, '--data-dir', dataDir]);
  assert.equal(run.code, 0, run.stderr);
  const trials = JSON.parse((await runCli(['trials', name, '--json', '--data-dir', dataDir])).stdout) as Trial[];
  return { stdout: run.stdout, trials: trials.sort((a, b) => a.seq - b.seq) };
}

const config = (t: Trial) => JSON.stringify([t.assignment.learning_rate, t.assignment.hidden_layers]);

/** Each promoted rung holds the best configs of the rung before it (failed ones never), best first. */
function checkPromotions(trials: readonly Trial[]): void {
  let start = 0;
  RUNGS.forEach(([bracket, n], k) => {
    const rung = trials.slice(start, start + n);
    if (k > 0 && RUNGS[k - 1]![0] === bracket) {
      const before = trials.slice(start - RUNGS[k - 1]![1], start);
      const best = before
        .filter((t) => t.state === 'SUCCEEDED' && t.objectiveValue !== undefined)
        .sort((a, b) => b.objectiveValue! - a.objectiveValue! || a.seq - b.seq)
        .slice(0, n);
      assert.deepEqual(rung.map(config), best.map(config), `rung ${k} (bracket ${bracket})`);
    }
    start += n;
  });
}

test('examples/mlp/hyperband.yaml: all 36 trials, every bracket and rung in Katib\'s order', { timeout: 120_000 }, async () => {
  assert.equal(hyperbandTrialCount(8, 2), EPOCHS.length);
  assert.deepEqual(hyperbandSchedule(8, 2).map((r) => [r.bracket, r.size, r.resource]), RUNGS);
  const spec = parse(readFileSync(EXAMPLE, 'utf8'));
  assert.equal(spec.spec.maxTrialCount, EPOCHS.length, 'the example\'s budget is the whole run');
  assert.equal(spec.spec.parallelTrialCount, 8, 'the largest rung');

  const { stdout, trials } = await runStudy(EXAMPLE, 'mlp-hyperband');
  assert.match(stdout, /Study mlp-hyperband SUCCEEDED/);
  assert.equal(trials.length, 36);
  assert.ok(trials.every((t) => t.state === 'SUCCEEDED'));
  assert.deepEqual(trials.map((t) => t.assignment.epochs), EPOCHS);
  checkPromotions(trials);
  // Each bracket starts from configs of its own.
  const firsts = [0, 15, 26, 32].map((i) => config(trials[i]!));
  assert.equal(new Set(firsts).size, 4);
});

test('hyperband study with failing trials in two rungs still runs every rung and ends SUCCEEDED', { timeout: 120_000 }, async () => {
  // Trial 3 fails in bracket 3's first rung, trial 10 in its second (of the 4 promoted ones).
  const failing = ['mlp-hyperband-0003', 'mlp-hyperband-0010'];
  const doc = parse(readFileSync(EXAMPLE, 'utf8'));
  const argv = doc.spec.trialTemplate.command as string[];
  doc.spec.trialTemplate.command = ['node', FAILING, '--fail', failing.join(','), TRAINER, ...argv.slice(2)];
  // No trial budget: the study ends when hyperband has nothing left.
  delete doc.spec.maxTrialCount;
  const file = join(tempDir(), 'hyperband-failing.yaml');
  writeFileSync(file, stringify(doc));

  const { stdout, trials } = await runStudy(file, 'mlp-hyperband');
  assert.match(stdout, /Study mlp-hyperband SUCCEEDED \(SearchSpaceExhausted\)/);
  assert.deepEqual(trials.filter((t) => t.state === 'FAILED').map((t) => t.name), failing);
  assert.ok(trials.every((t) => t.state === 'SUCCEEDED' || failing.includes(t.name)));
  // Every rung still has enough configs that succeeded, so the schedule is the same.
  assert.deepEqual(trials.map((t) => t.assignment.epochs), EPOCHS);
  checkPromotions(trials);
  const configsOf = (from: number, to: number) => trials.slice(from, to).map(config);
  assert.ok(!configsOf(8, 15).includes(config(trials[2]!)), 'trial 3 is not promoted');
  assert.ok(!configsOf(12, 15).includes(config(trials[9]!)), 'trial 10 is not promoted');
});
