// Early-stopping benchmark (`npm run bench:early-stopping`, not in CI): how many training steps
// Sibyl's early-stopping policies save on learning-curve problems, and what they cost in quality,
// next to Optuna 3.1's pruners on the same curves. Problems (bench/learning-curves.ts): `mlp`, a
// tabular benchmark of examples/mlp/train.mjs (its curves computed once and cached in
// bench/results/mlp-curves.json), and `crossing`, a deterministic simulator whose curves cross.
// Methods: Sibyl's `tpe` alone, with `medianstop`, `asha` or `curvefit`, Sibyl's `hyperband` algorithm
// (given the no-stopping study's steps as its budget), and Optuna's TPESampler with NopPruner,
// MedianPruner, SuccessiveHalvingPruner and HyperbandPruner (bench/optuna_pruners.py).
// Sequential studies, seeds 1..N, read two ways from the same run: at a fixed trial count (64 for
// mlp, 100 for crossing; the first table) and at equal compute (every method gets the steps the
// no-stopping study of that many trials spends and runs as many trials as fit; the second table,
// bench/early-stopping-accounting.ts). The Sibyl studies run on this thread while Optuna's run in
// a child process. Tables on stdout, progress on stderr, everything in
// bench/results/early-stopping.json. See bench/README.md for the definitions.
//
//   --seeds N (20)  --trials N (both problems; default mlp 64, crossing 100)  --problems a,b
//   --methods a,b  --quick (3 seeds)  --no-optuna  --optuna-workers N (2)  --target Q (0.95)  --equal-compute
import { spawn } from 'node:child_process';
import { parseBenchFlags } from './flags.js';
import { RESULTS_DIR, writeResults } from './results.js';
import { optunaMissing, PYTHON } from './python.js';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng } from '../suggestion-algorithms/rng.js';
import { sampleAssignment } from '../suggestion-algorithms/space.js';
import { bestFullWithin, clairvoyantStepsTo, firstReaching, lowerMedian, totalSteps as stepsOfTrace } from './early-stopping-accounting.js';
import { runSibylMethod, SIBYL_METHODS, type TrialRecord } from './early-stopping-sibyl.js';
import {
  crossingProblem,
  mlpGrid,
  mlpProblem,
  SIM_PARAMETERS,
  SIM_SEED,
  STEPS,
  strategyMax,
  MLP_SEED,
  MLP_SHORT_EPOCHS,
  type MlpRow,
  type MlpTable,
  type Problem,
} from './learning-curves.js';
import { quantile } from './simulate.js';

const here = dirname(fileURLToPath(import.meta.url));
const ROOT = join(here, '..', '..');
const benchSource = join(ROOT, 'bench');
const TRAIN = join(ROOT, 'examples', 'mlp', 'train.mjs');
const MLP_TABLE = join(RESULTS_DIR, 'mlp-curves.json');
/** Configurations of the crossing simulator drawn uniformly (seeded) to place its target. */
const SIM_TARGET_SAMPLE = 4096;

const OPTUNA_METHODS = ['optuna-none', 'optuna-median', 'optuna-sha', 'optuna-hyperband'] as const;
const ALL_METHODS: readonly string[] = [...SIBYL_METHODS, ...OPTUNA_METHODS];
const PROBLEMS = ['mlp', 'crossing'];
const DEFAULT_TRIALS: Record<string, number> = { mlp: 64, crossing: 100 };

const LABELS: Record<string, string> = {
  'sibyl-none': 'sibyl tpe, no stopping',
  'sibyl-medianstop': 'sibyl tpe + medianstop',
  'sibyl-asha': 'sibyl tpe + asha',
  'sibyl-curvefit': 'sibyl tpe + curvefit',
  'sibyl-hyperband': 'sibyl hyperband',
  'optuna-none': 'optuna tpe + NopPruner',
  'optuna-median': 'optuna tpe + MedianPruner',
  'optuna-sha': 'optuna tpe + SuccessiveHalving',
  'optuna-hyperband': 'optuna tpe + HyperbandPruner',
};
const SIBYL_POLICIES = ['sibyl-medianstop', 'sibyl-asha', 'sibyl-curvefit', 'sibyl-hyperband'];
const OPTUNA_PRUNERS = ['optuna-median', 'optuna-sha', 'optuna-hyperband'];
const baselineOf = (method: string) => (method.startsWith('optuna-') ? 'optuna-none' : 'sibyl-none');

interface Options {
  seeds: number;
  trials: Record<string, number>;
  problems: string[];
  methods: string[];
  optuna: boolean;
  optunaWorkers: number;
  target: number;
  /** Also run every study on the no-stopping study's steps (the equal-compute reading; much longer). */
  equalCompute: boolean;
}

function parseOptions(argv: readonly string[]): Options {
  const flags = parseBenchFlags(argv, { switches: ['quick', 'no-optuna', 'equal-compute'], values: ['seeds', 'trials', 'problems', 'methods', 'optuna-workers', 'target'] });
  const { int } = flags;
  const trials = flags.has('trials') ? Object.fromEntries(PROBLEMS.map((p) => [p, int('trials', 1)])) : { ...DEFAULT_TRIALS };
  const target = flags.has('target') ? Number(flags.get('target')) : 0.95;
  if (!(target > 0 && target < 1)) throw new Error('--target must be a quantile in (0, 1)');
  return {
    seeds: int('seeds', flags.has('quick') ? 3 : 20),
    trials,
    problems: flags.list('problems', PROBLEMS, 'problem'),
    methods: flags.list('methods', ALL_METHODS, 'method'),
    optuna: !flags.has('no-optuna'),
    optunaWorkers: int('optuna-workers', 2),
    target,
    equalCompute: flags.has('equal-compute'),
  };
}

// ---------------------------------------------------------------------------- the MLP table

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

function trainOnce(config: { learning_rate: number; hidden_layers: number; units: number }, epochs = STEPS): Promise<MlpRow> {
  const args = [TRAIN, '--epochs', String(epochs), '--seed', String(MLP_SEED), '--learning-rate', String(config.learning_rate), '--hidden-layers', String(config.hidden_layers), '--units', String(config.units)];
  return new Promise((resolve, reject) => {
    // No checkpoint folder: every run trains from scratch (a pbt study's SIBYL_CHECKPOINT_DIR would resume one).
    const env = { ...process.env };
    delete env['SIBYL_CHECKPOINT_DIR'];
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.resume();
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`train.mjs ${args.slice(1).join(' ')} exited with ${code}`));
      const accuracy: number[] = [];
      const loss: number[] = [];
      for (const line of out.split('\n')) {
        const m = /^epoch=(\d+) loss=(\S+) accuracy=(\S+)$/.exec(line.trim());
        if (!m) continue;
        if (Number(m[1]) !== accuracy.length + 1) return reject(new Error(`train.mjs: epoch ${m[1]} out of order`));
        loss.push(Number(m[2]));
        accuracy.push(Number(m[3]));
      }
      if (accuracy.length === 0) return reject(new Error(`train.mjs ${args.slice(1).join(' ')} printed no epoch`));
      resolve({ ...config, accuracy, loss });
    });
  });
}

/**
 * The cached table when it was made from this train.mjs and grid; what is missing or stale is
 * computed (two trainings at a time): every configuration for 81 epochs, and again for each of
 * hyperband's shorter budgets (MLP_SHORT_EPOCHS), which are runs of their own.
 */
async function mlpTable(): Promise<{ table: MlpTable; seconds: number; cached: boolean }> {
  const trainSha256 = sha256(TRAIN);
  const grid = mlpGrid();
  let cached: MlpTable | undefined;
  if (existsSync(MLP_TABLE)) {
    cached = JSON.parse(readFileSync(MLP_TABLE, 'utf8')) as MlpTable;
    const same = cached.trainSha256 === trainSha256 && cached.epochs === STEPS && cached.seed === MLP_SEED && cached.rows.length === grid.length &&
      grid.every((c, i) => cached!.rows[i]?.learning_rate === c.learning_rate && cached!.rows[i]?.hidden_layers === c.hidden_layers && cached!.rows[i]?.units === c.units);
    if (!same) {
      process.stderr.write('mlp: cached curves are stale (train.mjs or the grid changed): computing them again\n');
      cached = undefined;
    }
  }
  const shortRuns: Record<string, number[][]> = { ...(cached?.shortRuns ?? {}) };
  const tasks = [
    ...(cached ? [] : grid.map((config, i) => ({ config, i, epochs: STEPS }))),
    ...MLP_SHORT_EPOCHS.filter((e) => shortRuns[String(e)]?.length !== grid.length).flatMap((epochs) => grid.map((config, i) => ({ config, i, epochs }))),
  ];
  if (tasks.length === 0) return { table: cached!, seconds: 0, cached: true };
  const started = performance.now();
  const rows: MlpRow[] = cached ? [...cached.rows] : new Array<MlpRow>(grid.length);
  for (const e of MLP_SHORT_EPOCHS) if (shortRuns[String(e)]?.length !== grid.length) shortRuns[String(e)] = new Array<number[]>(grid.length);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const task = tasks[next++]!;
      const row = await trainOnce(task.config, task.epochs);
      if (task.epochs === STEPS) rows[task.i] = row;
      else shortRuns[String(task.epochs)]![task.i] = row.accuracy;
      done += 1;
      process.stderr.write(`mlp table [${done}/${tasks.length}] lr ${row.learning_rate} layers ${row.hidden_layers} units ${row.units}, --epochs ${task.epochs}: final ${row.accuracy.at(-1)}\n`);
    }
  };
  await Promise.all([worker(), worker()]);
  const table: MlpTable = { trainSha256, epochs: STEPS, seed: MLP_SEED, rows, shortRuns };
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(MLP_TABLE, `${JSON.stringify(table)}\n`);
  return { table, seconds: (performance.now() - started) / 1000, cached: false };
}

// ---------------------------------------------------------------------------- targets

interface Target {
  /** The quality to reach: the quantile `q` of the trial values (metric strategy max) over the reference configurations. */
  readonly value: number;
  readonly q: number;
  /** The best trial value over the reference configurations. */
  readonly best: number;
  readonly reference: string;
}

function targetOf(problem: string, table: MlpTable | undefined, q: number): Target {
  let values: number[];
  let reference: string;
  if (problem === 'mlp') {
    values = table!.rows.map((r) => strategyMax(r.accuracy));
    reference = `the ${values.length} configurations of the table`;
  } else {
    const rng = new Rng(SIM_SEED, 0);
    const space = { parameters: SIM_PARAMETERS, direction: 'maximize' as const };
    values = Array.from({ length: SIM_TARGET_SAMPLE }, () => strategyMax(crossingProblem.curve(sampleAssignment(space, rng))));
    reference = `${SIM_TARGET_SAMPLE} configurations drawn at random (Rng(${SIM_SEED}))`;
  }
  return { value: quantile(values, q), q, best: Math.max(...values), reference };
}

// ---------------------------------------------------------------------------- Optuna

interface OptunaOutput {
  readonly optuna_version: string;
  readonly runs: { problem: string; method: string; seed: number; trials: [number, boolean, boolean, number, number][] }[];
}

function startOptuna(o: Options, methods: string[], out: string): Promise<OptunaOutput> {
  const args = [
    join(benchSource, 'optuna_pruners.py'),
    '--problems', o.problems.join(','),
    '--methods', methods.join(','),
    '--seeds', String(o.seeds),
    '--trials', o.problems.map((p) => `${p}=${o.trials[p]}`).join(','),
    '--mlp-table', o.problems.includes('mlp') ? MLP_TABLE : '',
    '--workers', String(o.optunaWorkers),
    '--out', out,
    ...(o.equalCompute ? [] : ['--fixed-trials']),
  ];
  return new Promise((resolve, reject) => {
    const child = spawn(PYTHON, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`optuna_pruners.py exited with ${code}`));
      try {
        resolve(JSON.parse(readFileSync(out, 'utf8')) as OptunaOutput);
      } catch (e) {
        reject(e instanceof Error ? e : new Error(String(e)));
      }
    });
  });
}

// ---------------------------------------------------------------------------- metrics

interface Run {
  readonly problem: string;
  readonly method: string;
  readonly seed: number;
  /** The study of the bench's trial count (the fixed-trial reading). */
  readonly trials: TrialRecord[];
  /** Every trial the study ran within its budget of steps (the equal-compute reading); `trials` is its beginning. */
  readonly budgetTrials: TrialRecord[];
}

interface RunMetrics {
  readonly totalSteps: number;
  readonly stopped: number;
  /** Best value (metric strategy max) among the trials that ran their whole curve; NaN if none did. */
  readonly best: number;
  /** Best value reported by any trial, stopped ones included. */
  readonly bestReported: number;
  /** Steps spent (all trials so far, in order) when a full trial first reached the target; null if none did. */
  readonly stepsToTarget: number | null;
  readonly trialsToTarget: number | null;
  /** Trials whose whole curve reaches the target, and how many of them were cut short. */
  readonly targetTrials: number;
  readonly targetTrialsCut: number;
}

function runMetrics(trials: readonly TrialRecord[], target: number): RunMetrics {
  const totalSteps = stepsOfTrace(trials);
  const reached = firstReaching(trials, target);
  const good = trials.filter((t) => t.fullValue >= target);
  return {
    totalSteps,
    stopped: trials.filter((t) => t.stopped).length,
    best: bestFullWithin(trials, totalSteps),
    bestReported: trials.reduce((m, t) => Math.max(m, t.value), -Infinity),
    stepsToTarget: reached?.steps ?? null,
    trialsToTarget: reached?.trials ?? null,
    targetTrials: good.length,
    targetTrialsCut: good.filter((t) => !t.full).length,
  };
}

interface Summary {
  readonly problem: string;
  readonly method: string;
  readonly seeds: number;
  /** Trials per study (median; only hyperband's vary). */
  readonly trials: number;
  readonly steps: Stat;
  /** Trials that did not run their whole curve: stopped by a policy or pruner, or given fewer steps by hyperband. */
  readonly cutShortFraction: number;
  readonly best: Stat;
  /** Unreached seeds count as +Infinity. */
  readonly stepsToTarget: Stat;
  readonly reached: number;
  /** Of the trials whose whole curve reaches the target, the fraction cut short (over all seeds). */
  readonly goodCutFraction: number;
  /** Own side's no-stopping median steps ÷ this method's (×fewer). */
  readonly stepsFewer: number;
  readonly toTargetFewer: number;
}

interface Stat {
  readonly median: number;
  readonly q25: number;
  readonly q75: number;
}

const stat = (xs: readonly number[]): Stat => ({ median: quantile(xs, 0.5), q25: quantile(xs, 0.25), q75: quantile(xs, 0.75) });
/** Quantiles where some values are +Infinity (targets not reached): sorted, linear between neighbours. */
function statWithInfinity(xs: readonly number[]): Stat {
  const sorted = [...xs].sort((a, b) => a - b);
  const at = (q: number) => {
    const pos = (sorted.length - 1) * q;
    const lo = Math.floor(pos);
    const hi = Math.ceil(pos);
    const a = sorted[lo]!;
    const b = sorted[hi]!;
    return lo === hi || a === b ? a : !Number.isFinite(b) ? Infinity : a + (b - a) * (pos - lo);
  };
  return { median: at(0.5), q25: at(0.25), q75: at(0.75) };
}

function summarise(runs: readonly Run[], metrics: Map<Run, RunMetrics>): Summary[] {
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const key = `${r.problem}\0${r.method}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  const partial = [...groups.values()].map((g) => {
    const m = g.map((r) => metrics.get(r)!);
    return {
      problem: g[0]!.problem,
      method: g[0]!.method,
      seeds: g.length,
      trials: quantile(g.map((r) => r.trials.length), 0.5),
      steps: stat(m.map((x) => x.totalSteps)),
      cutShortFraction: g.reduce((s, r) => s + r.trials.filter((t) => !t.full).length, 0) / g.reduce((s, r) => s + r.trials.length, 0),
      best: stat(m.map((x) => x.best).filter((x) => !Number.isNaN(x))),
      stepsToTarget: statWithInfinity(m.map((x) => x.stepsToTarget ?? Infinity)),
      reached: m.filter((x) => x.stepsToTarget !== null).length,
      goodCutFraction: m.reduce((s, x) => s + x.targetTrialsCut, 0) / m.reduce((s, x) => s + x.targetTrials, 0),
    };
  });
  return partial.map((s) => {
    const base = partial.find((b) => b.problem === s.problem && b.method === baselineOf(s.method));
    return {
      ...s,
      stepsFewer: base ? base.steps.median / s.steps.median : NaN,
      toTargetFewer: base ? base.stepsToTarget.median / s.stepsToTarget.median : NaN,
    };
  });
}

// ---------------------------------------------------------------------------- report

const fmt = (x: number, digits = 3) => (Number.isNaN(x) ? 'n/a' : !Number.isFinite(x) ? '—' : Math.abs(x) >= 1000 ? x.toFixed(0) : x.toPrecision(digits));
const steps = (x: number) => (Number.isNaN(x) ? 'n/a' : !Number.isFinite(x) ? '—' : Math.round(x).toString());
const times = (x: number) => (Number.isNaN(x) || !Number.isFinite(x) || x === 0 ? '—' : `${x.toFixed(2)}×`);

function printTable(header: readonly string[], lines: readonly string[][], leftColumns = 2): void {
  const widths = header.map((h, i) => Math.max(h.length, ...lines.map((l) => (l[i] ?? '').length)));
  const row = (cells: readonly string[]) => cells.map((c, i) => (i < leftColumns ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  console.log(row(header));
  console.log(widths.map((w) => '-'.repeat(w)).join('  '));
  for (const l of lines) console.log(row(l));
}

interface Verdict {
  readonly problem: string;
  /** Which quality was to be reached, in words. */
  readonly quality: string;
  readonly sibylBest?: string;
  readonly optunaBest?: string;
  readonly sibylFewer: number;
  readonly beatsOptuna: boolean;
  readonly met: boolean;
  readonly text: string;
}

/** One method's figures for a verdict: its median steps to the quality (+∞ when most seeds did not reach it) and in all. */
interface VerdictRow {
  readonly problem: string;
  readonly method: string;
  readonly toQuality: number;
  readonly steps: number;
}

/** The issue's target on one problem and one reading of "equal final quality". */
function verdict(problem: string, quality: string, rows: readonly VerdictRow[]): Verdict {
  const of = (m: string) => rows.find((r) => r.problem === problem && r.method === m);
  const bestOf = (methods: readonly string[]) =>
    methods.map(of).filter((r): r is VerdictRow => r !== undefined).sort((a, b) => a.toQuality - b.toQuality || a.steps - b.steps)[0];
  const none = of('sibyl-none');
  const sibyl = bestOf(SIBYL_POLICIES);
  const optuna = bestOf(OPTUNA_PRUNERS);
  if (!none || !sibyl) return { problem, quality, sibylFewer: NaN, beatsOptuna: false, met: false, text: `${problem}: not measured (no Sibyl baseline or policy in this run)` };
  const sibylFewer = none.toQuality / sibyl.toQuality;
  const beatsOptuna = optuna !== undefined && sibyl.toQuality < optuna.toQuality;
  const met = sibylFewer >= 3 && beatsOptuna;
  const sibylText = Number.isFinite(sibyl.toQuality)
    ? `Sibyl's best policy ${LABELS[sibyl.method]} reaches it in ${steps(sibyl.toQuality)} steps (median), `
    : "no Sibyl policy reaches it in most seeds, ";
  const text =
    `${problem}, ${quality}: ${sibylText}` +
    `${times(sibylFewer)} fewer than no stopping (${steps(none.toQuality)}; needs ≥ 3×: ${sibylFewer >= 3 ? 'yes' : 'no'}); ` +
    (!optuna ? 'Optuna not measured'
      : Number.isFinite(optuna.toQuality) ? `Optuna's best pruner ${LABELS[optuna.method]} ${steps(optuna.toQuality)} (fewer for Sibyl: ${beatsOptuna ? 'yes' : 'no'})`
      : `no Optuna pruner reaches it in most seeds (fewer for Sibyl: ${beatsOptuna ? 'yes' : 'no'})`) +
    ` → ${met ? 'MET' : 'NOT MET'}`;
  return { problem, quality, sibylBest: sibyl.method, ...(optuna ? { optunaBest: optuna.method } : {}), sibylFewer, beatsOptuna, met, text };
}

/** Stop costs the clairvoyant floor is read at: 1 step (the least any rule spends) and 6 (the first step `curvefit` judges). */
const FLOOR_STOP_COSTS = [1, 6] as const;

interface Floor {
  readonly problem: string;
  readonly quality: number;
  readonly stopCost: number;
  /** Median over seeds (+∞ where it is never reached) and no stopping's own median ÷ it. */
  readonly steps: number;
  readonly fewer: number;
}

/**
 * The clairvoyant floor (early-stopping-accounting.ts) on each seed of Sibyl's no-stopping study:
 * how far below no stopping any rule that lets each new best finish could get on those trials.
 */
function floors(runs: readonly Run[], problem: string, quality: number, trace: (r: Run) => readonly TrialRecord[]): Floor[] {
  const none = runs.filter((r) => r.problem === problem && r.method === 'sibyl-none');
  if (none.length === 0) return [];
  const noStopping = statWithInfinity(none.map((r) => firstReaching(trace(r), quality)?.steps ?? Infinity)).median;
  return FLOOR_STOP_COSTS.map((stopCost) => {
    const median = statWithInfinity(none.map((r) => clairvoyantStepsTo(trace(r), quality, stopCost) ?? Infinity)).median;
    return { problem, quality, stopCost, steps: median, fewer: noStopping / median };
  });
}

const floorText = (f: readonly Floor[]): string =>
  f.map((x) => `${steps(x.steps)} steps (${times(x.fewer)}) when every other trial costs ${x.stopCost} step${x.stopCost === 1 ? '' : 's'}`).join(', ');

const verdicts = (summaries: readonly Summary[], problems: readonly string[]): Verdict[] =>
  problems.map((p) => verdict(p, 'the target', summaries.map((s) => ({ problem: s.problem, method: s.method, toQuality: s.stepsToTarget.median, steps: s.steps.median }))));

// ---------------------------------------------------------------------------- equal compute

/** Where the equal-compute table shows the best full trial: these fractions of the budget (anytime performance). */
const ANYTIME = [{ label: 'B/9', fraction: 1 / 9 }, { label: 'B/3', fraction: 1 / 3 }, { label: 'B', fraction: 1 }] as const;

/** A quality the equal-compute reading counts the steps to. */
interface Quality {
  readonly key: 'final' | 'target';
  readonly value: number;
  readonly meaning: string;
}

interface ToQuality {
  readonly quality: Quality['key'];
  /** Unreached seeds count as +Infinity. */
  readonly steps: Stat;
  readonly reached: number;
  /** Own side's no-stopping median ÷ this method's. */
  readonly fewer: number;
}

interface BudgetSummary {
  readonly problem: string;
  readonly method: string;
  readonly seeds: number;
  readonly budget: number;
  readonly trials: number;
  readonly steps: number;
  readonly cutShortFraction: number;
  /** Best full trial once each ANYTIME fraction of the budget was spent (median [IQR] over seeds; NaN-free). */
  readonly bestWithin: Stat[];
  readonly toQuality: ToQuality[];
}

/** Medians where a seed without a value (no full trial yet) counts as the worst: −Infinity. */
const statOrWorst = (xs: readonly number[]): Stat => {
  const neg = statWithInfinity(xs.map((x) => (Number.isNaN(x) ? Infinity : -x)));
  return { median: -neg.median, q25: -neg.q75, q75: -neg.q25 };
};

/**
 * "Equal final quality" at equal compute, per problem: the quality no stopping ends with (the
 * lower median over seeds of its best full trial at the whole budget; Sibyl's no-stopping study,
 * or Optuna's when Sibyl's did not run), and the fixed target of the first table. One quality for
 * every method of both sides, so their steps to it compare.
 */
function qualitiesOf(runs: readonly Run[], problem: string, budget: number, target: Target): Quality[] {
  const finals = (method: string) => runs.filter((r) => r.problem === problem && r.method === method).map((r) => bestFullWithin(r.budgetTrials, budget));
  const reference = ['sibyl-none', 'optuna-none'].find((m) => finals(m).length > 0);
  const qualities: Quality[] = [];
  if (reference) qualities.push({ key: 'final', value: lowerMedian(finals(reference)), meaning: `the lower median over seeds of ${LABELS[reference]}'s final best` });
  qualities.push({ key: 'target', value: target.value, meaning: `the target (${Math.round(target.q * 100)}th percentile)` });
  return qualities;
}

function summariseBudget(runs: readonly Run[], budgets: Record<string, number>, qualities: Record<string, Quality[]>): BudgetSummary[] {
  const groups = new Map<string, Run[]>();
  for (const r of runs) groups.set(`${r.problem}\0${r.method}`, [...(groups.get(`${r.problem}\0${r.method}`) ?? []), r]);
  const partial = [...groups.values()].map((g) => {
    const { problem, method } = g[0]!;
    const budget = budgets[problem]!;
    return {
      problem,
      method,
      seeds: g.length,
      budget,
      trials: quantile(g.map((r) => r.budgetTrials.length), 0.5),
      steps: quantile(g.map((r) => stepsOfTrace(r.budgetTrials)), 0.5),
      cutShortFraction: g.reduce((n, r) => n + r.budgetTrials.filter((t) => !t.full).length, 0) / g.reduce((n, r) => n + r.budgetTrials.length, 0),
      bestWithin: ANYTIME.map((a) => statOrWorst(g.map((r) => bestFullWithin(r.budgetTrials, Math.floor(budget * a.fraction))))),
      toQuality: qualities[problem]!.map((q) => {
        const reached = g.map((r) => firstReaching(r.budgetTrials, q.value)?.steps ?? Infinity);
        return { quality: q.key, steps: statWithInfinity(reached), reached: reached.filter(Number.isFinite).length };
      }),
    };
  });
  return partial.map((s) => {
    const base = partial.find((b) => b.problem === s.problem && b.method === baselineOf(s.method));
    return { ...s, toQuality: s.toQuality.map((q, i) => ({ ...q, fewer: base ? base.toQuality[i]!.steps.median / q.steps.median : NaN })) };
  });
}

// ---------------------------------------------------------------------------- main

async function main(): Promise<void> {
  const o = parseOptions(process.argv.slice(2));
  const started = performance.now();
  const sibylMethods = o.methods.filter((m) => !m.startsWith('optuna-'));
  let optunaMethods = o.methods.filter((m) => m.startsWith('optuna-'));

  let table: MlpTable | undefined;
  let tableNote = '';
  if (o.problems.includes('mlp')) {
    const t = await mlpTable();
    table = t.table;
    tableNote = t.cached ? `cached ${MLP_TABLE}` : `computed in ${t.seconds.toFixed(0)} s into ${MLP_TABLE}`;
  }
  const problems: Record<string, Problem> = { crossing: crossingProblem, ...(table ? { mlp: mlpProblem(table) } : {}) };
  const targets = Object.fromEntries(o.problems.map((p) => [p, targetOf(p, table, o.target)]));

  let optuna: { available: boolean; version?: string; note?: string; seconds?: number } = { available: optunaMethods.length > 0 };
  let optunaRun: Promise<OptunaOutput> | undefined;
  const optunaStarted = performance.now();
  const optunaOut = join(tmpdir(), `sibyl-bench-early-stopping-${process.pid}.json`);
  if (optunaMethods.length > 0 && !o.optuna) optuna = { available: false, note: 'skipped (--no-optuna)' };
  else if (optunaMethods.length > 0) {
    const missing = optunaMissing();
    if (missing !== undefined) optuna = { available: false, note: missing };
    else optunaRun = startOptuna(o, optunaMethods, optunaOut);
  }
  if (!optunaRun) optunaMethods = [];

  const runs: Run[] = [];
  const notes: Record<string, string> = {};
  const sibylStarted = performance.now();
  const jobs = o.problems.flatMap((problem) => sibylMethods.flatMap((method) => Array.from({ length: o.seeds }, (_, k) => ({ problem, method, seed: k + 1 }))));
  let done = 0;
  for (const job of jobs) {
    const t0 = performance.now();
    const result = runSibylMethod(problems[job.problem]!, job.method, job.seed, o.trials[job.problem]!, o.equalCompute);
    done += 1;
    if (result.records) runs.push({ ...job, trials: result.records.slice(0, result.fixedTrials), budgetTrials: result.records });
    else notes[job.method] = result.note ?? 'not run';
    process.stderr.write(`[${done}/${jobs.length}] sibyl ${job.problem} ${job.method} seed ${job.seed}: ${result.records ? `${((performance.now() - t0) / 1000).toFixed(1)} s` : result.note}\n`);
  }
  const sibylSeconds = (performance.now() - sibylStarted) / 1000;

  if (optunaRun) {
    const out = await optunaRun;
    optuna = { available: true, version: out.optuna_version, seconds: (performance.now() - optunaStarted) / 1000 };
    for (const r of out.runs) {
      const all = r.trials.map(([s, stopped, full, value, fullValue]) => ({ steps: s, stopped, full, value, fullValue }));
      runs.push({ problem: r.problem, method: r.method, seed: r.seed, trials: all.slice(0, o.trials[r.problem]), budgetTrials: all });
    }
  }

  const metrics = new Map(runs.map((r) => [r, runMetrics(r.trials, targets[r.problem]!.value)]));
  const summaries = summarise(runs, metrics);
  const order = (s: { problem: string; method: string }) => o.problems.indexOf(s.problem) * 100 + ALL_METHODS.indexOf(s.method);
  summaries.sort((a, b) => order(a) - order(b));

  console.log(`\nEarly stopping on learning curves: sequential studies, seeds 1..${o.seeds}, ${STEPS} steps per full trial; medians [IQR] over seeds`);
  for (const p of o.problems) {
    const t = targets[p]!;
    console.log(`  ${p}: ${o.trials[p]} trials per study; target ${fmt(t.value, 4)} = the ${Math.round(t.q * 100)}th percentile of ${t.reference} (best ${fmt(t.best, 4)})`);
  }
  const header = ['problem', 'method', 'trials', 'steps', '×fewer', 'cut short', 'good cut', 'best full trial', 'steps to target', 'reached', '×fewer to target'];
  const line = (s: Summary) => [
    s.problem,
    LABELS[s.method] ?? s.method,
    steps(s.trials),
    steps(s.steps.median),
    times(s.stepsFewer),
    `${(s.cutShortFraction * 100).toFixed(0)}%`,
    Number.isNaN(s.goodCutFraction) ? 'n/a' : `${(s.goodCutFraction * 100).toFixed(0)}%`,
    `${fmt(s.best.median, 4)} [${fmt(s.best.q25, 4)}, ${fmt(s.best.q75, 4)}]`,
    `${steps(s.stepsToTarget.median)} [${steps(s.stepsToTarget.q25)}, ${steps(s.stepsToTarget.q75)}]`,
    `${s.reached}/${s.seeds}`,
    times(s.toTargetFewer),
  ];
  const lines = summaries.map(line);
  console.log('');
  printTable(header, lines);
  for (const m of sibylMethods) if (notes[m]) console.log(`  ${LABELS[m] ?? m}: not measured, ${notes[m]}.`);
  console.log("  ×fewer: the same side's no-stopping median ÷ this median (Sibyl rows against Sibyl tpe alone, Optuna rows against NopPruner).");
  console.log('  good cut: of the trials whose whole curve reaches the target, the share that was cut short (all seeds together).');

  const v = verdicts(summaries, o.problems);
  console.log('\nTarget: at equal final quality, Sibyl\'s best policy spends ≥ 3× fewer steps than no stopping and fewer than Optuna\'s best pruner');
  console.log('  at a fixed trial count:');
  for (const x of v) console.log(`  ${x.text}`);
  const targetFloors = o.problems.flatMap((p) => floors(runs, p, targets[p]!.value, (r) => r.trials));
  if (targetFloors.length > 0) {
    console.log("  the floor on no stopping's own trials, for a rule that must let each new best finish (a clairvoyant one: early-stopping-accounting.ts):");
    for (const p of o.problems) console.log(`  ${p}, the target: ${floorText(targetFloors.filter((f) => f.problem === p))}`);
  }

  // The same studies at equal compute: every method on the budget B of the no-stopping study's steps.
  let equalCompute: Record<string, unknown> | null = null;
  if (o.equalCompute) {
    const budgets = Object.fromEntries(o.problems.map((p) => [p, o.trials[p]! * STEPS]));
    const qualities = Object.fromEntries(o.problems.map((p) => [p, qualitiesOf(runs, p, budgets[p]!, targets[p]!)]));
    const budgetSummaries = summariseBudget(runs, budgets, qualities).sort((a, b) => order(a) - order(b));
    console.log(`\nEqual compute: every method gets the budget B of the no-stopping study's steps and runs as many trials as fit; medians [IQR] over seeds`);
    for (const p of o.problems) console.log(`  ${p}: B = ${budgets[p]} steps; ${qualities[p]!.map((q) => `${q.key} = ${fmt(q.value, 4)}, ${q.meaning}`).join('; ')}`);
    const qualityKeys = qualities[o.problems[0]!]!.map((q) => q.key);
    const budgetHeader = [
      'problem', 'method', 'trials', 'steps', 'cut short',
      ...ANYTIME.map((a) => `best full at ${a.label}`),
      ...qualityKeys.flatMap((k) => [`steps to ${k}`, 'reached', '×fewer']),
    ];
    const budgetLine = (s: BudgetSummary) => [
      s.problem,
      LABELS[s.method] ?? s.method,
      steps(s.trials),
      steps(s.steps),
      `${(s.cutShortFraction * 100).toFixed(0)}%`,
      ...s.bestWithin.map((b, i) => (i === ANYTIME.length - 1 ? `${fmt(b.median, 4)} [${fmt(b.q25, 4)}, ${fmt(b.q75, 4)}]` : fmt(b.median, 4))),
      ...s.toQuality.flatMap((q) => [`${steps(q.steps.median)} [${steps(q.steps.q25)}, ${steps(q.steps.q75)}]`, `${q.reached}/${s.seeds}`, times(q.fewer)]),
    ];
    console.log('');
    printTable(budgetHeader, budgetSummaries.map(budgetLine));
    console.log('  best full at x: the best trial that ran its whole curve once x steps were spent (— : none yet in most seeds).');
    console.log('  steps to a quality: steps spent when a full trial first reached it; a seed that never did within B counts as +∞ (—).');
    const budgetVerdicts = o.problems.flatMap((p) =>
      qualities[p]!.map((q) =>
        verdict(p, q.key === 'final' ? `no stopping's final best ${fmt(q.value, 4)}` : `the target ${fmt(q.value, 4)}`,
          budgetSummaries.map((s) => ({ problem: s.problem, method: s.method, toQuality: s.toQuality.find((t) => t.quality === q.key)!.steps.median, steps: s.steps }))),
      ),
    );
    console.log('\nTarget at equal compute:');
    for (const x of budgetVerdicts) console.log(`  ${x.text}`);
    const finalFloors = o.problems.flatMap((p) => qualities[p]!.filter((q) => q.key === 'final').flatMap((q) => floors(runs, p, q.value, (r) => r.budgetTrials)));
    for (const p of o.problems) {
      const f = finalFloors.filter((x) => x.problem === p);
      if (f.length > 0) console.log(`  ${p}, no stopping's final best: the clairvoyant floor on its own trials is ${floorText(f)}`);
    }
    equalCompute = { budgets, qualities, summaries: budgetSummaries, verdicts: budgetVerdicts, floors: finalFloors };
  } else {
    console.log('\n(--equal-compute adds the reading at equal compute, every method on the no-stopping study\'s steps; it takes far longer: bench/README.md)');
  }
  const seconds = (performance.now() - started) / 1000;
  console.log(`\nSibyl studies ${sibylSeconds.toFixed(0)} s${optuna.seconds === undefined ? '' : `, Optuna ${optuna.seconds.toFixed(0)} s (${optuna.version}, in parallel)`}${optuna.note ? `; Optuna: ${optuna.note}` : ''}; total ${seconds.toFixed(0)} s${tableNote ? `; MLP table ${tableNote}` : ''}`);

  const file = writeResults('early-stopping', {
    options: { ...o, steps: STEPS },
    optuna,
    notes,
    targets,
    summaries,
    verdicts: v,
    floors: targetFloors,
    equalCompute,
    // `trials`: every trial within the budget; the first `fixedTrials` make the fixed-trial study.
    runs: runs.map((r) => ({ problem: r.problem, method: r.method, seed: r.seed, metrics: metrics.get(r), fixedTrials: r.trials.length, trials: r.budgetTrials.map((t) => [t.steps, t.stopped, t.full, t.value, t.fullValue]) })),
    seconds,
  });
  console.log(`wrote ${file}`);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? (e.stack ?? e.message) : e);
  process.exit(1);
});
