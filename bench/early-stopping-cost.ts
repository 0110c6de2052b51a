// What early stopping costs the server on a trial that reports a very long curve (every batch
// of a long training run): the scheduler's EarlyStopper deciding after each batch of reports,
// for each of Sibyl's policies, beside Optuna 3.1's MedianPruner and SuccessiveHalvingPruner
// asked after each report (bench/optuna_pruner_cost.py). Three trials have completed with 100
// reports each; the trial judged is better than all of them, so it is never stopped and every
// report is judged. Decisions run on the server's event loop: the slowest one is how long the
// server was held at once. Writes bench/results/early-stopping-cost.json; bench/README.md.
import { fileURLToPath } from 'node:url';
import { EarlyStopper } from '../src/scheduler/early-stopping.js';
import type { CurveRow, ObservationInput, Store, StudyRecord, TrialRecord } from '../src/store/store.js';
import type { StudySpec } from '../src/spec/types.js';
import { parseBenchFlags } from './flags.js';
import { optunaMissing, runPythonJson } from './python.js';
import { machineLine, writeResults } from './results.js';

const POLICIES = ['medianstop', 'asha', 'curvefit'] as const;
const OPTUNA_PRUNERS = { median: 'MedianPruner', sha: 'SuccessiveHalvingPruner' } as const;
const OPTUNA_SCRIPT = fileURLToPath(new URL('../../bench/optuna_pruner_cost.py', import.meta.url));

interface Reading {
  readonly side: 'sibyl' | 'optuna';
  readonly method: string;
  readonly reports: number;
  /** Reports per decision. */
  readonly batch: number;
  readonly seconds: number;
  readonly worstMs: number;
}

const SETTINGS: Record<(typeof POLICIES)[number], { name: string; value: string }[]> = {
  medianstop: [{ name: 'min_trials_required', value: '3' }, { name: 'start_step', value: '4' }],
  asha: [],
  curvefit: [],
};

/** The only two reads the EarlyStopper makes of a store: the study and its curves, once. */
function completedCurves(spec: StudySpec): Store {
  const rows: CurveRow[] = [];
  for (let t = 0; t < 3; t++) for (let step = 1; step <= 100; step++) rows.push({ name: `done-${t}`, state: 'SUCCEEDED', step, value: 0.1 * t });
  return { getStudy: async () => ({ id: 1, spec }), curveRows: async () => rows } as unknown as Store;
}

async function sibyl(policy: (typeof POLICIES)[number], reports: number, batch: number): Promise<Reading> {
  const spec = { objective: { type: 'maximize', objectiveMetricName: 'acc' }, earlyStopping: { algorithmName: policy, algorithmSettings: SETTINGS[policy] } } as unknown as StudySpec;
  const stopper = new EarlyStopper(completedCurves(spec));
  const study = { id: 1, spec } as StudyRecord;
  const trial = { name: 'long', state: 'RUNNING', studyId: 1 } as TrialRecord;
  let worst = 0;
  const start = performance.now();
  for (let from = 1; from <= reports; from += batch) {
    const rows: ObservationInput[] = Array.from({ length: Math.min(batch, reports - from + 1) }, (_, i) => ({ metric: 'acc', step: from + i, value: 1, time: '' }));
    const began = performance.now();
    if (await stopper.observed(study, trial, rows)) throw new Error(`${policy} stopped the best trial`);
    worst = Math.max(worst, performance.now() - began);
  }
  return { side: 'sibyl', method: policy, reports, batch, seconds: (performance.now() - start) / 1000, worstMs: worst };
}

async function main(): Promise<void> {
  const flags = parseBenchFlags(process.argv.slice(2), { switches: ['no-optuna'], values: ['reports', 'batched-reports'] });
  const perReport = flags.int('reports', 10_000);
  const batched = flags.int('batched-reports', 1_000_000);
  const readings: Reading[] = [];
  for (const policy of POLICIES) {
    readings.push(await sibyl(policy, perReport, 1));
    for (const n of [batched / 10, batched]) readings.push(await sibyl(policy, Math.round(n), 1000));
  }
  const missing = flags.has('no-optuna') ? 'not asked for (--no-optuna)' : optunaMissing();
  if (missing === undefined) {
    for (const [pruner, name] of Object.entries(OPTUNA_PRUNERS)) {
      const r = await runPythonJson<{ seconds: number; worstMs: number; reports: number }>(OPTUNA_SCRIPT, [pruner, String(perReport)]);
      if (r.reports !== perReport) throw new Error(`Optuna's ${name} pruned the best trial at report ${r.reports}`);
      readings.push({ side: 'optuna', method: name, reports: perReport, batch: 1, seconds: r.seconds, worstMs: r.worstMs });
    }
  }

  console.log(machineLine());
  console.log(`side    method                   reports  per decision  seconds  µs/report  slowest decision`);
  for (const r of readings) {
    console.log(`${r.side.padEnd(7)} ${r.method.padEnd(24)} ${String(r.reports).padStart(7)}  ${String(r.batch).padStart(12)}  ${r.seconds.toFixed(2).padStart(7)}  ${((r.seconds * 1e6) / r.reports).toFixed(1).padStart(9)}  ${r.worstMs.toFixed(1).padStart(13)} ms`);
  }
  if (missing !== undefined) console.log(`Optuna: ${missing}`);
  console.log('µs/report growing with the reports is a decision whose cost grows with the curve (each reads it once).');
  console.log(`wrote ${writeResults('early-stopping-cost', { readings, ...(missing === undefined ? {} : { optuna: missing }) })}`);
}

await main();
