// The shipped example studies run end to end on the local runtime with the real trainer.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runCli } from './support/cli.js';
import { tempDir } from './support/study.js';

const EXAMPLES = fileURLToPath(new URL('../../examples/mlp/', import.meta.url));

test('examples/mlp/tfjob.yaml runs locally through the primary container command; depth and learning rate matter', { timeout: 120_000 }, async () => {
  const dataDir = join(tempDir(), 'data');
  const run = await runCli(['run', join(EXAMPLES, 'tfjob.yaml'), '--data-dir', dataDir]);
  assert.equal(run.code, 0, run.stderr);
  const trials = JSON.parse((await runCli(['trials', 'mlp-tfjob', '--json', '--data-dir', dataDir])).stdout) as {
    state: string; assignment: { learning_rate: number; hidden_layers: number }; objectiveValue: number;
    metrics: { name: string; latest: number }[];
  }[];
  assert.equal(trials.length, 9);
  assert.ok(trials.every((t) => t.state === 'SUCCEEDED'));
  const acc = (lr: number, layers: number) => trials.find((t) => t.assignment.learning_rate === lr && t.assignment.hidden_layers === layers)!.objectiveValue;
  assert.ok(acc(0.3, 3) > acc(0.003, 3) + 0.3, 'a too-small learning rate underfits');
  assert.ok(acc(0.3, 2) > acc(0.3, 1) + 0.1, 'depth helps at a good learning rate');
  for (const t of trials) assert.ok(t.metrics.some((m) => m.name === 'loss' && Number.isFinite(m.latest)));
  assert.match(run.stdout, /Best trial mlp-tfjob-\d{4}: accuracy=0\.9\d* with learning_rate=0\.3 hidden_layers=[23]/);
});

test('examples/mlp/random.yaml samples within its space and is reproducible by random_state', { timeout: 120_000 }, async () => {
  const assignments = [];
  for (let i = 0; i < 2; i += 1) {
    const dataDir = join(tempDir(), 'data');
    const run = await runCli(['run', join(EXAMPLES, 'random.yaml'), '--data-dir', dataDir]);
    assert.ok(run.code === 0, run.stderr);
    const trials = JSON.parse((await runCli(['trials', 'mlp-random', '--json', '--data-dir', dataDir])).stdout) as { assignment: { learning_rate: number; hidden_layers: number } }[];
    for (const t of trials) {
      assert.ok(t.assignment.learning_rate >= 0.001 && t.assignment.learning_rate <= 1);
      assert.ok([1, 2, 3, 4].includes(t.assignment.hidden_layers));
    }
    assignments.push(trials.map((t) => t.assignment));
    if (i === 0) assert.ok(trials.length >= 1 && trials.length <= 12);
  }
  // The run may end early at its goal; the trials both runs made are the same.
  const n = Math.min(assignments[0]!.length, assignments[1]!.length);
  assert.deepEqual(assignments[0]!.slice(0, n), assignments[1]!.slice(0, n));
});

for (const algorithm of ['bayesianoptimization', 'tpe', 'multivariate-tpe', 'cmaes', 'sobol']) {
  test(`examples/mlp/${algorithm}.yaml runs end to end with sibyl run`, { timeout: 120_000 }, async () => {
    const dataDir = join(tempDir(), 'data');
    const run = await runCli(['run', join(EXAMPLES, `${algorithm}.yaml`), '--data-dir', dataDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Study mlp-${algorithm} SUCCEEDED \\(MaxTrialsReached\\)`));
    const trials = JSON.parse((await runCli(['trials', `mlp-${algorithm}`, '--json', '--data-dir', dataDir])).stdout) as {
      state: string; assignment: { learning_rate: number; hidden_layers: number }; objectiveValue: number;
    }[];
    assert.equal(trials.length, 10);
    const keys = new Set(trials.map((t) => JSON.stringify(t.assignment)));
    assert.equal(keys.size, 10, 'no assignment twice');
    for (const t of trials) {
      assert.equal(t.state, 'SUCCEEDED');
      assert.ok(t.assignment.learning_rate >= 0.001 && t.assignment.learning_rate <= 1);
      assert.ok(Number.isInteger(t.assignment.hidden_layers) && t.assignment.hidden_layers >= 1 && t.assignment.hidden_layers <= 4);
      assert.ok(t.objectiveValue >= 0 && t.objectiveValue <= 1);
    }
  });
}

for (const policy of ['medianstop', 'asha', 'curvefit']) {
  test(`examples/mlp/${policy}.yaml runs end to end with sibyl run and stops laggards early`, { timeout: 120_000 }, async () => {
    const dataDir = join(tempDir(), 'data');
    const run = await runCli(['run', join(EXAMPLES, `${policy}.yaml`), '--data-dir', dataDir]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, new RegExp(`Study mlp-${policy} SUCCEEDED \\(MaxTrialsReached\\)`));
    const trials = JSON.parse((await runCli(['trials', `mlp-${policy}`, '--json', '--data-dir', dataDir])).stdout) as {
      name: string; state: string; objectiveValue: number; stoppedAtStep: number | null; metrics: { name: string; count: number }[];
    }[];
    assert.equal(trials.length, 12);
    const stopped = trials.filter((t) => t.state === 'EARLY_STOPPED');
    assert.ok(stopped.length >= 1, 'some trial was stopped');
    // Which trials completed first (the medians a decision compares with) depends on the
    // machine's load, so a decision may come as late as a trial's last epoch; some must save epochs.
    const epochsOf = (t: (typeof stopped)[number]) => t.metrics.find((m) => m.name === 'accuracy')!.count;
    for (const t of stopped) {
      assert.ok(t.stoppedAtStep !== null && epochsOf(t) >= t.stoppedAtStep, `${t.name}: stopped at ${t.stoppedAtStep} after ${epochsOf(t)} of 60 epochs`);
    }
    assert.ok(stopped.some((t) => epochsOf(t) < 60), `a stopped trial ran fewer than 60 epochs: ${stopped.map((t) => `${t.name} ${epochsOf(t)}`).join(', ')}`);
    for (const t of trials.filter((x) => x.state !== 'EARLY_STOPPED')) assert.equal(t.state, 'SUCCEEDED');
    // The good learning rates run to the end: the best trial is as good as without stopping.
    assert.ok(Math.max(...trials.map((t) => t.objectiveValue)) >= 0.9);
    assert.match(run.stdout, new RegExp(`Early stopping \\(${policy}\\): ${stopped.length} trials stopped, \\d+ steps run, [1-9]\\d* steps saved`));
  });
}

test('examples/mlp/conditional.yaml: momentum only on the momentum branch, absent from sgd trials and from their command', { timeout: 180_000 }, async () => {
  const dataDir = join(tempDir(), 'data');
  const run = await runCli(['run', join(EXAMPLES, 'conditional.yaml'), '--data-dir', dataDir]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Study mlp-conditional SUCCEEDED \(MaxTrialsReached\)/);
  const trials = JSON.parse((await runCli(['trials', 'mlp-conditional', '--json', '--data-dir', dataDir])).stdout) as {
    state: string; assignment: Record<string, number | string>; objectiveValue: number;
  }[];
  assert.equal(trials.length, 10);
  const branches = new Set<string>();
  for (const t of trials) {
    // train.mjs exits 2 on --momentum with --optimizer sgd: an sgd trial that succeeded got no --momentum.
    assert.equal(t.state, 'SUCCEEDED', JSON.stringify(t));
    branches.add(String(t.assignment['optimizer']));
    if (t.assignment['optimizer'] === 'momentum') {
      assert.ok((t.assignment['momentum'] as number) >= 0.5 && (t.assignment['momentum'] as number) <= 0.95);
    } else {
      assert.equal(t.assignment['optimizer'], 'sgd');
      assert.equal('momentum' in t.assignment, false, JSON.stringify(t.assignment));
    }
    assert.deepEqual(Object.keys(t.assignment).sort(), t.assignment['optimizer'] === 'sgd'
      ? ['hidden_layers', 'learning_rate', 'optimizer']
      : ['hidden_layers', 'learning_rate', 'momentum', 'optimizer']);
  }
  assert.deepEqual([...branches].sort(), ['momentum', 'sgd'], 'both branches were tried');
  const bestLine = run.stdout.split('\n').find((l) => l.startsWith('Best trial')) ?? '';
  assert.match(bestLine, /with learning_rate=\S+ optimizer=(sgd|momentum momentum=0\.\d+) hidden_layers=\d$/, 'the best line names only active parameters');
});

test('train.mjs --optimizer momentum changes training; --momentum without it, or out of range, is refused', { timeout: 60_000 }, async () => {
  const { spawnSync } = await import('node:child_process');
  const trainer = join(EXAMPLES, 'train.mjs');
  const last = (...args: string[]) => {
    const r = spawnSync(process.execPath, [trainer, '--epochs', '5', ...args], { encoding: 'utf8' });
    return { code: r.status, line: r.stdout.trim().split('\n').pop() ?? '', stderr: r.stderr };
  };
  const sgd = last();
  const heavy = last('--optimizer', 'momentum', '--momentum', '0.9');
  const light = last('--optimizer=momentum', '--momentum=0.5');
  assert.equal(sgd.code, 0);
  assert.equal(heavy.code, 0);
  assert.notEqual(heavy.line, sgd.line, 'momentum changes the run');
  assert.notEqual(heavy.line, light.line, 'the momentum value matters');
  assert.equal(last('--optimizer', 'sgd').line, sgd.line, '--optimizer sgd is the default');
  for (const [args, message] of [
    [['--momentum', '0.9'], /--momentum is only used with --optimizer momentum/],
    [['--optimizer', 'momentum', '--momentum', '1'], /--momentum must be < 1/],
    [['--optimizer', 'adam'], /--optimizer must be one of sgd, momentum/],
  ] as const) {
    const r = last(...args);
    assert.equal(r.code, 2);
    assert.match(r.stderr, message);
  }
});
