// pbt (population-based training): the algorithm's generations, exploit and explore; its labels
// through the store, the APIs and Katib's GetSuggestions; trial checkpoint folders on the local
// runtime; and the MLP example trained as a population end to end.
import assert from 'node:assert/strict';
import { chownSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { Assignment, Parameter, SearchSpace, Settings, SuggestResult, TrialState, TrialView } from '../suggestion-algorithms/model.js';
import { SettingsError } from '../suggestion-algorithms/model.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { explore, perturbValue } from '../suggestion-algorithms/pbt/explore.js';
import { rank, selection, type Member } from '../suggestion-algorithms/pbt/breed.js';
import { GENERATION_LABEL, PARENT_LABEL } from '../suggestion-algorithms/pbt/index.js';
import { readPbtSettings } from '../suggestion-algorithms/pbt/settings.js';
import { validateForKubernetes } from '../src/runtimes/kubernetes/validate.js';
import { templateArgv, validateForLocal } from '../src/runtimes/local/argv.js';
import { checkpointDir, deleteStudyCheckpoints, prepareCheckpoint, rewriteMountPath } from '../src/runtimes/local/checkpoints.js';
import { LocalRuntime } from '../src/runtimes/local/index.js';
import { readCheckpointVolume } from '../src/runtimes/kubernetes/checkpoint-volume.js';
import { KubernetesRuntime } from '../src/runtimes/kubernetes/index.js';
import { startFakeKube, startFakeKubeWithFile } from './support/fake-kube/index.js';
import { startServer } from '../src/server/app.js';
import { until } from './support/wait.js';
import type { TrialOutcome } from '../src/runtimes/types.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyText } from '../src/spec/parse.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { runCli, startCli } from './support/cli.js';
import { call, startTestServer } from './support/server.js';
import { studySpec, tempDir } from './support/study.js';

const pbt = getAlgorithm('pbt')!;
const EXAMPLES = fileURLToPath(new URL('../../examples/mlp/', import.meta.url));
const FIXTURES = fileURLToPath(new URL('../../test/fixtures/katib/', import.meta.url));

const LR: Parameter = { name: 'lr', parameterType: 'double', min: 0.01, max: 1, step: 0.01, distribution: 'uniform' };
const LAYERS: Parameter = { name: 'layers', parameterType: 'int', min: 1, max: 8, distribution: 'uniform' };
const OPT: Parameter = { name: 'opt', parameterType: 'categorical', list: ['sgd', 'adam', 'ftrl', 'rmsprop'] };
const SPACE: SearchSpace = { direction: 'maximize', parameters: [LR, LAYERS, OPT] };

function settings(extra: Record<string, string> = {}): Settings {
  const all = { suggestion_trial_dir: '/ckpt', n_population: '5', truncation_threshold: '0.4', ...extra };
  return Object.entries(all).map(([name, value]) => ({ name, value }));
}

const suggest = (trials: readonly TrialView[], count: number, opts: { seed?: number; extra?: Record<string, string>; fill?: boolean } = {}): SuggestResult =>
  pbt.suggest({ space: SPACE, trials, count, seed: opts.seed ?? 7, settings: settings(opts.extra), ...(opts.fill ? { fill: true } : {}) });

/** The proposals recorded as trials named t<index>, as the store would. */
function record(trials: TrialView[], result: SuggestResult, state: TrialState = 'CREATED'): TrialView[] {
  const added = result.assignments.map((assignment, i) => ({ name: `t${trials.length + i}`, state, assignment, labels: { ...result.labels![i] } }));
  trials.push(...added);
  return added;
}

/** Completes trials with an objective: here the learning rate itself (bigger is better). */
function complete(trials: readonly TrialView[], value: (t: TrialView) => number = (t) => t.assignment['lr'] as number): void {
  for (const t of trials as (TrialView & { state: TrialState; objectiveValue?: number })[]) {
    if (t.state !== 'CREATED' && t.state !== 'RUNNING') continue;
    t.state = 'SUCCEEDED';
    t.objectiveValue = value(t);
  }
}

const generation = (t: TrialView) => t.labels?.[GENERATION_LABEL];
const parent = (t: TrialView) => t.labels?.[PARENT_LABEL];

// ---- settings ----

test('pbt settings: Katib required settings and bounds, each error naming its setting', () => {
  const cases: [Record<string, string | undefined>, string, RegExp][] = [
    [{ suggestion_trial_dir: undefined }, 'suggestion_trial_dir', /required by algorithm "pbt"/],
    [{ n_population: undefined }, 'n_population', /required by algorithm "pbt"/],
    [{ truncation_threshold: undefined }, 'truncation_threshold', /required by algorithm "pbt"/],
    [{ n_population: '4' }, 'n_population', /must be an integer ≥ 5/],
    [{ n_population: '5.5' }, 'n_population', /must be an integer/],
    [{ truncation_threshold: '1.5' }, 'truncation_threshold', /must be a number ≥ 0 and ≤ 1/],
    [{ truncation_threshold: '-0.1' }, 'truncation_threshold', /≥ 0/],
    [{ resample_probability: '2' }, 'resample_probability', /must be a number ≥ 0 and ≤ 1/],
    [{ suggestion_trial_dir: 'checkpoints' }, 'suggestion_trial_dir', /must be an absolute path/],
    [{ suggestion_trial_dir: '/' }, 'suggestion_trial_dir', /other than "\/"/],
    [{ random_state: '-1' }, 'random_state', /must be an integer ≥ 0/],
    [{ seed: '1' }, 'seed', /unknown setting for algorithm "pbt" \(known: n_population, random_state, resample_probability, suggestion_trial_dir, truncation_threshold\)/],
  ];
  for (const [change, setting, reason] of cases) {
    const all: Record<string, string | undefined> = { suggestion_trial_dir: '/ckpt', n_population: '5', truncation_threshold: '0.2', ...change };
    const given = Object.entries(all).filter(([, v]) => v !== undefined).map(([name, value]) => ({ name, value: value! }));
    assert.throws(() => pbt.validateSettings(SPACE, given), (err: unknown) => {
      assert.ok(err instanceof SettingsError, String(err));
      assert.deepEqual(err.target, { setting });
      assert.match(err.reason, reason);
      return true;
    }, JSON.stringify(change));
  }
  assert.deepEqual(readPbtSettings(settings({ resample_probability: '0.25' })), { trialDir: '/ckpt', population: 5, truncation: 0.4, resampleProbability: 0.25 });
  // As a study field (src/spec maps the target onto the document).
  const doc = (n: string) => `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: p}
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm: {algorithmName: pbt, algorithmSettings: [{name: suggestion_trial_dir, value: /c}, {name: n_population, value: "${n}"}, {name: truncation_threshold, value: "0.2"}]}
  parameters: [{name: lr, parameterType: double, feasibleSpace: {min: "0.1", max: "1"}}]
  trialTemplate: {command: [echo, "\${trialParameters.lr}"], trialParameters: [{name: lr, reference: lr}]}
`;
  parseStudyText(doc('5'));
  assert.throws(() => parseStudyText(doc('3')), (e: unknown) => e instanceof SpecError && e.field === 'spec.algorithm.algorithmSettings[n_population]');
});

// ---- generations ----

test('pbt generation 0: n_population random members labelled generation 0, then nothing until they complete', () => {
  const trials: TrialView[] = [];
  const first = suggest(trials, 3);
  assert.equal(first.assignments.length, 3);
  record(trials, first);
  const rest = suggest(trials, 10);
  assert.equal(rest.assignments.length, 2, 'a generation has n_population members');
  record(trials, rest);
  assert.deepEqual(trials.map(generation), ['0', '0', '0', '0', '0']);
  assert.ok(trials.every((t) => parent(t) === undefined));
  for (const t of trials) {
    assert.ok((t.assignment['lr'] as number) >= 0.01 && (t.assignment['lr'] as number) <= 1);
    assert.ok(Number.isInteger(Math.round((t.assignment['lr'] as number) * 100)));
    assert.ok(['sgd', 'adam', 'ftrl', 'rmsprop'].includes(t.assignment['opt'] as string));
  }
  // The same members whether asked for at once or one by one.
  assert.deepEqual(suggest([], 5).assignments, trials.map((t) => t.assignment));
  assert.equal(suggest(trials, 5).assignments.length, 0, 'generation 1 waits for the last member of generation 0');
  complete(trials.slice(0, 4));
  assert.equal(suggest(trials, 5).assignments.length, 0, 'still one member running');
  // A caller that refuses fewer (Katib's controller) gets extra members of the generation instead.
  const filled = suggest(trials, 3, { fill: true });
  assert.equal(filled.assignments.length, 3);
  assert.deepEqual(filled.labels!.map((l) => l?.[GENERATION_LABEL]), ['0', '0', '0']);
});

test('pbt exploit: the worst fraction copies a member of the best fraction (before explore); the rest continue', () => {
  const trials: TrialView[] = [];
  record(trials, suggest(trials, 5));
  complete(trials);
  const ranked = [...trials].sort((a, b) => b.objectiveValue! - a.objectiveValue!);
  const best2 = ranked.slice(0, 2).map((t) => t.name);
  const best3 = ranked.slice(0, 3).map((t) => t.name);

  // resample_probability 0: explore changes nothing, so a child is its parent's exact copy.
  const copies = suggest(trials, 5, { extra: { resample_probability: '0' } });
  assert.equal(copies.assignments.length, 5);
  copies.assignments.forEach((a, i) => {
    const p = trials.find((t) => t.name === copies.labels![i]![PARENT_LABEL])!;
    assert.deepEqual(a, p.assignment, 'the parent’s hyperparameters are copied');
  });
  const parents = copies.labels!.map((l) => l![PARENT_LABEL]!);
  assert.deepEqual(parents.slice(0, 3).sort(), [...best3].sort(), 'the best n − k continue from their own checkpoints');
  for (const p of parents.slice(3)) assert.ok(best2.includes(p), `exploit parent ${p} is one of the best k = floor(5 · 0.4) = 2`);

  // The same selection, directly: ties keep trial order, minimize flips the ranking.
  const members: Member[] = trials.map((t, index) => ({ trial: t as Member['trial'], index }));
  const chosen = selection(rank(members, 'maximize'), readPbtSettings(settings()));
  assert.deepEqual(chosen.continuing.map((m) => m.trial.name), best3);
  assert.deepEqual(chosen.top.map((m) => m.trial.name), best2);
  assert.equal(chosen.exploiting, 2);
  assert.deepEqual(rank(members, 'minimize').map((m) => m.trial.name), [...ranked].reverse().map((t) => t.name));

  // Perturbing (the default): the continuing ones keep their values, the exploiting ones explore.
  const next = suggest(trials, 5);
  const byParent = (i: number) => trials.find((t) => t.name === next.labels![i]![PARENT_LABEL])!;
  for (let i = 0; i < 3; i++) assert.deepEqual(next.assignments[i], byParent(i).assignment);
  for (let i = 3; i < 5; i++) {
    const from = byParent(i).assignment;
    const lr = next.assignments[i]!['lr'] as number;
    const near = [0.8, 1.2].some((f) => Math.abs(lr - Math.min(1, Math.max(0.01, (from['lr'] as number) * f))) <= 0.01 + 1e-9);
    assert.ok(near && Number.isInteger(Math.round(lr * 100)), `lr ${lr} is ${from['lr']} × 0.8 or × 1.2 on the 0.01 grid`);
    assert.notDeepEqual(next.assignments[i], from);
  }
});

test('pbt labels across generations: each trial names its generation and a parent of the generation before', () => {
  const trials: TrialView[] = [];
  for (let g = 0; g < 4; g++) {
    const r = suggest(trials, 5);
    assert.equal(r.assignments.length, 5);
    const added = record(trials, r);
    for (const t of added) {
      assert.equal(generation(t), String(g));
      if (g === 0) assert.equal(parent(t), undefined);
      else assert.equal(generation(trials.find((p) => p.name === parent(t))!), String(g - 1));
    }
    complete(trials);
  }
  assert.equal(trials.length, 20);
});

test('pbt is deterministic: the same trials and seed give the same proposals; another seed other ones', () => {
  const trials: TrialView[] = [];
  record(trials, suggest(trials, 5));
  complete(trials);
  record(trials, suggest(trials, 2));
  const a = suggest(trials, 5);
  const b = suggest(structuredClone(trials), 5);
  assert.deepEqual(a, b);
  assert.equal(a.assignments.length, 3);
  assert.notDeepEqual(suggest([], 5, { seed: 8 }).assignments, suggest([], 5, { seed: 7 }).assignments);
  assert.deepEqual(suggest([], 5, { seed: 8, extra: { random_state: '3' } }), suggest([], 5, { seed: 7, extra: { random_state: '3' } }), 'random_state replaces the seed');
});

test('pbt re-queues failed and killed members once, with the same assignment and labels, as Katib does', () => {
  const trials: TrialView[] = [];
  record(trials, suggest(trials, 5));
  complete(trials);
  record(trials, suggest(trials, 5));
  const failed = trials[6]! as TrialView & { state: TrialState };
  const killed = trials[8]! as TrialView & { state: TrialState };
  complete(trials);
  failed.state = 'FAILED';
  delete (failed as { objectiveValue?: number }).objectiveValue;
  killed.state = 'KILLED';
  delete (killed as { objectiveValue?: number }).objectiveValue;
  const retry = suggest(trials, 5);
  assert.deepEqual(retry.assignments, [failed.assignment, killed.assignment], 'only the retries: generation 2 waits for them');
  assert.deepEqual(retry.labels, [failed.labels, killed.labels]);
  const [again] = record(trials, { assignments: retry.assignments.slice(0, 1), labels: retry.labels!.slice(0, 1) });
  assert.deepEqual(suggest(trials, 5).assignments, [killed.assignment], 'a retried trial is not owed again');
  record(trials, { assignments: [killed.assignment], labels: [killed.labels] });
  complete(trials);
  const next = suggest(trials, 5);
  assert.deepEqual(next.labels!.map((l) => l![GENERATION_LABEL]), ['2', '2', '2', '2', '2']);
  assert.ok(!next.labels!.some((l) => l![PARENT_LABEL] === failed.name), 'a failed trial is never a parent');
  assert.ok(again);
});

// ---- explore ----

test('pbt explore: numbers × 0.8 or × 1.2 within bounds and on the step grid; both directions occur', () => {
  const draws = (p: Parameter, v: number, n = 64) => new Set(Array.from({ length: n }, (_, i) => perturbValue(p, v, new Rng(3, i))));
  assert.deepEqual([...draws(LR, 0.5)].sort(), [0.4, 0.6]);
  assert.deepEqual([...draws(LR, 0.9)].sort(), [0.72, 1], '0.9 × 1.2 is clipped to max');
  assert.deepEqual([...draws(LR, 0.01)].sort(), [0.01, 0.02], 'at min: × 0.8 is clipped; × 1.2 would round back, so it moves one step');
  assert.deepEqual([...draws(LAYERS, 5)].sort(), [4, 6]);
  assert.deepEqual([...draws(LAYERS, 1)].sort(), [1, 2], 'int 1 × 1.2 moves one step instead of staying 1');
  const coarse: Parameter = { name: 'c', parameterType: 'double', min: 0, max: 10, step: 2.5, distribution: 'uniform' };
  assert.deepEqual([...draws(coarse, 5)].sort(), [2.5, 7.5]);
  const free: Parameter = { name: 'f', parameterType: 'double', min: 1e-4, max: 1, distribution: 'logUniform' };
  assert.deepEqual([...draws(free, 0.05)].sort(), [0.04, 0.06]);
});

test('pbt explore: categorical moves to a neighbouring item (wrapping as Katib), discrete inwards at its ends', () => {
  const draws = (p: Parameter, v: string | number) => [...new Set(Array.from({ length: 64 }, (_, i) => perturbValue(p, v, new Rng(5, i))))].sort();
  assert.deepEqual(draws(OPT, 'sgd'), ['adam', 'rmsprop']);
  assert.deepEqual(draws(OPT, 'ftrl'), ['adam', 'rmsprop']);
  const sizes: Parameter = { name: 'b', parameterType: 'discrete', list: [16, 32, 64, 128] };
  assert.deepEqual(draws(sizes, 16), [32]);
  assert.deepEqual(draws(sizes, 128), [64]);
  assert.deepEqual(draws(sizes, 32), [16, 64]);
});

test('pbt explore: resample_probability 1 draws every value afresh; 0 keeps every value', () => {
  const from: Assignment = { lr: 0.5, layers: 4, opt: 'adam' };
  const resampled = Array.from({ length: 60 }, (_, i) => explore(SPACE, from, 1, new Rng(11, i)));
  const lrs = new Set(resampled.map((a) => a['lr']));
  assert.ok(lrs.size > 20, `${lrs.size} distinct learning rates`);
  assert.ok([...lrs].some((v) => v !== 0.4 && v !== 0.6), 'not a perturbation');
  assert.equal(new Set(resampled.map((a) => a['opt'])).size, 4, 'the non-neighbour sgd… every item can come');
  for (const a of resampled) assert.ok((a['lr'] as number) >= 0.01 && (a['lr'] as number) <= 1 && (a['layers'] as number) >= 1 && (a['layers'] as number) <= 8);
  for (let i = 0; i < 20; i++) assert.deepEqual(explore(SPACE, from, 0, new Rng(11, i)), from);
});

// ---- store, APIs, Katib ----

test('pbt labels are stored with their trials (one transaction), read back, kept by a heartbeat retry', async () => {
  const dir = tempDir();
  const store = SqliteStore.open(dir);
  try {
    const spec = studySpec({ name: 'labelled', parameters: [{ name: 'x', parameterType: 'int', feasibleSpace: { min: '1', max: '3' } }], trialParameters: [{ name: 'x', reference: 'x' }], command: ['echo', '${trialParameters.x}'] });
    const study = await store.createStudy(spec, dir, 1, 'external', { heartbeatSeconds: 5 });
    const [a, b] = await store.addTrials(study.id, [{ x: 1 }, { x: 2 }], undefined, [{ [GENERATION_LABEL]: '0' }, undefined]);
    assert.deepEqual(a!.labels, { [GENERATION_LABEL]: '0' });
    assert.equal(b!.labels, undefined);
    const [c] = await store.addClientTrials(study.id, [{ x: 3 }], 'client:w', undefined, [{ [GENERATION_LABEL]: '1', [PARENT_LABEL]: a!.name }]);
    assert.deepEqual((await store.getTrialByName(c!.name))!.labels, { [GENERATION_LABEL]: '1', [PARENT_LABEL]: a!.name });
    assert.deepEqual((await store.trialViews(study.id)).map((t) => t.labels), [a!.labels, undefined, c!.labels]);
    const { retry } = await store.expireTrial(c!.id, 'silent');
    assert.deepEqual(retry!.labels, c!.labels, 'the re-queued assignment keeps its generation and parent');
  } finally {
    await store.close();
  }
});

const PBT_SETTINGS = [
  { name: 'suggestion_trial_dir', value: '/var/log/katib/checkpoints/' },
  { name: 'n_population', value: '5' },
  { name: 'truncation_threshold', value: '0.4' },
];

const PBT_STUDY = `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: ask-pbt}
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm:
    algorithmName: pbt
    algorithmSettings: ${JSON.stringify(PBT_SETTINGS)}
  parallelTrialCount: 5
  maxTrialCount: 10
  parameters: [{name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "1", step: "0.01"}}]
  trialTemplate: {command: [echo, "\${trialParameters.lr}"], trialParameters: [{name: lr, reference: lr}]}
`;

test('pbt labels in the APIs: REST and sibyl.v1 trials carry them (ask/tell clients copy checkpoints themselves)', async () => {
  const s = await startTestServer();
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { specText: PBT_STUDY })).status, 201);
    const asked = (await s.http('POST', '/api/v1/studies/ask-pbt/suggest', { clientId: 'w', count: 5 })).body.trials as { name: string; labels: Record<string, string> }[];
    assert.equal(asked.length, 5);
    for (const t of asked) assert.deepEqual(t.labels, { [GENERATION_LABEL]: '0' });
    for (const [i, t] of asked.entries()) {
      assert.equal((await s.http('POST', `/api/v1/trials/${t.name}/complete`, { metrics: [{ metric: 'accuracy', value: i / 10 }] })).status, 200);
    }
    const rest = (await s.http('GET', '/api/v1/studies/ask-pbt/trials')).body.trials as { labels: Record<string, string> }[];
    assert.deepEqual(rest.map((t) => t.labels[GENERATION_LABEL]), ['0', '0', '0', '0', '0']);
    const trials = s.client('Trials');
    const next = (await call(trials, 'suggestTrials', { study: 'ask-pbt', count: 5, clientId: 'g' })).trials as { labels: Record<string, string> }[];
    assert.equal(next.length, 5);
    for (const t of next) {
      assert.equal(t.labels[GENERATION_LABEL], '1');
      assert.ok(asked.some((a) => a.name === t.labels[PARENT_LABEL]), 'the parent is a trial of generation 0');
    }
  } finally {
    await s.close();
  }
});

function katibExperiment(settings: readonly { name: string; value: string }[] = PBT_SETTINGS) {
  return {
    name: 'katib-pbt',
    spec: {
      parameterSpecs: { parameters: [{ name: 'lr', parameterType: 'DOUBLE', feasibleSpace: { min: '0.0001', max: '0.02', step: '0.0001', distribution: 'UNIFORM' } }] },
      objective: { type: 'MAXIMIZE', objectiveMetricName: 'Validation-accuracy' },
      algorithm: { algorithmName: 'pbt', algorithmSettings: settings },
      parallelTrialCount: 7,
      maxTrialCount: 30,
    },
  };
}

interface KatibAssignment { assignments: { name: string; value: string }[]; trialName: string; labels: Record<string, string> }
interface KatibReply { parameterAssignments: KatibAssignment[]; algorithm: { algorithmSettings: { name: string; value: string }[] } }

/** The Trial Katib's controller makes of an assignment, as its next request carries it: labels on the metadata, none in spec.labels. */
function katibTrial(a: KatibAssignment, condition: string, accuracy?: number, specLabels?: Record<string, string>) {
  return {
    name: a.trialName,
    spec: {
      objective: { type: 'MAXIMIZE', objectiveMetricName: 'Validation-accuracy' },
      parameterAssignments: { assignments: a.assignments },
      ...(specLabels ? { labels: specLabels } : {}),
    },
    status: { condition, observation: { metrics: accuracy === undefined ? [] : [{ name: 'Validation-accuracy', value: String(accuracy) }] } },
  };
}

test("Katib GetSuggestions for pbt: labelled trials named and remembered in Katib's settings channel; always the count asked", async () => {
  const volume = tempDir();
  const s = await startTestServer({ katibDataDir: volume });
  const suggestion = s.client('Suggestion');
  const ask = (settings: { name: string; value: string }[], trials: unknown[], n: number): Promise<KatibReply> =>
    call(suggestion, 'getSuggestions', { experiment: katibExperiment(settings), trials, currentRequestNumber: n, totalRequestNumber: trials.length + n });
  try {
    await call(suggestion, 'validateAlgorithmSettings', { experiment: katibExperiment() });
    const first = await ask(PBT_SETTINGS, [], 5);
    assert.equal(first.parameterAssignments.length, 5);
    for (const pa of first.parameterAssignments) {
      assert.deepEqual(pa.labels, { [GENERATION_LABEL]: '0' });
      assert.match(pa.trialName, /^katib-pbt-[bcdfghjklmnpqrstvwxz2456789]{8}$/, "named as Katib's controller would");
      assert.ok(existsSync(join(volume, 'katib-pbt', pa.trialName)), 'its checkpoint folder is ready on the suggestion volume');
    }
    const echoed = first.algorithm.algorithmSettings;
    assert.deepEqual(echoed.slice(0, 3), PBT_SETTINGS);
    assert.deepEqual(echoed.slice(3).map((x) => x.name), ['sibyl.labels.0']);
    // While generation 0 runs, Katib's controller (which refuses fewer than it asks for) gets extra members.
    const running = first.parameterAssignments.map((pa) => katibTrial(pa, 'RUNNING'));
    const more = await ask(echoed, running, 2);
    assert.equal(more.parameterAssignments.length, 2);
    for (const pa of more.parameterAssignments) assert.deepEqual(pa.labels, { [GENERATION_LABEL]: '0' });
    // The trials come back without labels (as Katib's controller sends them); the settings remember them.
    const done = first.parameterAssignments.map((pa, i) => katibTrial(pa, 'SUCCEEDED', 0.5 + i / 100));
    const extra = more.parameterAssignments.map((pa) => katibTrial(pa, 'SUCCEEDED', 0.1));
    writeFileSync(join(volume, 'katib-pbt', first.parameterAssignments[4]!.trialName, 'model.ckpt'), 'best weights');
    const next = await ask(more.algorithm.algorithmSettings, [...done, ...extra], 5);
    assert.equal(next.parameterAssignments.length, 5);
    for (const pa of next.parameterAssignments) {
      assert.equal(pa.labels[GENERATION_LABEL], '1');
      const from = pa.labels[PARENT_LABEL]!;
      assert.ok(done.some((t) => t.name === from), `parent ${from} is a member of generation 0`);
      const copied = join(volume, 'katib-pbt', pa.trialName, 'model.ckpt');
      assert.equal(existsSync(copied), from === first.parameterAssignments[4]!.trialName, 'the parent’s folder is copied');
    }
    assert.ok(next.parameterAssignments.some((pa) => pa.labels[PARENT_LABEL] === first.parameterAssignments[4]!.trialName), 'the best member continues');
    // A request trial's own spec.labels (should a controller send them) count as well.
    const withLabels = [...done, ...extra].map((t, i) => ({ ...t, spec: { ...t.spec, labels: [...first.parameterAssignments, ...more.parameterAssignments][i]!.labels } }));
    assert.deepEqual((await ask(PBT_SETTINGS, withLabels, 5)).parameterAssignments.map((pa) => pa.labels[GENERATION_LABEL]), ['1', '1', '1', '1', '1']);
    // Neither: nothing is known of generations, so generation 0 again.
    assert.equal((await ask(PBT_SETTINGS, done, 1)).parameterAssignments[0]!.labels[GENERATION_LABEL], '0');
    await assert.rejects(ask([...PBT_SETTINGS, { name: 'sibyl.labels.0', value: '[1]' }], [], 1), (e: { code: number; details: string }) => e.code === 3 && /sibyl\.labels/.test(e.details));
    await assert.rejects(ask(PBT_SETTINGS.slice(1), [], 1), (e: { code: number; details: string }) => e.code === 3 && /algorithm_settings\[suggestion_trial_dir\]: required/.test(e.details));
  } finally {
    await s.close();
  }
});

// ---- checkpoints, local runtime ----

test("Katib's own PBT example is accepted with the budgets Katib's e2e test gives it; its checkpoint path is rewritten locally", () => {
  const text = readFileSync(join(FIXTURES, 'simple-pbt.yaml'), 'utf8');
  // As committed, the file has maxFailedTrialCount 3 > maxTrialCount 2, which Katib's own webhook
  // refuses too (validator.go); Katib's e2e script (run-e2e-experiment.py) sets the budgets to
  // maxTrialCount 2, parallelTrialCount 1, maxFailedTrialCount 0 before creating it.
  assert.throws(() => parseStudyText(text), (e: unknown) => e instanceof SpecError && e.field === 'spec.maxFailedTrialCount' && /must not exceed maxTrialCount/.test(e.reason));
  const spec = parseStudyText(text.replace('parallelTrialCount: 2', 'parallelTrialCount: 1').replace('maxFailedTrialCount: 3', 'maxFailedTrialCount: 0'));
  assert.equal(spec.maxTrialCount, 2);
  assert.equal(spec.algorithm.algorithmName, 'pbt');
  assert.equal(spec.namespace, 'kubeflow');
  validateForLocal(spec);
  // The kubernetes runtime takes it as written when it has a volume for the checkpoint folders.
  validateForKubernetes(spec, { checkpointVolume: { claimName: 'katib-checkpoints', dir: tempDir() } });
  assert.throws(() => validateForKubernetes(spec), (e: unknown) =>
    e instanceof SpecError && e.field === 'spec.algorithm.algorithmSettings[suggestion_trial_dir]' && /--kube-checkpoint-claim .* --kube-checkpoint-dir .*local runtime/.test(e.reason));
  const argv = rewriteMountPath(templateArgv(spec.trialTemplate)!, '/var/log/katib/checkpoints/', '/data/checkpoints/simple-pbt/t1');
  assert.deepEqual(argv, ['python3', '/opt/pbt/pbt_test.py', '--epochs=20', '--lr=${trialParameters.learningRate}', '--checkpoint=/data/checkpoints/simple-pbt/t1/']);
});

test('checkpoint mount path rewriting: whole paths and their prefixes only', () => {
  const to = '/d/c/t';
  assert.deepEqual(rewriteMountPath(['/ckpt', '/ckpt/', '--x=/ckpt/model.bin', 'a:/ckpt', '/ckpt2', '/a/ckpt', 'ckpt', '/ckpt.old', '--y=/ckpt'], '/ckpt/', to),
    [to, `${to}/`, `--x=${to}/model.bin`, `a:${to}`, '/ckpt2', '/a/ckpt', 'ckpt', '/ckpt.old', `--y=${to}`]);
});

test('local runtime: a child trial starts from a copy of its parent’s checkpoint folder; a stop while copying prevents the start', async () => {
  const dataDir = tempDir();
  const parentDir = await prepareCheckpoint(dataDir, 's', 's-0001', { mountPath: '/ckpt' });
  assert.equal(parentDir, checkpointDir(dataDir, 's', 's-0001'));
  mkdirSync(join(parentDir, 'nested'));
  writeFileSync(join(parentDir, 'nested', 'w.bin'), 'weights');
  const finished: [string, TrialOutcome][] = [];
  const started: string[] = [];
  const lines: string[] = [];
  const runtime = new LocalRuntime({
    dataDir,
    listener: { started: (n) => started.push(n), output: (_n, l) => lines.push(l), finished: (n, o) => finished.push([n, o]) },
  });
  const template = { trialParameters: [], retain: false, command: ['sh', '-c', 'cat /ckpt/nested/w.bin; echo " $SIBYL_PARENT_TRIAL $SIBYL_CHECKPOINT_DIR"; echo new > /ckpt/mine'] };
  const request = { trialName: 's-0002', studyName: 's', namespace: 'default', assignment: {}, template, baseDir: dataDir, checkpoint: { mountPath: '/ckpt', parentTrial: 's-0001' } };
  // The template writes to the literal mount path; rewriting points it at the trial's folder.
  await runtime.launch(request);
  while (finished.length === 0) await new Promise((r) => setTimeout(r, 20));
  const childDir = checkpointDir(dataDir, 's', 's-0002');
  assert.deepEqual(finished[0], ['s-0002', { kind: 'succeeded' }]);
  assert.deepEqual(lines, [`weights s-0001 ${childDir}`]);
  assert.equal(readFileSync(join(childDir, 'mine'), 'utf8'), 'new\n');
  assert.ok(!existsSync(join(parentDir, 'mine')), 'the parent’s folder is untouched');
  // Launched again (after a restart): the folder starts afresh from the parent's.
  await runtime.launch({ ...request, template: { ...template, command: ['sh', '-c', 'ls /ckpt'] } });
  while (finished.length === 1) await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(lines.slice(1), ['nested']);
  // A missing parent folder fails the launch with a reason.
  await assert.rejects(runtime.launch({ ...request, trialName: 's-0003', checkpoint: { mountPath: '/ckpt', parentTrial: 's-0099' } }), /parent trial s-0099 is missing/);
  // Stopped while its folder is prepared: reported stopped, never started.
  const launching = runtime.launch({ ...request, trialName: 's-0004' });
  await runtime.stop('s-0004', 'StudyEnded');
  await launching;
  assert.deepEqual(finished.at(-1), ['s-0004', { kind: 'stopped', reason: 'StudyEnded' }]);
  assert.ok(!started.includes('s-0004'));
  await runtime.shutdown('test');
  await deleteStudyCheckpoints(dataDir, 's');
  assert.ok(!existsSync(join(dataDir, 'checkpoints', 's')), 'deleting the study deletes its checkpoints');
});

// ---- checkpoints, kubernetes runtime ----

test('kubernetes runtime: checkpoint studies need a volume its trials can mount; the settings are checked', () => {
  const volume = { claimName: 'ckpt', dir: tempDir() };
  const doc = (edit: (container: any, podSpec: any) => void = () => {}) => {
    const container: any = { name: 'trial', image: 'x', command: ['train', '--checkpoint=/ckpt/'] };
    const podSpec: any = { restartPolicy: 'Never', containers: [container] };
    edit(container, podSpec);
    return `apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata: {name: kp}
spec:
  objective: {type: maximize, objectiveMetricName: accuracy}
  algorithm: {algorithmName: pbt, algorithmSettings: [{name: suggestion_trial_dir, value: /ckpt/}, {name: n_population, value: "5"}, {name: truncation_threshold, value: "0.2"}]}
  maxTrialCount: 10
  parallelTrialCount: 5
  parameters: [{name: lr, parameterType: double, feasibleSpace: {min: "0.01", max: "0.1", step: "0.01"}}]
  trialTemplate:
    primaryContainerName: trial
    trialParameters: [{name: lr, reference: lr}]
    trialSpec: ${JSON.stringify({ apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: podSpec } } }).replace('"train"', '"train", "--lr=${trialParameters.lr}"')}
`;
  };
  validateForKubernetes(parseStudyText(doc()), { checkpointVolume: volume });
  const refused = (text: string, field: string, reason: RegExp) => assert.throws(() => validateForKubernetes(parseStudyText(text), { checkpointVolume: volume }),
    (e: unknown) => e instanceof SpecError && e.field === field && reason.test(e.reason));
  refused(doc((c) => { c.volumeMounts = [{ name: 'mine', mountPath: '/ckpt' }]; }), 'spec.algorithm.algorithmSettings[suggestion_trial_dir]', /mounts a volume of its own at \/ckpt\//);
  refused(doc((_c, p) => { p.volumes = [{ name: 'sibyl-checkpoint', emptyDir: {} }]; }), 'spec.trialTemplate.trialSpec', /volume named sibyl-checkpoint/);

  const flag = (which: string) => `--kube-checkpoint-${which}`;
  assert.deepEqual(readCheckpointVolume('ckpt', volume.dir, flag), volume);
  assert.equal(readCheckpointVolume(undefined, undefined, flag), undefined);
  assert.throws(() => readCheckpointVolume('ckpt', undefined, flag), /--kube-checkpoint-claim needs --kube-checkpoint-dir/);
  assert.throws(() => readCheckpointVolume(undefined, volume.dir, flag), /--kube-checkpoint-dir needs --kube-checkpoint-claim/);
  assert.throws(() => readCheckpointVolume('Not_A_Claim', volume.dir, flag), /--kube-checkpoint-claim must name a PersistentVolumeClaim .*"Not_A_Claim"/);
  assert.throws(() => readCheckpointVolume('ckpt', join(volume.dir, 'absent'), flag), /--kube-checkpoint-dir ".*absent" is not a folder/);
});

test('kubernetes runtime: each trial mounts its own folder of the claim, made before its object, a copy of its parent\'s; a running trial\'s folder is left alone', { timeout: 30_000 }, async () => {
  const { kube, kubeConfig } = await startFakeKube();
  const dir = tempDir();
  // As the volume's admin gives it to the user its trials run as (as root, Sibyl's folders follow; otherwise they are Sibyl's own).
  const root = process.getuid!() === 0;
  if (root) chownSync(dir, 1000, 1000);
  const owner = root ? 1000 : process.getuid!();
  const volume = { claimName: 'ckpt', dir };
  const finished: [string, TrialOutcome][] = [];
  const runtime = new KubernetesRuntime({
    kubeConfig, checkpointVolume: volume, requestTimeoutMs: 2000, podPollMs: 50,
    listener: { started: () => {}, output: () => {}, finished: (n, o) => finished.push([n, o]) },
  });
  try {
    const container = { name: 'trial', image: 'x', command: ['node', '-e', 'console.log("accuracy=0.5")'] };
    const template = {
      trialParameters: [], retain: true, primaryContainerName: 'trial',
      trialSpec: { apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { restartPolicy: 'Never', containers: [container] } } } },
    };
    const request = (trialName: string, parentTrial?: string) => ({
      trialName, studyName: 'kp', namespace: 'default', assignment: {}, template, baseDir: dir,
      checkpoint: { mountPath: '/var/log/katib/checkpoints/', ...(parentTrial ? { parentTrial } : {}) },
    });
    const podSpecOf = (name: string) => kube.get(kube.collectionKey('batch', 'v1', 'default', 'jobs'), name)!['spec'].template.spec;
    const done = (n: number) => until(`${n} trials finished`, 20_000, () => finished.length >= n || undefined);

    await runtime.launch(request('kp-0001'));
    await done(1);
    const parentDir = join(dir, 'kp', 'kp-0001');
    assert.ok(existsSync(parentDir), 'the folder is made on the volume');
    writeFileSync(join(parentDir, 'checkpoint.json'), '{"epoch":3}');
    assert.deepEqual(podSpecOf('kp-0001').volumes, [{ name: 'sibyl-checkpoint', persistentVolumeClaim: { claimName: 'ckpt' } }]);
    const mounted = podSpecOf('kp-0001').containers[0];
    assert.deepEqual(mounted.volumeMounts, [{ name: 'sibyl-checkpoint', mountPath: '/var/log/katib/checkpoints/', subPath: 'kp/kp-0001' }]);
    assert.equal(mounted.env.find((e: any) => e.name === 'SIBYL_CHECKPOINT_DIR').value, '/var/log/katib/checkpoints/');
    assert.equal(mounted.env.find((e: any) => e.name === 'SIBYL_PARENT_TRIAL'), undefined);

    await runtime.launch(request('kp-0006', 'kp-0001'));
    await done(2);
    assert.equal(readFileSync(join(dir, 'kp', 'kp-0006', 'checkpoint.json'), 'utf8'), '{"epoch":3}', 'the child starts from a copy of its parent');
    for (const path of ['kp', 'kp/kp-0001', 'kp/kp-0006', 'kp/kp-0006/checkpoint.json']) assert.equal(statSync(join(dir, path)).uid, owner, `${path} belongs to the trials' user`);
    assert.equal(podSpecOf('kp-0006').containers[0].volumeMounts[0].subPath, 'kp/kp-0006');
    assert.equal(podSpecOf('kp-0006').containers[0].env.find((e: any) => e.name === 'SIBYL_PARENT_TRIAL').value, 'kp-0001');
    assert.deepEqual(finished.map(([, o]) => o.kind), ['succeeded', 'succeeded']);

    // Launched again while its object exists (an answer lost): adopted, and its folder is not made afresh.
    writeFileSync(join(dir, 'kp', 'kp-0006', 'checkpoint.json'), '{"epoch":6}');
    await runtime.launch(request('kp-0006', 'kp-0001'));
    await done(3);
    assert.equal(readFileSync(join(dir, 'kp', 'kp-0006', 'checkpoint.json'), 'utf8'), '{"epoch":6}');

    // A parent whose folder is missing: the launch fails with the reason, and no object is made.
    await assert.rejects(runtime.launch(request('kp-0007', 'kp-0099')), /parent trial kp-0099 is missing/);
    assert.equal(kube.get(kube.collectionKey('batch', 'v1', 'default', 'jobs'), 'kp-0007'), undefined);
  } finally {
    await runtime.shutdown('test');
    await kube.close();
  }
});

test('sibyl serve on the kubernetes runtime with a checkpoint claim: a pbt study over REST launches trials that mount their folders; deleting it deletes them; without the claim it is refused', { timeout: 60_000 }, async () => {
  const dir = tempDir();
  const { kube, kubeconfig } = await startFakeKubeWithFile(dir);
  const volumeDir = join(dir, 'claim');
  mkdirSync(volumeDir);
  const container = { name: 'trial', image: 'x', command: ['node', '-e', 'console.log("accuracy=0.5")'] };
  const doc = {
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name: 'served-pbt', namespace: 'default' },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: 'accuracy' },
      algorithm: { algorithmName: 'pbt', algorithmSettings: [{ name: 'suggestion_trial_dir', value: '/ckpt' }, { name: 'n_population', value: '5' }, { name: 'truncation_threshold', value: '0.4' }] },
      parallelTrialCount: 5, maxTrialCount: 10,
      parameters: [{ name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.01', max: '0.1', step: '0.01' } }],
      trialTemplate: {
        primaryContainerName: 'trial', trialParameters: [{ name: 'lr', reference: 'lr' }],
        trialSpec: { apiVersion: 'batch/v1', kind: 'Job', spec: { template: { spec: { restartPolicy: 'Never', containers: [{ ...container, command: [...container.command, '--lr=${trialParameters.lr}'] }] } } } },
      },
    },
  };
  const start = (extra: object) => startServer({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, dataDir: join(dir, 'data'), runtime: 'kubernetes', kubeconfig, ...extra });
  const post = (port: number, body: unknown) => fetch(`http://127.0.0.1:${port}/api/v1/studies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  let server = await start({});
  try {
    const refused = await post(server.httpPort, { spec: doc });
    assert.equal(refused.status, 400);
    const error = ((await refused.json()) as { error: { field: string; message: string } }).error;
    assert.equal(error.field, 'spec.spec.algorithm.algorithmSettings[suggestion_trial_dir]'); // the request's `spec`, then the field in it
    assert.match(error.message, /--kube-checkpoint-claim/);
    await server.close();
    server = await start({ checkpointVolume: { claimName: 'ckpt', dir: volumeDir } });
    const created = await post(server.httpPort, { spec: doc });
    assert.equal(created.status, 201, await created.clone().text());
    const ended = await until('the study ends', 40_000, async () => {
      const s = (await (await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/studies/served-pbt`)).json()) as { state: string };
      return ['SUCCEEDED', 'FAILED'].includes(s.state) ? s : undefined;
    });
    assert.equal(ended.state, 'SUCCEEDED', JSON.stringify(ended));
    const creates = kube.requests.filter((r) => r.method === 'POST' && r.path.endsWith('/jobs'));
    const [dryRun, ...more] = creates.filter((r) => r.query.get('dryRun') === 'All').map((r) => r.body!);
    assert.deepEqual(more, [], 'one dry run, at creation');
    assert.deepEqual(dryRun?.['spec'].template.spec.containers[0].volumeMounts, [{ name: 'sibyl-checkpoint', mountPath: '/ckpt', subPath: 'served-pbt/served-pbt-0000' }], 'the dry run mounts the folder as the trials do');
    const jobs = creates.filter((r) => r.query.get('dryRun') === null).map((r) => r.body!);
    assert.equal(jobs.length, 10);
    for (const job of jobs) {
      const name = job['metadata'].name as string;
      assert.deepEqual(job['spec'].template.spec.containers[0].volumeMounts, [{ name: 'sibyl-checkpoint', mountPath: '/ckpt', subPath: `served-pbt/${name}` }]);
      assert.ok(existsSync(join(volumeDir, 'served-pbt', name)), `${name}'s folder`);
    }
    assert.equal((await fetch(`http://127.0.0.1:${server.httpPort}/api/v1/studies/served-pbt`, { method: 'DELETE' })).status, 204);
    assert.ok(!existsSync(join(volumeDir, 'served-pbt')), 'deleting the study deletes its folders on the claim');
  } finally {
    await server.close();
    await kube.close();
  }
});

// ---- end to end ----

test('examples/mlp/pbt.yaml trains a population end to end: labels, checkpoints copied from parents, SUCCEEDED, the same after a kill', { timeout: 180_000 }, async () => {
  const dataDir = join(tempDir(), 'data');
  const run = await runCli(['run', join(EXAMPLES, 'pbt.yaml'), '--data-dir', dataDir]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stdout, /Study mlp-pbt SUCCEEDED \(MaxTrialsReached\)/);
  const trials = JSON.parse((await runCli(['trials', 'mlp-pbt', '--json', '--data-dir', dataDir])).stdout) as {
    name: string; state: string; assignment: { learning_rate: number }; objectiveValue: number; labels: Record<string, string>;
  }[];
  assert.equal(trials.length, 20);
  const byName = new Map(trials.map((t) => [t.name, t]));
  const epochs = (name: string) => [...readFileSync(join(dataDir, 'logs', `${name}.log`), 'utf8').matchAll(/^epoch=(\d+) /gm)].map((m) => Number(m[1]));
  let exploited = 0;
  for (const t of trials) {
    assert.equal(t.state, 'SUCCEEDED');
    const g = Number(t.labels[GENERATION_LABEL]);
    assert.equal(g, Math.floor((Number(t.name.slice(-4)) - 1) / 5), `${t.name}: 5 members per generation`);
    const seen = epochs(t.name);
    assert.equal(seen.length, 40);
    assert.equal(seen[0], 40 * g + 1, `${t.name}: generation ${g} trains epochs ${40 * g + 1}–${40 * g + 40}`);
    const checkpoint = JSON.parse(readFileSync(join(dataDir, 'checkpoints', 'mlp-pbt', t.name, 'checkpoint.json'), 'utf8')) as { epoch: number };
    assert.equal(checkpoint.epoch, 40 * (g + 1));
    const p = t.labels[PARENT_LABEL];
    if (g === 0) {
      assert.equal(p, undefined);
      continue;
    }
    const from = byName.get(p!)!;
    assert.equal(Number(from.labels[GENERATION_LABEL]), g - 1);
    assert.equal(seen[0], epochs(from.name).at(-1)! + 1, `${t.name} continues from ${from.name}'s last epoch`);
    if (t.assignment.learning_rate !== from.assignment.learning_rate) exploited += 1;
  }
  assert.ok(exploited >= 3, `${exploited} trials explored a copied learning rate`);
  const best = Math.max(...trials.slice(15).map((t) => t.objectiveValue));
  const firstBest = Math.max(...trials.slice(0, 5).map((t) => t.objectiveValue));
  assert.ok(best > firstBest, `training on from checkpoints helps (${firstBest} → ${best})`);

  // Killed with SIGKILL while generation 1 runs, then run again: its trials are launched again
  // from fresh copies of their parents' checkpoints, and the study ends exactly as without the kill.
  const crashDir = join(tempDir(), 'data');
  const first = startCli(['run', join(EXAMPLES, 'pbt.yaml'), '--data-dir', crashDir]);
  await new Promise<void>((running) => {
    let out = '';
    first.child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (/mlp-pbt-0008 RUNNING/.test(out)) running();
    });
  });
  await new Promise((r) => setTimeout(r, 700));
  first.child.kill('SIGKILL');
  await first.done;
  const resumed = await runCli(['run', join(EXAMPLES, 'pbt.yaml'), '--data-dir', crashDir]);
  assert.equal(resumed.code, 0, resumed.stderr);
  const again = JSON.parse((await runCli(['trials', 'mlp-pbt', '--json', '--data-dir', crashDir])).stdout) as typeof trials;
  const outcome = (ts: typeof trials) => ts.map((t) => [t.name, t.state, t.assignment, t.labels, t.objectiveValue]);
  assert.deepEqual(outcome(again), outcome(trials), 'random_state makes the run reproducible, and the kill changes nothing');
});
