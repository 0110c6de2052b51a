// `hyperband`: Katib's bracket arithmetic by hand, promotion, failures inside a rung, the end of
// a run, restarts, settings errors, and a simulated study driven like the scheduler drives it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyText } from '../src/spec/parse.js';
import { algorithmInput, validateAlgorithm } from '../src/spec/algorithm.js';
import type { ParameterSpec, StudySpec } from '../src/spec/types.js';
import type { Assignment, Direction, SearchSpace, Settings, SuggestResult, TrialState, TrialView } from '../suggestion-algorithms/model.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { hyperbandAlgorithm, hyperbandSchedule, hyperbandTrialCount, largestRung } from '../suggestion-algorithms/hyperband/index.js';
import { maxBracket } from '../suggestion-algorithms/hyperband/schedule.js';
import { throwsSpecError } from './support/spec-errors.js';

const hb = hyperbandAlgorithm;

const lr: ParameterSpec = { name: 'lr', parameterType: 'double', min: 0.001, max: 1, distribution: 'logUniform' } as ParameterSpec;
const layers: ParameterSpec = { name: 'layers', parameterType: 'int', min: 1, max: 4, distribution: 'uniform' } as ParameterSpec;
const epochs = (max = 9): ParameterSpec => ({ name: 'epochs', parameterType: 'int', min: 1, max, distribution: 'uniform' }) as ParameterSpec;

function space(direction: Direction = 'maximize', parameters: ParameterSpec[] = [lr, layers, epochs()]): SearchSpace {
  return { parameters, direction };
}

const settingsOf = (o: Record<string, string>): Settings => Object.entries(o).map(([name, value]) => ({ name, value }));
const R9 = settingsOf({ resource_name: 'epochs', r_l: '9' }); // eta defaults to 3

/** (bracket, rung, resource) repeated `size` times. */
const rung = (bracket: number, i: number, size: number, resource: number): [number, number, number][] =>
  Array.from({ length: size }, () => [bracket, i, resource]);

// By hand, Katib's formulas, eta 3, r_l 9: s_max = 2.
//   s=2: n = ceil(3·9/3) = 9 at r = 1; then ceil(9/3) = 3 at 3; ceil(ceil(9/3)/3) = 1 at 9.
//   s=1: n = ceil(3·3/2) = 5 at r = 3; then ceil(5/3) = 2 at 9 (Li et al.'s floor would give 1).
//   s=0: n = ceil(3·1/1) = 3 at 9.
const SCHEDULE_9_3 = [...rung(2, 0, 9, 1), ...rung(2, 1, 3, 3), ...rung(2, 2, 1, 9), ...rung(1, 0, 5, 3), ...rung(1, 1, 2, 9), ...rung(0, 0, 3, 9)];
// Katib's example, eta 2, r_l 2: s_max = 1. s=1: n = ceil(2·2/2) = 2 at 1, then 1 at 2; s=0: 2 at 2.
const SCHEDULE_2_2 = [...rung(1, 0, 2, 1), ...rung(1, 1, 1, 2), ...rung(0, 0, 2, 2)];

function studyOf(parameters: ParameterSpec[], settings: Record<string, string>): StudySpec {
  return {
    name: 'hb', namespace: 'default', parameters,
    objective: { type: 'maximize', objectiveMetricName: 'accuracy', additionalMetricNames: [], metricStrategies: [{ name: 'accuracy', value: 'max' }] },
    algorithm: { algorithmName: 'hyperband', algorithmSettings: settingsOf(settings) },
    parallelTrialCount: 9,
    trialTemplate: { trialParameters: [], retain: false },
    metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
  };
}

// ---------------------------------------------------------------- a simulated study

interface Ran {
  readonly trial: TrialView;
  /** The bracket and rung the proposal said it was for (its state). */
  readonly bracket: number;
  readonly rung: number;
}

interface Drive {
  readonly space: SearchSpace;
  readonly settings: Settings;
  readonly seed?: number;
  /** parallelTrialCount: the scheduler asks for parallel − active. */
  readonly parallel: number;
  readonly objective: (a: Assignment) => number;
  /** The end state of the n-th trial (creation order); SUCCEEDED when undefined. */
  readonly outcome?: (a: Assignment, n: number) => TrialState | undefined;
}

/**
 * Drives hyperband as the scheduler does: ask for parallel − active, record the proposals as
 * RUNNING, finish the oldest running trial, repeat until the answer is exhausted with nothing
 * active. Returns every trial in creation order and the calls' answers.
 */
function drive(d: Drive): { ran: Ran[]; answers: SuggestResult[] } {
  const ran: Ran[] = [];
  const answers: SuggestResult[] = [];
  const trials = () => ran.map((r) => r.trial);
  for (let step = 0; step < 10_000; step += 1) {
    const active = ran.filter((r) => r.trial.state === 'RUNNING');
    const count = d.parallel - active.length;
    if (count > 0) {
      const answer = hb.suggest({ space: d.space, trials: trials(), count, seed: d.seed ?? 7, settings: d.settings });
      answers.push(answer);
      assert.ok(answer.assignments.length <= count, 'never more than asked for');
      if (answer.exhausted) {
        assert.equal(answer.assignments.length, 0);
        if (active.length === 0) return { ran, answers };
      }
      for (const assignment of answer.assignments) {
        ran.push({ trial: { name: `t${ran.length}`, state: 'RUNNING', assignment }, bracket: Number(answer.state!.current_s), rung: Number(answer.state!.current_i) });
      }
    }
    const oldest = ran.findIndex((r) => r.trial.state === 'RUNNING');
    assert.ok(oldest >= 0, 'the algorithm neither proposes nor waits for a running trial: a stall');
    const r = ran[oldest]!;
    const state = d.outcome?.(r.trial.assignment, oldest) ?? 'SUCCEEDED';
    const done = state === 'SUCCEEDED' || state === 'EARLY_STOPPED';
    ran[oldest] = { ...r, trial: { ...r.trial, state, ...(done ? { objectiveValue: d.objective(r.trial.assignment) } : {}) } };
  }
  throw new Error('the simulated study did not end');
}

/** More budget and a better learning rate both help; the best lr is 0.3. */
const synthetic = (a: Assignment): number => (a.epochs as number) / 10 - Math.abs(Math.log10((a.lr as number) / 0.3));

const sequence = (ran: readonly Ran[]) => ran.map((r) => [r.bracket, r.rung, r.trial.assignment.epochs as number]);

// ---------------------------------------------------------------- schedule by hand

test('schedule for eta 3, r_l 9: brackets 2, 1, 0 with Katib\'s rung sizes and resources', () => {
  assert.equal(maxBracket(9, 3), 2); // log(9)/log(3) is exactly 2 here; the guard matters below
  assert.deepEqual(
    hyperbandSchedule(9, 3).map((r) => [r.bracket, r.rung, r.size, r.resource]),
    [[2, 0, 9, 1], [2, 1, 3, 3], [2, 2, 1, 9], [1, 0, 5, 3], [1, 1, 2, 9], [0, 0, 3, 9]],
  );
  assert.equal(hyperbandTrialCount(9, 3), 23);
  assert.equal(hyperbandTrialCount(9), 23, 'eta defaults to 3');
  assert.equal(largestRung(9, 3), 9, 'ceil(eta^s_max): the parallelTrialCount Katib asks for');
});

test('schedule for eta 2, r_l 2 (Katib\'s example) and eta 2, r_l 8 (the MLP example)', () => {
  assert.deepEqual(hyperbandSchedule(2, 2).map((r) => [r.bracket, r.rung, r.size, r.resource]), [[1, 0, 2, 1], [1, 1, 1, 2], [0, 0, 2, 2]]);
  assert.equal(hyperbandTrialCount(2, 2), 5);
  // s=3: 8,4,2,1 at 1,2,4,8; s=2: n = ceil(4·4/3) = 6: 6,3,2 at 2,4,8; s=1: 4,2 at 4,8; s=0: 4 at 8.
  assert.deepEqual(
    hyperbandSchedule(8, 2).map((r) => [r.bracket, r.rung, r.size, r.resource]),
    [[3, 0, 8, 1], [3, 1, 4, 2], [3, 2, 2, 4], [3, 3, 1, 8], [2, 0, 6, 2], [2, 1, 3, 4], [2, 2, 2, 8], [1, 0, 4, 4], [1, 1, 2, 8], [0, 0, 4, 8]],
  );
  assert.equal(hyperbandTrialCount(8, 2), 36);
  assert.equal(largestRung(8, 2), 8);
});

test('schedule: float error in s_max is guarded; r_l below eta is one config; rungs end at r_l', () => {
  assert.equal(Math.floor(Math.log(1000) / Math.log(10)), 2, 'the unguarded formula is wrong here');
  assert.equal(maxBracket(1000, 10), 3);
  assert.equal(maxBracket(243, 3), 5);
  assert.deepEqual(hyperbandSchedule(2, 3).map((r) => [r.bracket, r.rung, r.size, r.resource]), [[0, 0, 1, 2]]);
  assert.deepEqual(hyperbandSchedule(0.5, 3).map((r) => [r.bracket, r.rung, r.size, r.resource]), [[0, 0, 1, 0.5]]);
  // R not a power of eta: the last rung of every bracket still gets R itself.
  const r10 = hyperbandSchedule(10, 3);
  assert.deepEqual(r10.filter((r) => r.rung === r.bracket).map((r) => r.resource), [10, 10, 10]);
  assert.equal(hyperbandTrialCount(10, 3), 23);
});

test('resource values: the integer part for an int parameter, the number for a double, not clipped', () => {
  const s = space('maximize', [lr, epochs(5)]);
  const first = hb.suggest({ space: s, trials: [], count: 100, seed: 1, settings: settingsOf({ resource_name: 'epochs', r_l: '10' }) });
  assert.equal(first.assignments.length, 9);
  assert.ok(first.assignments.every((a) => a.epochs === 1)); // int(10/9)
  const { ran } = drive({ space: s, settings: settingsOf({ resource_name: 'epochs', r_l: '10' }), parallel: 9, objective: synthetic });
  assert.deepEqual([...new Set(ran.map((r) => r.trial.assignment.epochs))], [1, 3, 10], 'beyond the parameter\'s max of 5, as in Katib');
  const frac: ParameterSpec = { name: 'fraction', parameterType: 'double', min: 0.01, max: 1, distribution: 'uniform' } as ParameterSpec;
  const d = drive({ space: space('maximize', [lr, frac]), settings: settingsOf({ resource_name: 'fraction', r_l: '10' }), parallel: 9, objective: (a) => (a.fraction as number) - Math.abs(Math.log10(a.lr as number)) });
  assert.deepEqual([...new Set(d.ran.map((r) => r.trial.assignment.fraction))], [1.11111111111, 3.33333333333, 10]);
});

// ---------------------------------------------------------------- the run, end to end in memory

test('simulated study, eta 3, r_l 9: every bracket and rung in Katib\'s order, then exhausted', () => {
  for (const parallel of [9, 4, 1, 30]) {
    const { ran, answers } = drive({ space: space(), settings: R9, parallel, objective: synthetic });
    assert.deepEqual(sequence(ran), SCHEDULE_9_3, `parallel ${parallel}`);
    assert.equal(ran.length, hyperbandTrialCount(9, 3));
    assert.equal(answers.at(-1)!.exhausted, true);
    assert.equal(answers.filter((a) => a.exhausted).length, 1, 'exhausted only once everything has run');
    // A promoted config is a config of the rung before, with the larger resource only.
    const configs = (b: number, i: number) => ran.filter((r) => r.bracket === b && r.rung === i).map((r) => JSON.stringify({ ...r.trial.assignment, epochs: 0 }));
    for (const [b, i] of [[2, 1], [2, 2], [1, 1]] as const) for (const c of configs(b, i)) assert.ok(configs(b, i - 1).includes(c));
  }
});

test('simulated study, eta 2, r_l 2 (Katib\'s example), minimising', () => {
  const s = space('minimize', [lr, layers, { ...epochs(1), name: 'epochs' } as ParameterSpec]);
  const { ran } = drive({ space: s, settings: settingsOf({ resource_name: 'epochs', r_l: '2', eta: '2' }), parallel: 2, objective: (a) => -synthetic(a) });
  assert.deepEqual(sequence(ran), SCHEDULE_2_2);
});

test('the first rung is proposed as far as asked, and no further', () => {
  const one = hb.suggest({ space: space(), trials: [], count: 4, seed: 3, settings: R9 });
  const all = hb.suggest({ space: space(), trials: [], count: 100, seed: 3, settings: R9 });
  assert.equal(one.assignments.length, 4);
  assert.equal(all.assignments.length, 9, 'the rung has 9 configs; the next one waits for them');
  assert.deepEqual(one.assignments, all.assignments.slice(0, 4));
  assert.deepEqual(all.state, { current_s: '2', current_i: '0' });
  assert.equal(all.exhausted, undefined);
  // The rest of the rung, after four were recorded.
  const four = one.assignments.map((assignment, i): TrialView => ({ name: `t${i}`, state: 'RUNNING', assignment }));
  assert.deepEqual(hb.suggest({ space: space(), trials: four, count: 100, seed: 3, settings: R9 }).assignments, all.assignments.slice(4));
  assert.equal(hb.suggest({ space: space(), trials: four, count: 0, seed: 3, settings: R9 }).assignments.length, 0);
});

// ---------------------------------------------------------------- promotion and waiting

/** The 9 configs of the first rung, recorded with the given states and values. */
function firstRung(direction: Direction, values: (number | TrialState)[], seed = 5): TrialView[] {
  const { assignments } = hb.suggest({ space: space(direction), trials: [], count: 9, seed, settings: R9 });
  return assignments.map((assignment, i) => {
    const v = values[i]!;
    return typeof v === 'number'
      ? { name: `t${i}`, state: 'SUCCEEDED', assignment, objectiveValue: v }
      : { name: `t${i}`, state: v, assignment };
  });
}

const withoutResource = (a: Assignment) => ({ ...a, epochs: undefined });

test('promotion: the top configs by value, best first, maximize and minimize', () => {
  const values = [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6, 0.4];
  const max = firstRung('maximize', values);
  const up = hb.suggest({ space: space('maximize'), trials: max, count: 9, seed: 5, settings: R9 });
  assert.deepEqual(up.state, { current_s: '2', current_i: '1' });
  assert.deepEqual(up.assignments.map(withoutResource), [1, 5, 3].map((i) => withoutResource(max[i]!.assignment)));
  assert.ok(up.assignments.every((a) => a.epochs === 3));

  const min = firstRung('minimize', values);
  const down = hb.suggest({ space: space('minimize'), trials: min, count: 9, seed: 5, settings: R9 });
  assert.deepEqual(down.assignments.map(withoutResource), [2, 6, 4].map((i) => withoutResource(min[i]!.assignment)));
});

test('promotion: an early-stopped trial counts with its value; ties keep creation order', () => {
  const trials = firstRung('maximize', [0.5, 0.5, 0.1, 0.5, 0.3, 0.2, 0.2, 0.2, 0.2]);
  trials[8] = { ...trials[8]!, state: 'EARLY_STOPPED', objectiveValue: 0.95 };
  const up = hb.suggest({ space: space(), trials, count: 9, seed: 5, settings: R9 });
  assert.deepEqual(up.assignments.map(withoutResource), [8, 0, 1].map((i) => withoutResource(trials[i]!.assignment)));
});

test('waiting: while a rung runs, no assignments and not exhausted, whatever the count', () => {
  const trials = firstRung('maximize', [0.5, 0.9, 0.1, 0.7, 0.3, 0.8, 0.2, 0.6, 0.4]);
  for (const state of ['RUNNING', 'CREATED'] as const) {
    const waiting = trials.map((t, i) => (i === 4 ? { name: t.name, state, assignment: t.assignment } : t));
    for (const count of [1, 3, 100]) {
      const r = hb.suggest({ space: space(), trials: waiting, count, seed: 5, settings: R9 });
      assert.deepEqual(r.assignments, []);
      assert.notEqual(r.exhausted, true);
      assert.deepEqual(r.state, { current_s: '2', current_i: '0' });
    }
  }
});

test('failures inside a rung: FAILED, KILLED and METRICS_UNAVAILABLE are not promoted and do not stall', () => {
  const trials = firstRung('maximize', [0.5, 'FAILED', 0.1, 'KILLED', 0.3, 'METRICS_UNAVAILABLE', 0.2, 0.6, 0.4]);
  const up = hb.suggest({ space: space(), trials, count: 9, seed: 5, settings: R9 });
  assert.deepEqual(up.assignments.map(withoutResource), [7, 0, 8].map((i) => withoutResource(trials[i]!.assignment)));
  // A SUCCEEDED trial without a value (none was reported) is not promoted either.
  const noValue = trials.map((t, i) => (i === 7 ? { name: t.name, state: 'SUCCEEDED' as const, assignment: t.assignment } : t));
  assert.deepEqual(
    hb.suggest({ space: space(), trials: noValue, count: 9, seed: 5, settings: R9 }).assignments.map(withoutResource),
    [0, 8, 4].map((i) => withoutResource(trials[i]!.assignment)),
  );
});

test('failures: a study with failed trials in several rungs still runs every bracket to the end', () => {
  // Trials 1 and 10 (one in bracket 2's first rung, one in its second) fail; so does every
  // trial of bracket 1's first rung but one, which leaves its second rung a single config.
  const failing = new Set([1, 10, 13, 14, 15, 16]);
  const { ran, answers } = drive({ space: space(), settings: R9, parallel: 3, objective: synthetic, outcome: (_a, n) => (failing.has(n) ? 'FAILED' : undefined) });
  assert.deepEqual(sequence(ran), [...rung(2, 0, 9, 1), ...rung(2, 1, 3, 3), ...rung(2, 2, 1, 9), ...rung(1, 0, 5, 3), ...rung(1, 1, 1, 9), ...rung(0, 0, 3, 9)]);
  assert.equal(answers.at(-1)!.exhausted, true);
  // A rung with no value at all promotes nothing: its bracket ends there.
  const allFail = drive({ space: space(), settings: R9, parallel: 9, objective: synthetic, outcome: (_a, n) => (n < 9 ? 'FAILED' : undefined) });
  assert.deepEqual(sequence(allFail.ran), [...rung(2, 0, 9, 1), ...rung(1, 0, 5, 3), ...rung(1, 1, 2, 9), ...rung(0, 0, 3, 9)]);
});

test('a re-offered assignment (an ask/tell retry) takes over the slot of the trial that failed', () => {
  const trials = firstRung('maximize', [0.5, 0.2, 0.1, 0.7, 0.3, 0.8, 'FAILED', 0.6, 0.4]);
  const retry: TrialView = { name: 'retry', state: 'RUNNING', assignment: trials[6]!.assignment };
  const waiting = hb.suggest({ space: space(), trials: [...trials, retry], count: 9, seed: 5, settings: R9 });
  assert.deepEqual(waiting.assignments, [], 'the rung waits for the retry');
  const done = hb.suggest({ space: space(), trials: [...trials, { ...retry, state: 'SUCCEEDED', objectiveValue: 0.99 }], count: 9, seed: 5, settings: R9 });
  assert.deepEqual(done.assignments.map(withoutResource), [6, 5, 3].map((i) => withoutResource(trials[i]!.assignment)));
});

test('finite spaces: a first rung repeats no config while the space has others, and runs when it has too few', () => {
  const opt = { name: 'opt', parameterType: 'categorical', list: ['sgd', 'adam', 'ftrl'] } as ParameterSpec;
  const small = space('maximize', [layers, opt, epochs()]); // 12 configs
  const first = hb.suggest({ space: small, trials: [], count: 9, seed: 2, settings: R9 });
  assert.equal(new Set(first.assignments.map((a) => JSON.stringify(a))).size, 9);
  const tiny = space('maximize', [{ ...opt, list: ['sgd', 'adam'] } as ParameterSpec, epochs()]); // 2 configs
  const { ran } = drive({ space: tiny, settings: R9, parallel: 9, objective: (a) => (a.epochs as number) + (a.opt === 'adam' ? 1 : 0) });
  assert.deepEqual(sequence(ran), SCHEDULE_9_3);
  assert.equal(new Set(ran.slice(0, 9).map((r) => r.trial.assignment.opt)).size, 2);
});

test('trials that fit no slot (another algorithm\'s) are ignored', () => {
  const foreign: TrialView = { name: 'x', state: 'RUNNING', assignment: { lr: 0.5, layers: 2, epochs: 4 } };
  const r = hb.suggest({ space: space(), trials: [foreign], count: 9, seed: 5, settings: R9 });
  assert.deepEqual(r.assignments, hb.suggest({ space: space(), trials: [], count: 9, seed: 5, settings: R9 }).assignments);
});

// ---------------------------------------------------------------- the end

test('exhausted: after the last rung of bracket 0 has run, and not while it runs', () => {
  const { ran } = drive({ space: space(), settings: R9, parallel: 9, objective: synthetic });
  const trials = ran.map((r) => r.trial);
  const end = hb.suggest({ space: space(), trials, count: 5, seed: 7, settings: R9 });
  assert.deepEqual(end, { assignments: [], exhausted: true, state: { current_s: '-1', current_i: '-1' } });
  const lastRunning = trials.map((t, i) => (i === trials.length - 1 ? { name: t.name, state: 'RUNNING' as const, assignment: t.assignment } : t));
  const waiting = hb.suggest({ space: space(), trials: lastRunning, count: 5, seed: 7, settings: R9 });
  assert.deepEqual(waiting.assignments, []);
  assert.notEqual(waiting.exhausted, true);
});

// ---------------------------------------------------------------- determinism

test('determinism: the same trials give the same proposals (a restart changes nothing); the seed matters', () => {
  const a = drive({ space: space(), settings: R9, parallel: 4, objective: synthetic, seed: 11 });
  const b = drive({ space: space(), settings: R9, parallel: 4, objective: synthetic, seed: 11 });
  assert.deepEqual(a.ran, b.ran);
  // Any prefix of the history, asked again (as after a restart), proposes what came next.
  const trials = a.ran.map((r) => r.trial);
  for (const k of [0, 5, 9, 12, 13, 18]) {
    const fresh = trials.slice(0, k).map((t) => t);
    const again = hb.suggest({ space: space(), trials: fresh, count: 1, seed: 11, settings: R9 });
    assert.deepEqual(again.assignments[0], trials[k]!.assignment, `after ${k} trials`);
  }
  // The state passed back is not needed and not trusted.
  const withState = hb.suggest({ space: space(), trials: trials.slice(0, 9), count: 3, seed: 11, settings: R9, state: { current_s: '0', current_i: '0' } });
  assert.deepEqual(withState.assignments, trials.slice(9, 12).map((t) => t.assignment));
  const other = drive({ space: space(), settings: R9, parallel: 4, objective: synthetic, seed: 12 });
  assert.notDeepEqual(other.ran[0]!.trial.assignment, a.ran[0]!.trial.assignment);
  // Different brackets draw different configs.
  assert.notDeepEqual(withoutResource(a.ran[13]!.trial.assignment), withoutResource(a.ran[0]!.trial.assignment));
});

// ---------------------------------------------------------------- settings

test('settings: errors name the setting', () => {
  const p = [lr, layers, epochs()];
  const at = (setting: string) => `spec.algorithm.algorithmSettings[${setting}]`;
  const cases: [Record<string, string>, string, RegExp, ParameterSpec[]?][] = [
    [{ r_l: '9' }, at('resource_name'), /^is required by algorithm "hyperband"/],
    [{ resource_name: 'steps', r_l: '9' }, at('resource_name'), /^must name one of the parameters \(got "steps"; parameters: lr, layers, epochs\)$/],
    [{ resource_name: 'opt', r_l: '9' }, at('resource_name'), /^must name an int or double parameter \("opt" is categorical\)$/,
      [lr, { name: 'opt', parameterType: 'categorical', list: ['sgd', 'adam'] } as ParameterSpec]],
    [{ resource_name: 'e', r_l: '9' }, at('resource_name'), /^must name an int or double parameter \("e" is discrete\)$/,
      [lr, { name: 'e', parameterType: 'discrete', list: [1, 3, 9] } as ParameterSpec]],
    [{ resource_name: 'epochs' }, at('r_l'), /^is required by algorithm "hyperband"/],
    [{ resource_name: 'epochs', r_l: '0' }, at('r_l'), /^must be a number > 0 \(got "0"\)$/],
    [{ resource_name: 'epochs', r_l: '-9' }, at('r_l'), /^must be a number > 0/],
    [{ resource_name: 'epochs', r_l: 'nine' }, at('r_l'), /^must be a number > 0/],
    [{ resource_name: 'epochs', r_l: '0.5' }, at('r_l'), /^must be ≥ 1 when the resource parameter "epochs" is an int/],
    [{ resource_name: 'epochs', r_l: '1e12', eta: '2' }, at('r_l'), /^too large for eta 2/],
    [{ resource_name: 'epochs', r_l: '9', eta: '1' }, at('eta'), /^must be a number ≥ 2 \(got 1; leave it out for the default 3\)$/],
    [{ resource_name: 'epochs', r_l: '9', eta: '1.5' }, at('eta'), /^must be a number ≥ 2/],
    [{ resource_name: 'epochs', r_l: '9', eta: '0.5' }, at('eta'), /^must be a number ≥ 2/],
    [{ resource_name: 'epochs', r_l: '9', eta: 'three' }, at('eta'), /^must be a number \(got "three"\)$/],
    [{ resource_name: 'epochs', r_l: '9', random_state: '1' }, at('random_state'), /^unknown setting for algorithm "hyperband" \(known: eta, r_l, resource_name\)$/],
  ];
  for (const [settings, field, reason, parameters] of cases) throwsSpecError(() => validateAlgorithm(studyOf(parameters ?? p, settings)), field, reason);
  // Accepted: a double resource below 1, a real eta, Katib's eta ≤ 0 (which means 3).
  const frac = { name: 'fraction', parameterType: 'double', min: 0.1, max: 1, distribution: 'uniform' } as ParameterSpec;
  validateAlgorithm(studyOf([lr, frac], { resource_name: 'fraction', r_l: '0.5' }));
  validateAlgorithm(studyOf(p, { resource_name: 'epochs', r_l: '9', eta: '2.5' }));
  for (const eta of ['0', '-1', '']) {
    const spec = studyOf(p, { resource_name: 'epochs', r_l: '9', eta });
    validateAlgorithm(spec);
    const first = getAlgorithm('hyperband')!.suggest({ ...algorithmInput(spec), trials: [], count: 100, seed: 1 });
    assert.equal(first.assignments.length, 9, `eta ${JSON.stringify(eta)} runs as eta 3`);
  }
});

// ---------------------------------------------------------------- Katib's own example

test('Katib\'s hyperband example parses as it is, and its first bracket is 2 configs at 1 epoch', () => {
  const text = readFileSync(fileURLToPath(new URL('../../test/fixtures/katib/hyperband.yaml', import.meta.url)), 'utf8');
  const spec = parseStudyText(text);
  assert.equal(spec.name, 'hyperband');
  assert.equal(spec.algorithm.algorithmName, 'hyperband');
  assert.deepEqual(spec.parameters.map((p) => p.name), ['lr', 'momentum', 'num-epochs']);
  const input = algorithmInput(spec);
  const first = hb.suggest({ ...input, trials: [], count: spec.parallelTrialCount, seed: 1 });
  assert.equal(first.assignments.length, 2);
  assert.ok(first.assignments.every((a) => a['num-epochs'] === 1));
  // Katib's example runs 5 trials in all; its maxTrialCount of 2 stops it after the first rung.
  assert.equal(hyperbandTrialCount(2, 2), 5);
  assert.equal(spec.maxTrialCount, 2);
});

test('a one-point range (min = max) is allowed for the resource parameter only, as Katib\'s example needs', () => {
  const text = readFileSync(fileURLToPath(new URL('../../test/fixtures/katib/hyperband.yaml', import.meta.url)), 'utf8');
  const field = 'spec.parameters[2].feasibleSpace.min';
  // Another algorithm samples num-epochs, so [1, 1] is the mistake it usually is.
  assert.throws(() => parseStudyText(text.replace('algorithmName: hyperband', 'algorithmName: random').replace(/ {6}- name: "(resource_name|eta|r_l)"\n {8}value: "[^"]*"\n/g, '')), (e: unknown) => e instanceof SpecError && e.field === field);
  // Under hyperband, only the parameter named by resource_name.
  assert.throws(() => parseStudyText(text.replace('value: "num-epochs"', 'value: "lr"')), (e: unknown) => e instanceof SpecError && e.field === field);
  // min > max stays wrong even there.
  assert.throws(() => parseStudyText(text.replace('min: "1"\n        max: "1"', 'min: "2"\n        max: "1"')), (e: unknown) => e instanceof SpecError && e.field === field);
});
