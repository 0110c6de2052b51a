// The dashboard on a large study: 10,000 finished trials (1,000 of them with 20 observations
// each), written with the Store into a fresh data dir, served by a real `sibyl serve`, and the
// study page opened in Debian's Chromium (playwright-core). "Interactive" is the page's own
// ready mark: the study and every trial fetched, the table rendered and every chart drawn
// (ECharts' `finished` event, progressive rendering included): window.__sibylReadyAt, in ms
// since navigation start. Each run uses a fresh browser context (cold cache).
//
//   npm run bench:dashboard [-- --runs N]     → prints a table, writes bench/results/dashboard.json
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../src/server/app.js';
import type { StudySpec } from '../src/spec/types.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { writeResults } from './results.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TRIALS = 10_000;
const WITH_OBSERVATIONS = 1000;
const STEPS = 20;
const TARGET_MS = 2000;
const argRuns = process.argv.indexOf('--runs');
const RUNS = argRuns > 0 ? Number(process.argv[argRuns + 1]) : 5;
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'];

declare const window: any;
declare const document: any;

const spec: StudySpec = {
  name: 'bench-10k',
  namespace: 'default',
  parameters: [
    { name: 'lr', parameterType: 'double', min: 0.0001, max: 0.1, distribution: 'logUniform' },
    { name: 'layers', parameterType: 'int', min: 1, max: 8, distribution: 'uniform' },
    { name: 'dropout', parameterType: 'double', min: 0, max: 0.5, distribution: 'uniform' },
    { name: 'optimizer', parameterType: 'categorical', list: ['sgd', 'adam', 'rmsprop'] },
  ],
  objective: {
    type: 'maximize',
    objectiveMetricName: 'accuracy',
    additionalMetricNames: ['loss'],
    metricStrategies: [{ name: 'accuracy', value: 'max' }, { name: 'loss', value: 'min' }],
  },
  algorithm: { algorithmName: 'random', algorithmSettings: [] },
  parallelTrialCount: 4,
  maxTrialCount: TRIALS,
  trialTemplate: { trialParameters: [], retain: false, command: ['true'] },
  metricsCollector: { kind: 'StdOut', format: 'TEXT', metricsFormat: [] },
};

async function seed(dataDir: string): Promise<number> {
  const t0 = performance.now();
  const store = SqliteStore.open(dataDir);
  let rnd = 12345;
  const random = () => ((rnd = (rnd * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
  try {
    const study = await store.createStudy(spec, dataDir, 1);
    await store.transitionStudy(study.id, 'start');
    for (let done = 0; done < TRIALS; done += 1000) {
      {
        const assignments = Array.from({ length: Math.min(1000, TRIALS - done) }, () => ({
          lr: 10 ** (-4 + 3 * random()),
          layers: 1 + Math.floor(random() * 8),
          dropout: random() * 0.5,
          optimizer: ['sgd', 'adam', 'rmsprop'][Math.floor(random() * 3)]!,
        }));
        const trials = await store.addTrials(study.id, assignments);
        for (const t of trials) {
          await store.transitionTrial(t.id, 'start');
          const a = t.assignment as { lr: number; layers: number; dropout: number };
          const final = Math.max(0, Math.min(1, 0.95 - 0.08 * Math.abs(Math.log10(a.lr) + 2) - 0.1 * a.dropout + 0.01 * a.layers + 0.05 * (random() - 0.5)));
          const time = new Date().toISOString();
          const obs = t.seq <= WITH_OBSERVATIONS
            ? Array.from({ length: STEPS }, (_, i) => [
                { metric: 'accuracy', step: i + 1, value: final * (1 - Math.exp(-(i + 1) / 4)), time },
                { metric: 'loss', step: i + 1, value: 2 * Math.exp(-(i + 1) / 5) + (1 - final), time },
              ]).flat()
            : [{ metric: 'accuracy', step: 1, value: final, time }, { metric: 'loss', step: 1, value: 1 - final, time }];
          await store.addObservations([{ trialId: t.id, observations: obs }]);
          await store.transitionTrial(t.id, 'succeed', { reason: 'TrialSucceeded', objectiveValue: final });
        }
      }
    }
    await store.transitionStudy(study.id, 'succeed', 'MaxTrialsReached');
  } finally {
    await store.close();
  }
  return performance.now() - t0;
}

async function main(): Promise<void> {
  execFileSync('bash', [join(ROOT, 'scripts/ensure-chromium.sh')], { stdio: 'inherit' });
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-bench-dashboard-'));
  const dataDir = join(dir, 'data');
  mkdirSync(dataDir);
  const seedMs = await seed(dataDir);
  console.log(`seeded ${TRIALS} trials (${WITH_OBSERVATIONS} with ${STEPS} steps of 2 metrics) in ${(seedMs / 1000).toFixed(1)} s`);
  const server = await startServer({ dataDir, host: '127.0.0.1', grpcPort: 0, httpPort: 0, runtime: 'local' });
  const base = `http://127.0.0.1:${server.httpPort}`;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ARGS });
  const runs: { readyMs: number; dataMs: number; marks: Record<string, number>; rows: number; historyPoints: number; parallelLines: number; sortMs: number; wallMs: number }[] = [];
  try {
    for (let i = 0; i < RUNS + 1; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(`${base}/studies/${spec.name}`);
      await page.waitForFunction(() => window.__sibylReady === true, undefined, { timeout: 60_000, polling: 10 });
      const wallMs = performance.now() - t0;
      const m = await page.evaluate(() => ({
        readyMs: window.__sibylReadyAt as number,
        dataMs: performance.getEntriesByName('sibyl:data')[0]?.startTime ?? NaN,
        marks: Object.fromEntries(performance.getEntriesByType('mark').map((e: { name: string; startTime: number }) => [e.name, Math.round(e.startTime)])),
        rows: document.querySelectorAll('#trials-table tbody tr').length as number,
        historyPoints: window.__sibylCharts.history.getOption().series[0].data.length as number,
        parallelLines: window.__sibylCharts.parallel.getOption().series[0].data.length as number,
      }));
      // An interaction on the loaded page: sort 10,000 trials by the objective.
      const s0 = performance.now();
      await page.locator('button[data-sort="objective"]').click();
      await page.waitForFunction(() => document.querySelector('#trials-table th[aria-sort="descending"], #trials-table th[aria-sort="ascending"]')?.textContent?.includes('accuracy'));
      const sortMs = performance.now() - s0;
      if (m.historyPoints !== TRIALS || m.parallelLines !== TRIALS) throw new Error(`the charts hold ${m.historyPoints}/${m.parallelLines} trials, not ${TRIALS}`);
      if (i > 0) runs.push({ ...m, sortMs, wallMs }); // the first run warms the server
      console.log(`${i === 0 ? 'warm-up' : `run ${i}`}: interactive ${m.readyMs.toFixed(0)} ms (data ${m.dataMs.toFixed(0)} ms), sort ${sortMs.toFixed(0)} ms`, process.env.BENCH_VERBOSE ? JSON.stringify(m.marks) : '');
      await context.close();
    }
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
  const sorted = runs.map((r) => r.readyMs).sort((a, b) => a - b);
  const median = sorted[Math.floor(sorted.length / 2)]!;
  const result = {
    chromium: browser.version(),
    study: { trials: TRIALS, withObservations: WITH_OBSERVATIONS, steps: STEPS, parameters: spec.parameters.length },
    targetMs: TARGET_MS,
    interactiveMs: { median, min: sorted[0], max: sorted.at(-1) },
    runs,
    pass: median < TARGET_MS,
  };
  const out = writeResults('dashboard', result);
  console.log(`study page with ${TRIALS} trials interactive in ${median.toFixed(0)} ms (median of ${runs.length}; min ${sorted[0]!.toFixed(0)}, max ${sorted.at(-1)!.toFixed(0)}; target < ${TARGET_MS} ms) → ${out}`);
}

await main();
