// TPE benchmark: median simple regret over 10 seeds at 50 and 100 trials on the standard functions,
// and latency per suggestion on hartmann6 after 100/500/1000/2000 finished random trials.
// Run: npx tsc -p tsconfig.json && node dist/bench/tpe.js [regret|latency]
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { Rng } from '../suggestion-algorithms/rng.js';
import type { TrialView } from '../src/model/trial.js';
import { BENCHMARK_FUNCTIONS, hartmann6 } from './functions.js';
import { benchmarkStudy, median, simulate } from './simulate.js';
import { algorithmInput } from '../src/spec/algorithm.js';

const ALGORITHMS = ['random', 'tpe', 'multivariate-tpe'];
// TPE_SEEDS=30 widens the table's seeds (1..30) when a 10-seed median is too noisy to judge.
const SEEDS = Array.from({ length: Number(process.env.TPE_SEEDS ?? 10) }, (_, i) => i + 1);
const CHECKPOINTS = [50, 100];
const BUDGET = Math.max(...CHECKPOINTS);

function regretTable(algorithms: readonly string[]): void {
  console.log(`median simple regret, ${SEEDS.length} seeds, at ${CHECKPOINTS.join(' / ')} trials`);
  console.log(['function', ...algorithms].join('\t'));
  for (const fn of BENCHMARK_FUNCTIONS) {
    const cells = algorithms.map((algorithm) => {
      const runs = SEEDS.map((seed) => simulate({ fn, algorithm, budget: BUDGET, seed }).regret);
      return CHECKPOINTS.map((n) => median(runs.map((r) => r[n - 1] as number)).toPrecision(3)).join(' / ');
    });
    console.log([fn.name, ...cells].join('\t'));
  }
}

function latencyTable(): void {
  console.log('ms per suggestion on hartmann6 (median of 25 calls after 5 warm-up calls, count 1)');
  // CPU time too: on a shared machine wall time mostly measures the other processes.
  console.log(['trials', 'tpe wall', 'tpe cpu', 'mv-tpe wall', 'mv-tpe cpu'].join('\t'));
  for (const n of [100, 500, 1000, 2000]) {
    const rng = new Rng(7, n);
    const trials: TrialView[] = Array.from({ length: n }, (_, i) => {
      const x = hartmann6.bounds.map(() => rng.next());
      const assignment = Object.fromEntries(x.map((v, j) => [`x${j}`, v]));
      return { name: `t${i}`, state: 'SUCCEEDED', assignment, objectiveValue: hartmann6.f(x) };
    });
    const cells = ['tpe', 'multivariate-tpe'].flatMap((name) => {
      const algorithm = getAlgorithm(name)!;
      const spec = benchmarkStudy(hartmann6, name, {});
      for (let r = 0; r < 5; r++) algorithm.suggest({ ...algorithmInput(spec), trials, count: 1, seed: 100 + r });
      const wall: number[] = [];
      const cpu: number[] = [];
      for (let r = 0; r < 25; r++) {
        const started = performance.now();
        const cpuStarted = process.cpuUsage();
        algorithm.suggest({ ...algorithmInput(spec), trials, count: 1, seed: r });
        const used = process.cpuUsage(cpuStarted);
        wall.push(performance.now() - started);
        cpu.push((used.user + used.system) / 1000);
      }
      return [median(wall).toFixed(2), median(cpu).toFixed(2)];
    });
    console.log([n, ...cells].join('\t'));
  }
}

const which = process.argv[2];
// `regret tpe,multivariate-tpe` limits the table to some algorithms.
if (which !== 'latency') regretTable(process.argv[3]?.split(',') ?? ALGORITHMS);
if (which !== 'regret') latencyTable();
