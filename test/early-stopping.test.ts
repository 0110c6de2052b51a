// The early-stopping policies' decisions against hand-computed cases (medianstop, asha, curvefit).
import assert from 'node:assert/strict';
import test from 'node:test';
import { ashaPolicy } from '../suggestion-algorithms/early-stopping/asha.js';
import { bestOfCurve } from '../suggestion-algorithms/early-stopping/curve.js';
import { curveFitPolicy } from '../suggestion-algorithms/early-stopping/curvefit.js';
import { medianStopPolicy } from '../suggestion-algorithms/early-stopping/medianstop.js';
import type { CurveView, EarlyStoppingPolicy, StopRequest } from '../suggestion-algorithms/early-stopping/model.js';
import { SettingsError, type Direction, type TrialState } from '../suggestion-algorithms/model.js';

/** A trial whose reports are `values` at steps 1, 2, … (or at the given steps). */
const trial = (name: string, state: TrialState, values: number[], steps = values.map((_, i) => i + 1)): CurveView => ({ name, state, curve: { steps, values } });
const done = (name: string, values: number[]) => trial(name, 'SUCCEEDED', values);

interface Case {
  readonly name: string;
  readonly direction?: Direction;
  readonly settings?: Record<string, string>;
  readonly others: CurveView[];
  /** The decided trial's reports (RUNNING). */
  readonly own: number[];
  readonly ownSteps?: number[];
  readonly judgedThrough?: number;
  /** The step it is stopped at, or undefined to go on. */
  readonly stopAt: number | undefined;
}

function decide(policy: EarlyStoppingPolicy, c: Case) {
  const own = trial('t', 'RUNNING', c.own, c.ownSteps);
  const request: StopRequest = {
    direction: c.direction ?? 'maximize',
    settings: Object.entries(c.settings ?? {}).map(([name, value]) => ({ name, value })),
    trials: [...c.others, own],
    trial: 't',
    judgedThrough: c.judgedThrough ?? 0,
  };
  return policy.decide(request);
}

function table(policy: EarlyStoppingPolicy, cases: Case[]): void {
  for (const c of cases) {
    test(`${policy.name}: ${c.name}`, () => {
      const d = decide(policy, c);
      assert.equal(d.stop ? d.step : undefined, c.stopAt, d.stop ? d.reason : 'went on');
      if (d.stop) assert.match(d.reason, /\d/);
    });
  }
}

const three = [done('a', [0.1, 0.1, 0.1, 0.1]), done('b', [0.5, 0.5, 0.5, 0.5]), done('c', [0.6, 0.6, 0.6, 0.6])];

table(medianStopPolicy, [
  { name: 'too few completed trials (2 of the 3 required): goes on however bad', others: three.slice(0, 2), own: [0, 0, 0, 0], stopAt: undefined },
  { name: 'before start_step (step 3 of 4): goes on', others: three, own: [0, 0, 0], stopAt: undefined },
  { name: 'at start_step, worse than the median: stopped at step 4', others: three, own: [0, 0, 0, 0], stopAt: 4 },
  // Averages 0.1, 0.5, 0.6: the mean (Katib) is 0.4, the median 0.5. Best 0.45 stops under the median only.
  { name: 'between the mean and the median of the averages: stopped (true median, not Katib\'s mean)', others: three, own: [0.45, 0.45, 0.45, 0.45], stopAt: 4 },
  { name: 'best value equal to the median: a tie goes on', others: three, own: [0.2, 0.5, 0.3, 0.3], stopAt: undefined },
  { name: 'the best value so far counts, not the latest', others: three, own: [0.9, 0.1, 0.1, 0.1], stopAt: undefined },
  {
    name: 'running averages up to the same step: completed curves that rise later do not count their later values',
    others: [done('a', [0.2, 0.2, 0.2, 0.2, 0.2, 1]), done('b', [0.3, 0.3, 0.3, 0.3, 1, 1]), done('c', [0.4, 0.4, 0.4, 0.4, 1, 1])],
    own: [0.35, 0.35, 0.35, 0.35],
    stopAt: undefined, // median at step 4 is 0.3 (by step 6 it would be 0.533…)
  },
  {
    name: 'later step: the median of the running averages by then',
    others: [done('a', [0.2, 0.2, 0.2, 0.2, 0.2, 1]), done('b', [0.3, 0.3, 0.3, 0.3, 1, 1]), done('c', [0.4, 0.4, 0.4, 0.4, 1, 1])],
    own: [0.35, 0.35, 0.35, 0.35, 0.35, 0.35],
    judgedThrough: 5,
    stopAt: 6, // averages by step 6: 0.3333, 0.5333, 0.6: median 0.5333 > 0.35
  },
  {
    name: 'several reports at once: each new step is judged in order, so it stops where one-by-one reports would',
    others: [done('a', [0.2, 0.2, 0.2, 0.2, 0.2, 1]), done('b', [0.3, 0.3, 0.3, 0.3, 1, 1]), done('c', [0.4, 0.4, 0.4, 0.4, 1, 1])],
    own: [0.35, 0.35, 0.35, 0.35, 0.35, 0.35],
    judgedThrough: 3,
    stopAt: 5, // step 4: median 0.3, goes on; step 5: averages 0.2, 0.44, 0.52, median 0.44 > 0.35
  },
  {
    name: 'steps already judged are not judged again',
    others: three,
    own: [0, 0, 0, 0, 0],
    judgedThrough: 4,
    stopAt: 5,
  },
  {
    name: 'an even number of completed trials: the mean of the middle two',
    others: [...three, done('d', [0.8, 0.8, 0.8, 0.8])],
    own: [0.54, 0.54, 0.54, 0.54],
    stopAt: 4, // averages 0.1, 0.5, 0.6, 0.8: median 0.55
  },
  {
    name: 'only SUCCEEDED trials make the median (running, failed and stopped ones do not)',
    others: [...three.slice(0, 2), trial('r', 'RUNNING', [0.9, 0.9, 0.9, 0.9]), trial('f', 'FAILED', [0.9, 0.9, 0.9, 0.9]), trial('e', 'EARLY_STOPPED', [0.9, 0.9, 0.9, 0.9])],
    own: [0, 0, 0, 0],
    stopAt: undefined,
  },
  { name: 'minimise: worse (higher) than the median is stopped', direction: 'minimize', others: [done('a', [1, 1, 1, 1]), done('b', [2, 2, 2, 2]), done('c', [3, 3, 3, 3])], own: [2.5, 2.5, 2.5, 2.5], stopAt: 4 },
  { name: 'minimise: better (lower) than the median goes on', direction: 'minimize', others: [done('a', [1, 1, 1, 1]), done('b', [2, 2, 2, 2]), done('c', [3, 3, 3, 3])], own: [1.5, 1.5, 1.5, 1.5], stopAt: undefined },
  { name: 'settings: start_step 2, min_trials_required 1', settings: { start_step: '2', min_trials_required: '1' }, others: [done('a', [0.5, 0.5])], own: [0.1, 0.1], stopAt: 2 },
  { name: 'a step already judged is not judged again (a restart re-reads the output)', others: three, own: [0, 0, 0, 0], judgedThrough: 4, stopAt: undefined },
  { name: 'steps as reported (10, 20, …), not counts', settings: { start_step: '30' }, others: three, own: [0, 0], ownSteps: [10, 20], stopAt: undefined },
]);

// Rungs at steps 1, 3, 9, 27 (min_resource 1, η 3, rate 0).
table(ashaPolicy, [
  { name: 'the first trial at a rung goes on', others: [], own: [0.1], stopAt: undefined },
  { name: 'fewer than η trials at the rung: only the best goes on (a worse second one stops)', others: [trial('a', 'RUNNING', [0.5])], own: [0.4], stopAt: 1 },
  { name: 'fewer than η trials: a better second one goes on', others: [trial('a', 'RUNNING', [0.5])], own: [0.6], stopAt: undefined },
  {
    name: 'six at rung 1 (step 3): the best ⌊6/3⌋ = 2 go on, the third stops',
    others: [0.9, 0.8, 0.5, 0.4, 0.3].map((v, i) => done(`d${i}`, [1, 1, v])),
    own: [1, 1, 0.7], stopAt: 3,
  },
  { name: 'six at rung 1: the second best goes on', others: [0.9, 0.5, 0.5, 0.4, 0.3].map((v, i) => done(`d${i}`, [1, 1, v])), own: [1, 1, 0.8], stopAt: undefined },
  { name: 'a tie with the last kept value goes on', others: [0.9, 0.8, 0.5, 0.4, 0.3].map((v, i) => done(`d${i}`, [1, 1, v])), own: [1, 1, 0.8], stopAt: undefined },
  { name: 'stopped and failed trials compete at the rungs they reached', others: [0.9, 0.8].map((v, i) => trial(`e${i}`, i ? 'FAILED' : 'EARLY_STOPPED', [1, 1, v])), own: [1, 1, 0.7], stopAt: 3 },
  { name: 'minimise: the lowest go on', direction: 'minimize', others: [trial('a', 'SUCCEEDED', [0.2]), trial('b', 'SUCCEEDED', [0.3])], own: [0.25], stopAt: 1 },
  { name: 'the rung value is the first report at or past the rung (steps 2, 4 for rung 3)', others: [trial('a', 'SUCCEEDED', [0.5, 0.9], [2, 3])], own: [0.6, 0.8], ownSteps: [2, 4], stopAt: 4 },
  { name: 'a rung passed before the last judged step is not judged again', others: [trial('a', 'RUNNING', [0.5])], own: [0.4, 0.4], judgedThrough: 1, stopAt: undefined },
  { name: 'min_early_stopping_rate 1: the first rung is at step 3, step 2 is never judged', settings: { min_early_stopping_rate: '1' }, others: [trial('a', 'RUNNING', [0.5, 0.5])], own: [0.1, 0.1], stopAt: undefined },
  { name: 'reports jumping over two rungs: judged at each, stopped at the one it fails', others: [trial('a', 'RUNNING', [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.9])], own: [0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 0.5], stopAt: 9 },
  { name: 'reduction_factor 2, min_resource 2: rungs at 2, 4, 8', settings: { reduction_factor: '2', min_resource: '2' }, others: [trial('a', 'RUNNING', [0, 0.9, 0, 0.9])], own: [0, 0.5, 0, 0.95], stopAt: 2 },
]);

// curvefit: the bar is the best completed trial, here 0.7973 (a saturating curve of 20 steps, so the horizon is step 20).
const saturating = (n: number, level: number, scale: number, tau: number) => Array.from({ length: n }, (_, i) => level - scale * Math.exp(-(i + 1) / tau));
const bar = done('bar', saturating(20, 0.8, 0.4, 4));
/** A flat curve at `level` with a fixed ±0.012 wobble, 12 reports. */
const plateau = (level: number) => [1, -1, 0.5, -0.8, 0.9, -0.3, 0.7, -1, 0.2, -0.6, 1, -0.4].map((p) => Math.round((level + 0.012 * p) * 1e4) / 1e4);
const long = done('long', [...saturating(80, 0.8, 0.4, 4)]); // the same bar, training to step 80
const curveFitCases: Case[] = [
  { name: 'no completed trial: goes on however flat and low', others: [trial('r', 'RUNNING', saturating(20, 0.8, 0.4, 4))], own: [0.5, 0.52, 0.51, 0.52, 0.51, 0.52], stopAt: undefined },
  { name: 'flat far below the best completed trial: stopped at step 6', others: [bar], own: [0.5, 0.52, 0.51, 0.52, 0.51, 0.52], stopAt: 6 },
  { name: 'five reports are too few for a fit (three parameters and the noise): goes on', others: [bar], own: [0.5, 0.52, 0.51, 0.52, 0.51], stopAt: undefined },
  { name: 'before start_step: goes on', settings: { start_step: '8' }, others: [bar], own: [0.5, 0.52, 0.51, 0.52, 0.51, 0.52, 0.51], stopAt: undefined },
  { name: 'best value so far already at the bar: goes on', others: [bar], own: [0.5, 0.8, 0.51, 0.52, 0.51, 0.52], stopAt: undefined },
  // 0.30 + 0.02 (t − 1) reaches 0.68 by step 20 even as a straight line: no fit saves it.
  { name: 'climbing, but not fast enough to reach the bar by the horizon even linearly: stopped', others: [bar], own: [0.3, 0.32, 0.34, 0.36, 0.38, 0.4], stopAt: 6 },
  { name: 'the same slow starter when training runs to step 80: its linear extrapolation passes the bar, goes on', others: [long], own: [0.3, 0.32, 0.34, 0.36, 0.38, 0.4], stopAt: undefined },
  { name: 'final_step 20 overrides the horizon of the completed trials: stopped', settings: { final_step: '20' }, others: [long], own: [0.3, 0.32, 0.34, 0.36, 0.38, 0.4], stopAt: 6 },
  { name: 'flattened just under the bar (0.78 against 0.797): stopped at step 6, its first with reports enough', others: [bar], own: saturating(12, 0.78, 0.4, 3), stopAt: 6 },
  { name: 'flattening towards the bar but noisy: margin 2 lets it go on', others: [bar], own: [0.6, 0.7, 0.72, 0.74, 0.71, 0.76, 0.73, 0.77], stopAt: undefined },
  { name: 'the same noisy curve with margin 0 (the fit alone): stopped', settings: { margin: '0' }, others: [bar], own: [0.6, 0.7, 0.72, 0.74, 0.71, 0.76, 0.73, 0.77], stopAt: 6 },
  // A plateau at 0.77 ± 0.012 (12 reports): its fitted mean ends at 0.7675 and the mean's own bound at 0.793, under the
  // bar; but a report there has the noise too (the bar is a report: the best completed one), and that bound is 0.802.
  { name: 'a noisy plateau whose mean ends under the bar but whose reports can reach it: goes on', others: [bar], own: plateau(0.77), stopAt: undefined },
  { name: 'the same plateau 0.01 lower: by step 10 even its reports cannot reach the bar, stopped', others: [bar], own: plateau(0.76), stopAt: 10 },
  {
    name: 'only SUCCEEDED trials make the bar (running, failed and stopped ones do not)',
    others: [trial('r', 'RUNNING', [0.9, 0.9, 0.9, 0.9, 0.9, 0.9]), trial('f', 'FAILED', [0.9]), trial('e', 'EARLY_STOPPED', [0.9])],
    own: [0.5, 0.52, 0.51, 0.52, 0.51, 0.52], stopAt: undefined,
  },
  { name: 'min_trials_required 2 with one completed trial: goes on', settings: { min_trials_required: '2' }, others: [bar], own: [0.5, 0.52, 0.51, 0.52, 0.51, 0.52], stopAt: undefined },
  { name: 'a step already judged is not judged again', others: [bar], own: [0.5, 0.52, 0.51, 0.52, 0.51, 0.52], judgedThrough: 6, stopAt: undefined },
  {
    name: 'minimise: a loss flattening above the best completed loss is stopped',
    direction: 'minimize',
    others: [done('low', saturating(20, 0.8, 0.4, 4).map((v) => 1 - v))],
    own: [0.5, 0.48, 0.49, 0.48, 0.49, 0.48], stopAt: 6,
  },
  {
    name: 'minimise: a loss still falling fast enough goes on',
    direction: 'minimize',
    others: [done('low', saturating(80, 0.8, 0.4, 4).map((v) => 1 - v))],
    own: [0.7, 0.68, 0.66, 0.64, 0.62, 0.6], stopAt: undefined,
  },
];
table(curveFitPolicy, curveFitCases);

test('curvefit: reports one at a time stop a trial at the same step as the same reports in one batch, in every case above', () => {
  for (const c of curveFitCases) {
    const batch = decide(curveFitPolicy, c);
    let oneByOne: number | undefined;
    const steps = c.ownSteps ?? c.own.map((_, i) => i + 1);
    for (let k = 1; k <= c.own.length && oneByOne === undefined; k++) {
      const d = decide(curveFitPolicy, { ...c, own: c.own.slice(0, k), ownSteps: steps.slice(0, k), judgedThrough: Math.max(c.judgedThrough ?? 0, k > 1 ? steps[k - 2]! : 0) });
      if (d.stop) oneByOne = d.step;
    }
    assert.equal(batch.stop ? batch.step : undefined, oneByOne, c.name);
  }
});

test('curvefit: a batch of many new steps is judged at a bounded number of them, its last among them', () => {
  // 500 flat reports far below the bar, in one batch after step 6 was judged: stopped, at a judged step past 6.
  const own = Array.from({ length: 500 }, (_, i) => 0.5 + (i % 2) * 0.01);
  const d = decide(curveFitPolicy, { name: 'batch', others: [long], own, judgedThrough: 6, stopAt: undefined });
  assert.ok(d.stop && d.step > 6 && d.step <= 500, d.stop ? `stopped at ${d.step}` : 'went on');
  const started = performance.now();
  decide(curveFitPolicy, { name: 'batch', others: [long], own: own.map((v, i) => v + i / 1000), judgedThrough: 6, stopAt: undefined });
  assert.ok(performance.now() - started < 500, 'one decision over 494 new steps stays cheap');
});

test('katibRules: curvefit has no static form, so none', () => {
  assert.deepEqual(curveFitPolicy.katibRules({ direction: 'maximize', settings: [], trials: [bar] }), []);
});

test('katibRules: medianstop emits one rule in Katib\'s format once enough trials completed', () => {
  const base = { direction: 'maximize' as const, settings: [] };
  assert.deepEqual(medianStopPolicy.katibRules({ ...base, trials: three.slice(0, 2) }), []);
  assert.deepEqual(medianStopPolicy.katibRules({ ...base, trials: three }), [{ value: 0.5, comparison: 'LESS', startStep: 4 }]);
  assert.deepEqual(medianStopPolicy.katibRules({ ...base, direction: 'minimize', trials: three }), [{ value: 0.5, comparison: 'GREATER', startStep: 4 }]);
});

test('katibRules: asha emits its first rung as a threshold from that step', () => {
  const trials = [0.9, 0.8, 0.5, 0.4, 0.3, 0.2].map((v, i) => done(`d${i}`, [v]));
  assert.deepEqual(ashaPolicy.katibRules({ direction: 'maximize', settings: [], trials }), [{ value: 0.8, comparison: 'LESS', startStep: 1 }]);
  assert.deepEqual(ashaPolicy.katibRules({ direction: 'maximize', settings: [], trials: trials.slice(0, 2) }), []);
});

test('settings are validated with errors naming the setting', () => {
  const bad: [EarlyStoppingPolicy, string, string, RegExp][] = [
    [medianStopPolicy, 'min_trials_required', '0', /integer > 0/],
    [medianStopPolicy, 'start_step', 'x', /integer ≥ 1/],
    [medianStopPolicy, 'percentile', '50', /unknown setting/],
    [ashaPolicy, 'reduction_factor', '1.5', /integer ≥ 2/],
    [ashaPolicy, 'min_resource', '-1', /number > 0/],
    [ashaPolicy, 'min_early_stopping_rate', '-1', /integer ≥ 0/],
    [ashaPolicy, 'bootstrap_count', '1', /unknown setting/],
    [curveFitPolicy, 'margin', '-1', /number ≥ 0/],
    [curveFitPolicy, 'final_step', '0', /number > 0/],
    [curveFitPolicy, 'start_step', '0', /integer ≥ 1/],
    [curveFitPolicy, 'min_trials_required', '0', /integer > 0/],
    [curveFitPolicy, 'families', 'exp', /unknown setting/],
  ];
  for (const [policy, name, value, reason] of bad) {
    assert.throws(() => policy.validateSettings([{ name, value }]), (e: unknown) => e instanceof SettingsError && 'setting' in e.target && e.target.setting === name && reason.test(e.reason), `${policy.name} ${name}=${value}`);
  }
  medianStopPolicy.validateSettings([{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '4' }]);
  ashaPolicy.validateSettings([{ name: 'min_resource', value: '1' }, { name: 'reduction_factor', value: '3' }, { name: 'min_early_stopping_rate', value: '0' }]);
  curveFitPolicy.validateSettings([{ name: 'min_trials_required', value: '1' }, { name: 'start_step', value: '6' }, { name: 'margin', value: '2' }, { name: 'final_step', value: '81' }]);
});

test('bestOfCurve: the best report of a whole curve, read again when the curve grows', () => {
  const curve = { steps: [1, 2, 3], values: [0.4, 0.7, 0.5] };
  assert.equal(bestOfCurve('maximize', curve), 0.7);
  assert.equal(bestOfCurve('minimize', curve), 0.4);
  curve.steps.push(4);
  curve.values.push(0.9);
  assert.equal(bestOfCurve('maximize', curve), 0.9, 'a report added to the same curve object counts');
  assert.equal(bestOfCurve('maximize', { steps: [], values: [] }), undefined);
});
