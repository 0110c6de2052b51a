// Multi-objective benchmark (`npm run bench:multiobjective`): nsga2, motpe, parego and random on
// ZDT1, ZDT2, ZDT3 (n = 30) and DTLZ2 (3 objectives, n = 12), sequentially (one trial at a
// time), seeds 1..N (10 by default); hypervolume of the front after 50 and 100 trials against the reference
// points of bench/multiobjective-problems.ts, median over seeds, next to Optuna 3.1's
// NSGAIISampler and MOTPE (TPESampler with several directions) on the same problems, seeds and
// budget (bench/optuna_multiobjective.py), hypervolumes computed by the same code.
// nsga2 runs with population_size 20 on both sides (50, the default of both, leaves 2
// generations in 100 trials). Results: bench/results/multiobjective.json.
//
//   --seeds N (10)  --first-seed N (1: seeds N..N+seeds−1; tune on other seeds than those reported)
//   --budget N (100)  --problems a,b  --algorithms a,b  --no-optuna
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Settings, TrialView } from '../suggestion-algorithms/model.js';
import { hypervolume } from '../suggestion-algorithms/pareto.js';
import { getAlgorithm } from '../suggestion-algorithms/registry.js';
import { optunaMissing, runPythonJson } from './python.js';
import { writeResults } from './results.js';
import { MULTI_OBJECTIVE_PROBLEMS, problemParameters, type MultiObjectiveProblem } from './multiobjective-problems.js';

const here = dirname(fileURLToPath(import.meta.url));
const benchSource = join(here, '..', '..', 'bench');
const CHECKPOINTS = [50, 100];
const POPULATION = 20;

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? undefined : process.argv[i + 1];
}
const seeds = Number(flag('seeds') ?? 10); // 3 left the medians several units apart between seed sets
const firstSeed = Number(flag('first-seed') ?? 1);
const budget = Number(flag('budget') ?? 100);
const problems = (flag('problems')?.split(',') ?? MULTI_OBJECTIVE_PROBLEMS.map((p) => p.name)).map((n) => MULTI_OBJECTIVE_PROBLEMS.find((p) => p.name === n)!);
const algorithms = flag('algorithms')?.split(',') ?? ['nsga2', 'motpe', 'parego', 'random'];
const checkpoints = CHECKPOINTS.some((c) => c <= budget) ? CHECKPOINTS.filter((c) => c <= budget) : [budget]; // a short run still reads its end

const SETTINGS: Record<string, Settings> = { nsga2: [{ name: 'population_size', value: String(POPULATION) }] };

function runSibyl(problem: MultiObjectiveProblem, name: string, seed: number): number[][] {
  const parameters = problemParameters(problem);
  const space = { parameters, direction: 'minimize' as const, directions: Array.from({ length: problem.objectives }, () => 'minimize' as const) };
  const algorithm = getAlgorithm(name)!;
  const trials: TrialView[] = [];
  const values: number[][] = [];
  let state: Record<string, string> | undefined;
  while (trials.length < budget) {
    const r = algorithm.suggest({ space, trials, count: 1, seed, settings: SETTINGS[name] ?? [], ...(state ? { state } : {}) });
    state = r.state;
    const a = r.assignments[0]!;
    const v = problem.evaluate(parameters.map((p) => a[p.name] as number));
    values.push(v);
    trials.push({ name: `t${trials.length}`, state: 'SUCCEEDED', assignment: a, objectiveValue: v[0]!, objectiveValues: v });
  }
  return values;
}

interface OptunaFronts { optuna_version: string; runs: { problem: string; algorithm: string; seed: number; values: number[][] }[] }

/** bench/optuna_multiobjective.py on the same problems, seeds and budget. */
function startOptuna(): Promise<OptunaFronts> {
  const missing = optunaMissing();
  if (missing !== undefined) throw new Error(`${missing} (--no-optuna runs Sibyl's side alone)`);
  return runPythonJson<OptunaFronts>(join(benchSource, 'optuna_multiobjective.py'), ['--seeds', String(seeds), '--first-seed', String(firstSeed), '--budget', String(budget), '--population', String(POPULATION), '--problems', problems.map((p) => p.name).join(',')]);
}

const median = (xs: number[]) => { const s = [...xs].sort((a, b) => a - b); const m = s.length >> 1; return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2; };

interface Run { problem: string; algorithm: string; seed: number; hypervolume: number[]; ms?: number }
const runs: Run[] = [];
const hvAt = (problem: MultiObjectiveProblem, values: number[][]) => checkpoints.map((c) => hypervolume(values.slice(0, c), problem.reference));

// Optuna's runs go on in a child process while Sibyl's run here (its JSON comes at the end).
const optuna = process.argv.includes('--no-optuna') ? undefined : startOptuna();

for (const problem of problems) {
  for (const name of algorithms) {
    for (let seed = firstSeed; seed < firstSeed + seeds; seed++) {
      const t0 = Date.now();
      const values = runSibyl(problem, name, seed);
      runs.push({ problem: problem.name, algorithm: name, seed, hypervolume: hvAt(problem, values), ms: Date.now() - t0 });
      process.stderr.write(`${problem.name} ${name} seed ${seed}: ${runs.at(-1)!.hypervolume.map((h) => h.toFixed(3)).join(' / ')} (${Date.now() - t0} ms)\n`);
    }
  }
}

let optunaVersion: string | undefined;
if (optuna) {
  const doc = await optuna;
  optunaVersion = doc.optuna_version;
  for (const r of doc.runs) {
    const problem = problems.find((p) => p.name === r.problem)!;
    runs.push({ problem: r.problem, algorithm: r.algorithm, seed: r.seed, hypervolume: hvAt(problem, r.values) });
  }
}

const names = [...new Set(runs.map((r) => r.algorithm))];
const summary = problems.flatMap((p) => names.map((a) => {
  const mine = runs.filter((r) => r.problem === p.name && r.algorithm === a);
  return { problem: p.name, algorithm: a, median: checkpoints.map((_, i) => median(mine.map((r) => r.hypervolume[i]!))) };
}));
const lines = [`| problem (optimum HV) | algorithm | ${checkpoints.map((c) => `HV @${c}`).join(' | ')} |`, `|---|---|${checkpoints.map(() => '---|').join('')}`];
for (const p of problems) {
  for (const s of summary.filter((x) => x.problem === p.name)) lines.push(`| ${p.name} (${p.optimalHypervolume.toFixed(3)}) | ${s.algorithm} | ${s.median.map((v) => v.toFixed(3)).join(' | ')} |`);
}
const verdict = problems.map((p) => {
  const last = checkpoints.length - 1;
  const ours = Math.max(...summary.filter((s) => s.problem === p.name && !s.algorithm.startsWith('optuna')).map((s) => s.median[last]!));
  const theirs = Math.max(...summary.filter((s) => s.problem === p.name && s.algorithm.startsWith('optuna')).map((s) => s.median[last]!));
  return `${p.name}: Sibyl's best ${ours.toFixed(3)} vs Optuna's best ${theirs.toFixed(3)} at ${checkpoints[last]} trials → ${ours >= theirs ? 'met' : 'NOT met'}`;
});
console.log(lines.join('\n'));
if (optunaVersion) console.log(`\nOptuna ${optunaVersion}; median of seeds ${firstSeed}–${firstSeed + seeds - 1}\n${verdict.join('\n')}`);
writeResults('multiobjective', { seeds, firstSeed, budget, population: POPULATION, optunaVersion, summary, runs });
