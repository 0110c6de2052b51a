// Seeded random inputs, beside the hand-picked ones of hostile-input.test.ts: structural mutations
// of every example study and Katib fixture (and of their trial templates, on the kubernetes
// runtime), random requests to Katib's Suggestion and
// EarlyStopping services, and random ask/tell clients. The seeds are fixed, so a failure
// reproduces (for the ask/tell clients: each client's choices, not how the clients interleave).
// Each property fails if a field loses its validation (a 5xx, INTERNAL, a refusal naming no
// field), if an algorithm proposes outside its space, or if a study can be left stuck.
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { Rng } from '../suggestion-algorithms/rng.js';
import { startServer } from '../src/server/app.js';
import { startFakeKubeWithFile } from './support/fake-kube/index.js';
import { startPostgres } from './support/postgres.js';
import { tempDir } from './support/study.js';
import { call, startTestServer, toStruct, type TestServer } from './support/server.js';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Doc = { [key: string]: Json };

/** A seeded source of choices. */
class Chooser {
  private readonly rng: Rng;
  constructor(seed: number) {
    this.rng = new Rng(seed, 0);
  }
  chance(p: number): boolean {
    return this.rng.next() < p;
  }
  int(n: number): number {
    return this.rng.int(n);
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.rng.int(xs.length)]!;
  }
  number(): number {
    return this.rng.next();
  }
}

/** Values that have broken parsers somewhere: wrong types, non-finite numbers, huge sizes. */
const ODD_VALUES: readonly Json[] = [
  null, -1, 0, 1, 1.5, 1e308, -1e308, 2 ** 53 + 1, 2 ** 31, -(2 ** 31) - 1, '', ' ', 'x'.repeat(5000),
  'NaN', 'Infinity', '-Infinity', '1e999', '0x10', '1_000', '-', 'é', '\u0000', '<b>x</b>',
  '${trialParameters.nope}', '${trialParameters.', true, false, [], {}, [null], [[]], { a: {} },
  ['a', 'a'], '10', '-5', '0.0000001', 'max', 'min', 'latest', 'a'.repeat(64),
  { name: 'x', value: 'y' }, [{ name: 'x', value: 'y' }], Array.from({ length: 3000 }, (_, i) => i),
];
const ODD_NUMBER_STRINGS = ['', 'nan', 'NaN', 'inf', '-inf', 'Infinity', '1e999', '-1e999', '0x1f', '1,5', ' 3 ', '1e-320', '9007199254740993', '-0', 'abc', '2.5'];

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

/** Every Experiment document of the examples and of the Katib fixtures. */
function baseDocuments(): Doc[] {
  const docs: Doc[] = [];
  for (const dir of ['examples/mlp', 'test/fixtures/katib', 'test/fixtures/katib/examples']) {
    for (const file of readdirSync(root(dir)).filter((f) => f.endsWith('.yaml'))) {
      for (const d of parseAllDocuments(readFileSync(join(root(dir), file), 'utf8'))) {
        const json = d.toJSON() as Doc | null;
        if (json?.kind === 'Experiment') docs.push(json);
      }
    }
  }
  return docs;
}

/** The paths of every node of a document. */
function paths(node: Json, prefix: string[] = [], out: string[][] = []): string[][] {
  if (prefix.length) out.push(prefix);
  if (node !== null && typeof node === 'object') for (const k of Object.keys(node)) paths((node as Doc)[k]!, [...prefix, k], out);
  return out;
}

/** A copy of `doc` with one to three nodes (below `under`, when it has any) replaced, deleted, duplicated or given an extra key. */
function mutate(doc: Doc, c: Chooser, under: readonly string[] = []): { doc: Doc; ops: string[] } {
  const copy = structuredClone(doc);
  const ops: string[] = [];
  for (let i = 1 + c.int(3); i > 0; i--) {
    const all = paths(copy);
    const below = all.filter((p) => p.length > under.length && under.every((k, j) => p[j] === k));
    const path = c.pick(below.length > 0 ? below : all);
    let parent = copy as Json;
    for (const k of path.slice(0, -1)) parent = (parent as Doc)[k]!;
    const holder = parent as Doc & Json[];
    const key = path.at(-1)!;
    const wanted = c.pick(['set', 'set', 'set', 'delete', 'duplicate', 'extra key', 'number'] as const);
    const current = holder[key as never] as Json;
    // An operation that does not apply to this node (a duplicate outside a list, say) sets it instead.
    const op = wanted === 'duplicate' && !Array.isArray(holder) ? 'set'
      : wanted === 'extra key' && (current === null || typeof current !== 'object' || Array.isArray(current)) ? 'set'
        : wanted === 'number' && !(typeof current === 'string' && /^-?[0-9.]+$/.test(current)) ? 'set'
          : wanted;
    if (op === 'delete') Array.isArray(holder) ? holder.splice(Number(key), 1) : delete holder[key];
    else if (op === 'duplicate') holder.push(structuredClone(current));
    else if (op === 'extra key') (current as Doc)[c.pick(['extra', 'name', 'value', 'min', 'max', 'step', 'list', 'kind', 'goal', 'constructor'])] = structuredClone(c.pick(ODD_VALUES));
    else if (op === 'number') holder[key as never] = c.pick([`-${current}`, `${current}0000000000000000000000`, '1e400', '0']) as never;
    else holder[key as never] = structuredClone(c.pick(ODD_VALUES)) as never;
    ops.push(`${op} ${path.join('.')}`);
  }
  return { doc: copy, ops };
}

type GrpcFailure = { code: number; details: string };
/** A refusal's message starts with the field it names (a label key has `/`, a setting's name in brackets anything). */
const FIELD_FIRST = /^(?:[\w./-]|\[[^\]]*\])+: /;

/** A REST refusal's problems: not a 4xx, no field named, a stack trace. */
function restProblem(status: number, body: unknown): string | null {
  const text = JSON.stringify(body ?? '');
  if (status >= 500) return `status ${status}: ${text.slice(0, 300)}`;
  if (/\\n\s+at /.test(text)) return `a stack trace: ${text.slice(0, 300)}`;
  const error = (body as { error?: { field?: string } } | undefined)?.error;
  if (status >= 400 && status !== 409 && !error?.field) return `status ${status} names no field: ${text.slice(0, 300)}`;
  return null;
}

test('1,500 random mutations of every example and Katib fixture, over REST and sibyl.v1 gRPC: a study or a refusal naming its field, never a 5xx, INTERNAL, a hang or a trace', { timeout: 300_000 }, async () => {
  const docs = baseDocuments();
  assert.ok(docs.length >= 50, `only ${docs.length} base documents`);
  const c = new Chooser(20261203);
  const s = await startTestServer({ runtime: 'external' });
  const studies = s.client('Studies');
  const failures: string[] = [];
  let created = 0;
  try {
    for (let i = 0; i < 1500; i++) {
      const { doc, ops } = mutate(c.pick(docs), c);
      const name = `fuzz-${i}`;
      if (doc.metadata !== null && typeof doc.metadata === 'object' && !Array.isArray(doc.metadata)) doc.metadata.name = name;
      const runtime = c.pick(['external', 'local']);
      const adapter = c.pick(['REST spec', 'REST spec', 'REST specText', 'gRPC spec', 'gRPC specText'] as const);
      const started = Date.now();
      let accepted: boolean;
      if (adapter.startsWith('REST')) {
        const r = await s.http('POST', '/api/v1/studies', adapter === 'REST spec' ? { spec: doc, runtime } : { specText: JSON.stringify(doc), runtime });
        const problem = restProblem(r.status, r.body);
        if (problem) failures.push(`${adapter} [${ops.join('; ')}] ${problem}`);
        accepted = r.status === 201;
      } else {
        const request = adapter === 'gRPC spec' ? { spec: toStruct(doc), runtime } : { specText: JSON.stringify(doc), runtime };
        accepted = await call(studies, 'createStudy', request).then(() => true, (e: GrpcFailure) => {
          if (e.code !== grpc.status.INVALID_ARGUMENT || !FIELD_FIRST.test(e.details)) failures.push(`${adapter} [${ops.join('; ')}] code ${e.code}: ${String(e.details).slice(0, 300)}`);
          return false;
        });
      }
      if (Date.now() - started > 3000) failures.push(`${adapter} [${ops.join('; ')}] took ${Date.now() - started} ms`);
      if (accepted) {
        created++;
        const deleted = await s.http('DELETE', `/api/v1/studies/${name}`);
        if (deleted.status !== 204) failures.push(`[${ops.join('; ')}] created but not deleted: ${deleted.status}`);
      }
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of 1,500 mutations were not handled`);
    // Some mutations leave a valid study (a changed goal, a dropped optional field): both paths ran.
    assert.ok(created >= 50 && created <= 1000, `${created} of 1,500 mutated documents were accepted`);
    assert.deepEqual((await s.http('GET', '/api/v1/studies')).body.studies, [], 'every accepted study was deleted with all it owns');
  } finally {
    await s.close();
  }
});

test('600 random mutations of trial templates on the kubernetes runtime (fake API server): a study or a refusal naming its field, and every study checked by a dry run first', { timeout: 300_000 }, async (t) => {
  const TEMPLATE = ['spec', 'trialTemplate', 'trialSpec'];
  const docs = baseDocuments().filter((d) => {
    const spec = (d.spec as Doc | undefined)?.trialTemplate as Doc | undefined;
    return spec?.trialSpec !== undefined && (spec.trialSpec as Doc).apiVersion !== 'v1';
  });
  assert.ok(docs.length >= 30, `only ${docs.length} base documents with a trialSpec`);
  const c = new Chooser(20261204);
  const dir = tempDir();
  // No controllers: a trial object of an accepted study stays as created until the study is deleted.
  const fake = await startFakeKubeWithFile(dir, { noControllers: true });
  const server = await startServer({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, dataDir: join(dir, 'data'), runtime: 'kubernetes', kubeconfig: fake.kubeconfig, log: () => {} });
  const http = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`http://127.0.0.1:${server.httpPort}${path}`, { method, ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const failures: string[] = [];
  let created = 0;
  try {
    for (let i = 0; i < 600; i++) {
      const { doc, ops } = mutate(c.pick(docs), c, c.chance(0.8) ? TEMPLATE : ['spec', 'trialTemplate']);
      const name = `kfuzz-${i}`;
      if (doc.metadata !== null && typeof doc.metadata === 'object' && !Array.isArray(doc.metadata)) doc.metadata.name = name;
      const r = await http('POST', '/api/v1/studies', { spec: doc });
      const problem = restProblem(r.status, r.body);
      if (problem) failures.push(`[${ops.join('; ')}] ${problem}`);
      const dryRuns = fake.kube.requests.filter((q) => q.method === 'POST' && q.query.get('dryRun') === 'All' && q.body?.['metadata']?.['name'] === `${name}-0000`).length;
      if (r.status === 201) {
        created++;
        if (dryRuns !== 1) failures.push(`[${ops.join('; ')}] accepted after ${dryRuns} dry runs`);
        const deleted = await http('DELETE', `/api/v1/studies/${name}`);
        if (deleted.status !== 204) failures.push(`[${ops.join('; ')}] created but not deleted: ${deleted.status}`);
      }
    }
    t.diagnostic(`${created} of 600 accepted`);
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of 600 mutations were not handled`);
    assert.ok(created >= 50 && created <= 500, `${created} of 600 mutated documents were accepted`);
    assert.deepEqual((await http('GET', '/api/v1/studies')).body.studies, [], 'every accepted study was deleted');
  } finally {
    await server.close();
    await fake.kube.close();
  }
});

// --- Katib's Suggestion and EarlyStopping services ---

interface KatibParameter {
  name: string;
  parameterType: 'DOUBLE' | 'INT' | 'CATEGORICAL' | 'DISCRETE' | 'UNKNOWN_TYPE';
  feasibleSpace: { min?: string; max?: string; step?: string; distribution?: string; list?: string[] };
}

interface KatibSettings {
  algorithmName: string;
  algorithmSettings: { name: string; value: string }[];
}

interface KatibExperiment {
  name: string;
  spec: {
    parameterSpecs: { parameters: KatibParameter[] };
    objective: { type: string; goal: number; objectiveMetricName: string; additionalMetricNames: string[] };
    algorithm: KatibSettings;
    earlyStopping?: KatibSettings;
    parallelTrialCount: number;
    maxTrialCount: number;
  };
}

/** A request that is valid but for rare odd values (`oddness` the chance of each). */
class KatibRequests {
  constructor(private readonly c: Chooser, private readonly oddness: number) {}

  private odd(): boolean {
    return this.c.chance(this.oddness);
  }
  private oddNumber(): string {
    return this.c.pick(ODD_NUMBER_STRINGS);
  }

  parameters(): KatibParameter[] {
    return Array.from({ length: 1 + this.c.int(4) }, (_, i): KatibParameter => {
      const type = this.odd() ? 'UNKNOWN_TYPE' : this.c.pick(['DOUBLE', 'INT', 'CATEGORICAL', 'DISCRETE'] as const);
      const name = this.odd() ? this.c.pick(['', 'p0']) : i === 0 && this.c.chance(0.3) ? 'epochs' : `p${i}`;
      if (type === 'CATEGORICAL') return { name, parameterType: type, feasibleSpace: { list: this.odd() ? this.c.pick([[], ['a', 'a'], ['x'.repeat(300)]]) : ['a', 'b', 'c', 'd', 'e'] } };
      if (type === 'DISCRETE') return { name, parameterType: type, feasibleSpace: { list: this.odd() ? [this.oddNumber(), this.oddNumber()] : ['1', '2', '4', '8', '16'] } };
      return {
        name, parameterType: type,
        feasibleSpace: {
          min: this.odd() ? this.oddNumber() : this.c.pick(['0.001', '1']),
          max: this.odd() ? this.oddNumber() : this.c.pick(['10', '100']),
          step: this.odd() ? this.oddNumber() : this.c.pick(['', '', '', '1']),
          distribution: this.odd() ? 'NORMAL' : this.c.pick(['UNIFORM', 'LOG_UNIFORM', 'DISTRIBUTION_UNSPECIFIED']),
        },
      };
    });
  }

  experiment(parameters: KatibParameter[]): KatibExperiment {
    const algorithmName = this.odd() ? this.c.pick(['nope', '']) : this.c.pick(Object.keys(ALGORITHM_SETTINGS));
    const settings = (ALGORITHM_SETTINGS[algorithmName] ?? [])
      .filter(([name]) => REQUIRED_SETTINGS.has(name) || this.c.chance(0.6))
      .map(([name, values]) => ({ name, value: this.odd() ? this.oddNumber() : this.c.pick(values) }));
    if (this.odd()) settings.push({ name: this.c.pick(['x', 'sigma', 'eta', 'gamma']), value: this.oddNumber() });
    return {
      name: this.odd() ? this.c.pick(['', 'x'.repeat(300)]) : 'katib-exp',
      spec: {
        parameterSpecs: { parameters },
        objective: {
          type: this.odd() ? 'UNKNOWN' : this.c.pick(['MAXIMIZE', 'MINIMIZE']),
          goal: this.c.chance(0.5) ? 0.9 : 0,
          objectiveMetricName: this.odd() ? '' : 'accuracy',
          additionalMetricNames: this.odd() ? ['accuracy'] : this.c.pick([[], ['loss']]),
        },
        algorithm: { algorithmName, algorithmSettings: settings },
        parallelTrialCount: this.odd() ? this.c.pick([0, -1, 2147483647]) : this.c.pick([1, 3]),
        maxTrialCount: this.odd() ? this.c.pick([0, -5, 2147483647]) : this.c.pick([12, 40]),
      },
    };
  }

  trials(parameters: KatibParameter[]) {
    return Array.from({ length: this.c.int(this.c.chance(0.1) ? 200 : 15) }, (_, i) => ({
      name: this.odd() ? this.c.pick(['t-0', '']) : `t-${i}`,
      spec: {
        objective: { type: 'MAXIMIZE', objectiveMetricName: 'accuracy' },
        parameterAssignments: {
          assignments: parameters.filter(() => !this.odd()).map((p) => ({
            name: this.odd() ? 'ghost' : p.name,
            value: this.odd() ? this.oddNumber() : p.feasibleSpace.list ? this.c.pick(p.feasibleSpace.list.length ? p.feasibleSpace.list : ['z']) : String(Number(p.feasibleSpace.min) + this.c.int(3)),
          })),
        },
        labels: this.c.chance(0.2) ? { 'pbt.suggestion.katib.kubeflow.org/generation': this.oddNumber(), 'pbt.suggestion.katib.kubeflow.org/parent': this.c.pick(['t-0', 'ghost', '']) } : {},
      },
      status: {
        startTime: '2026-11-28T10:00:00Z',
        completionTime: '',
        condition: this.c.pick(['SUCCEEDED', 'SUCCEEDED', 'RUNNING', 'FAILED', 'EARLYSTOPPED', 'KILLED', 'CREATED', 'UNKNOWN']),
        observation: { metrics: this.c.chance(0.8) ? [{ name: this.odd() ? this.c.pick(['loss', '']) : 'accuracy', value: this.odd() ? this.oddNumber() : String(this.c.number()) }] : [] },
      },
    }));
  }

  earlyStopping(): KatibSettings {
    const algorithmName = this.odd() ? this.c.pick(['nope', '']) : this.c.pick(Object.keys(POLICY_SETTINGS));
    const algorithmSettings = (POLICY_SETTINGS[algorithmName] ?? ['x'])
      .filter(() => this.c.chance(0.5))
      .map((name) => ({ name: this.odd() ? 'x' : name, value: this.odd() ? this.oddNumber() : this.c.pick(['1', '2', '3', '4']) }));
    return { algorithmName, algorithmSettings };
  }

  observationLog(count: number) {
    return {
      metricLogs: Array.from({ length: count }, (_, k) => ({
        timeStamp: this.odd() ? this.oddNumber() : `2026-11-28T10:00:${String(k).padStart(2, '0')}Z`,
        metric: { name: this.odd() ? 'loss' : 'accuracy', value: this.odd() ? this.oddNumber() : String(this.c.number()) },
      })),
    };
  }
}

const ALGORITHM_SETTINGS: Record<string, [string, string[]][]> = {
  random: [['random_state', ['1', '7']]],
  grid: [],
  sobol: [],
  tpe: [['random_state', ['1']], ['n_startup_trials', ['2', '5']], ['n_ei_candidates', ['3', '24']]],
  'multivariate-tpe': [['random_state', ['1']], ['n_startup_trials', ['2', '5']]],
  bayesianoptimization: [['random_state', ['1']], ['n_initial_points', ['2', '4']], ['acq_func', ['gp_hedge', 'EI', 'LCB', 'PI']], ['base_estimator', ['GP', 'RF', 'ET', 'GBRT']]],
  cmaes: [['random_state', ['1']], ['sigma', ['0.5', '0.01']], ['restart_strategy', ['ipop', 'bipop', 'none']]],
  hyperband: [['resource_name', ['epochs']], ['r_l', ['9', '27', '3']], ['eta', ['3', '2']]],
  pbt: [['n_population', ['5', '8']], ['truncation_threshold', ['0.2', '0.4']], ['resample_probability', ['0.5']], ['suggestion_trial_dir', ['/tmp/pbt']]],
};
const REQUIRED_SETTINGS = new Set(['resource_name', 'r_l', 'n_population', 'truncation_threshold', 'suggestion_trial_dir']);
const POLICY_SETTINGS: Record<string, string[]> = {
  medianstop: ['min_trials_required', 'start_step'],
  asha: ['min_resource', 'reduction_factor', 'min_early_stopping_rate'],
  curvefit: ['min_trials_required', 'start_step', 'margin'],
};

/** Why a proposed assignment is outside the declared space, or null. */
function outsideSpace(parameters: readonly KatibParameter[], assignments: readonly { name: string; value: string }[]): string | null {
  if (assignments.length !== parameters.length) return `${assignments.length} values for ${parameters.length} parameters`;
  for (const p of parameters) {
    const value = assignments.find((a) => a.name === p.name)?.value;
    if (value === undefined) return `no value for ${p.name}`;
    const { list, min, max } = p.feasibleSpace;
    if (list) {
      if (!list.includes(value) && !(p.parameterType === 'DISCRETE' && list.map(Number).includes(Number(value)))) return `${p.name} = ${value} is not in ${list.join(', ')}`;
    } else {
      const x = Number(value);
      if (!(x >= Number(min) && x <= Number(max))) return `${p.name} = ${value} is outside [${min}, ${max}]`;
      if (p.parameterType === 'INT' && !Number.isInteger(x)) return `${p.name} = ${value} is not an integer`;
    }
  }
  return null;
}


test('1,200 random Katib Suggestion and EarlyStopping requests: proposals inside the space, rules Katib-shaped, refusals INVALID_ARGUMENT naming the field', { timeout: 300_000 }, async () => {
  const c = new Chooser(20261204);
  const requests = new KatibRequests(c, 0.02);
  const db: TestServer = await startTestServer({ runtime: 'external' });
  const s = await startTestServer({ runtime: 'external', katibDbManagers: [db.grpcAddress] });
  const suggestion = s.client('Suggestion');
  const earlyStopping = s.client('EarlyStopping');
  const dbManager = db.client('DBManager');
  const failures: string[] = [];
  const answered: Record<string, number> = {};
  try {
    for (let i = 0; i < 1200; i++) {
      const parameters = requests.parameters();
      const experiment = requests.experiment(parameters);
      const trials = requests.trials(parameters);
      const method = c.pick(['getSuggestions', 'getSuggestions', 'validateAlgorithmSettings', 'getEarlyStoppingRules', 'validateEarlyStoppingSettings'] as const);
      const started = Date.now();
      try {
        if (method === 'getSuggestions') {
          const wanted = c.chance(0.02) ? c.pick([0, -1, 50]) : 1 + c.int(3);
          const reply = await call(suggestion, method, { experiment, trials, currentRequestNumber: wanted, totalRequestNumber: 20 });
          const proposed: { assignments: { name: string; value: string }[] }[] = reply.parameterAssignments ?? [];
          if (proposed.length > wanted) failures.push(`${method} ${experiment.spec.algorithm.algorithmName}: ${proposed.length} proposals for ${wanted}`);
          for (const p of proposed) {
            const why = outsideSpace(parameters, p.assignments ?? []);
            if (why) failures.push(`${method} ${experiment.spec.algorithm.algorithmName}: ${why}`);
          }
        } else if (method === 'validateAlgorithmSettings') {
          await call(suggestion, method, { experiment });
        } else {
          const settings = requests.earlyStopping();
          if (method === 'validateEarlyStoppingSettings') await call(earlyStopping, method, { earlyStopping: settings });
          else {
            experiment.spec.earlyStopping = settings;
            // The metrics collector reports the curves to the DB manager first; a bad log is refused whole.
            for (const t of trials.filter((t) => t.name && c.chance(0.7))) {
              await call(dbManager, 'reportObservationLog', { trialName: t.name, observationLog: requests.observationLog(c.int(12)) }).catch((e: GrpcFailure) => {
                if (e.code !== 3 || !FIELD_FIRST.test(e.details)) failures.push(`reportObservationLog: ${e.code} ${e.details}`);
              });
            }
            const reply = await call(earlyStopping, method, { experiment, trials, dbManagerAddress: db.grpcAddress });
            const comparison = experiment.spec.objective.type === 'MAXIMIZE' ? 'LESS' : 'GREATER';
            for (const rule of reply.earlyStoppingRules ?? []) {
              if (rule.name !== 'accuracy' || rule.comparison !== comparison || !Number.isFinite(Number(rule.value)) || !(rule.startStep >= 1)) failures.push(`${method} ${settings.algorithmName}: rule ${JSON.stringify(rule)}`);
            }
          }
        }
        answered[`${method} OK`] = (answered[`${method} OK`] ?? 0) + 1;
      } catch (e) {
        const { code, details } = e as GrpcFailure;
        if (code !== 3 || !FIELD_FIRST.test(details)) failures.push(`${method} ${experiment.spec.algorithm.algorithmName}: code ${code}: ${String(details).slice(0, 300)}`);
        answered[`${method} refused`] = (answered[`${method} refused`] ?? 0) + 1;
      }
      if (Date.now() - started > 5000) failures.push(`${method} ${experiment.spec.algorithm.algorithmName} with ${trials.length} trials took ${Date.now() - started} ms`);
    }
    assert.deepEqual(failures.slice(0, 20), [], `${failures.length} of 1,200 requests were not handled`);
    // Both answers were exercised for every method.
    for (const method of ['getSuggestions', 'validateAlgorithmSettings', 'getEarlyStoppingRules', 'validateEarlyStoppingSettings']) {
      assert.ok((answered[`${method} OK`] ?? 0) >= 40 && (answered[`${method} refused`] ?? 0) >= 10, `${method}: ${JSON.stringify(answered)}`);
    }
  } finally {
    await s.close();
    await db.close();
  }
});

// --- Ask/tell clients that report, ask, complete, give up and stop at random ---

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED']);
const ACTIVE = new Set(['CREATED', 'RUNNING']);

const SHAPES = ['flat', 'conditional', 'constraints', 'multi-objective'] as const;

/** A study of a random algorithm and policy, on a flat, conditional or constrained space, or with two objectives. */
function askTellStudy(name: string, c: Chooser): { doc: Doc; shape: (typeof SHAPES)[number] } {
  const single = c.pick(['random', 'tpe', 'bayesianoptimization', 'cmaes', 'sobol', 'grid', 'hyperband', 'pbt', 'multivariate-tpe']);
  const fixedShape = single === 'hyperband' || single === 'pbt' || single === 'grid' || single === 'cmaes';
  const shape = fixedShape ? 'flat' : c.pick(SHAPES);
  const algorithm = shape === 'multi-objective' ? c.pick(['nsga2', 'motpe', 'parego', 'random']) : single;
  const policy = single === 'hyperband' || single === 'pbt' || shape === 'multi-objective' ? null : c.pick([null, 'medianstop', 'asha', 'curvefit']);
  const stepped = algorithm === 'grid' || algorithm === 'pbt';
  const parameters: Json[] = [
    { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.01', max: '0.05', ...(stepped ? { step: '0.01' } : {}) } },
    { name: 'layers', parameterType: 'int', feasibleSpace: { min: '1', max: '4', ...(stepped ? { step: '1' } : {}) } },
  ];
  if (algorithm === 'hyperband') parameters.push({ name: 'epochs', parameterType: 'int', feasibleSpace: { min: '1', max: '9' } });
  if (algorithm !== 'cmaes') parameters.push({ name: 'opt', parameterType: 'categorical', feasibleSpace: { list: ['adam', 'sgd'] } });
  if (shape === 'conditional') parameters.push({ name: 'momentum', parameterType: 'double', feasibleSpace: { min: '0.1', max: '0.9' }, condition: { parent: 'opt', equals: 'sgd' } });
  const settings = algorithm === 'hyperband' ? [{ name: 'resource_name', value: 'epochs' }, { name: 'r_l', value: '9' }, { name: 'eta', value: '3' }]
    : algorithm === 'pbt' ? [{ name: 'n_population', value: '5' }, { name: 'truncation_threshold', value: '0.4' }, { name: 'suggestion_trial_dir', value: '/tmp/pbt' }]
      : [{ name: 'random_state', value: String(1 + c.int(100)) }];
  const type = c.pick(['maximize', 'minimize']);
  const objective: Json = shape === 'multi-objective'
    ? { objectives: [{ type: 'maximize', objectiveMetricName: 'acc' }, { type: 'minimize', objectiveMetricName: 'loss' }] }
    : {
      type, objectiveMetricName: 'acc', additionalMetricNames: ['loss'],
      ...(c.chance(0.3) ? { goal: type === 'maximize' ? 0.95 : 0.05 } : {}),
      ...(c.chance(0.3) ? { metricStrategies: [{ name: 'acc', value: c.pick(['min', 'max', 'latest']) }] } : {}),
      ...(shape === 'constraints' ? { constraints: [{ metricName: 'loss', max: 0.7 }] } : {}),
    };
  const doc: Doc = {
    apiVersion: 'kubeflow.org/v1beta1', kind: 'Experiment', metadata: { name },
    spec: {
      objective,
      algorithm: { algorithmName: algorithm, algorithmSettings: settings },
      ...(policy ? { earlyStopping: { algorithmName: policy, algorithmSettings: policy === 'medianstop' ? [{ name: 'min_trials_required', value: '2' }, { name: 'start_step', value: '2' }] : [] } } : {}),
      parallelTrialCount: 1 + c.int(4), maxTrialCount: 5 + c.int(25), maxFailedTrialCount: 1 + c.int(5),
      parameters,
    },
  };
  return { doc, shape };
}

/** One client: asks, reports a random curve (out of order and repeated now and then), asks whether to stop, and ends the trial one way or another. */
async function randomClient(replica: () => TestServer, study: string, id: string, c: Chooser, deadline: number, check: (status: number, body: unknown, what: string) => void, told: Set<string>): Promise<void> {
  const http = async (method: string, path: string, body?: unknown) => {
    const r = await replica().http(method, `/api/v1${path}`, body);
    check(r.status, r.body, `${method} ${path}`);
    return r;
  };
  while (Date.now() < deadline) {
    if (TERMINAL.has((await http('GET', `/studies/${study}`)).body.state)) return;
    const asked = await http('POST', `/studies/${study}/suggest`, { clientId: id, count: 1 + c.int(3) });
    const trials: { name: string }[] = asked.status === 200 ? asked.body.trials : [];
    if (trials.length === 0) await new Promise((resolve) => setTimeout(resolve, 20));
    await Promise.all(trials.map(async ({ name }) => {
      let value = c.number();
      for (let step = 1; step <= c.int(12); step++) {
        value = Math.min(1, Math.max(0, value + (c.number() - 0.4) * 0.1));
        const at = c.chance(0.1) ? c.int(12) : step;
        const observations = [{ metric: 'acc', value, step: at }, ...(c.chance(0.5) ? [{ metric: 'loss', value: 1 - value, step: at }] : [])];
        await http('POST', `/trials/${name}/observations`, { observations });
        if (c.chance(0.5) && (await http('GET', `/trials/${name}/should-stop`)).body.shouldStop) {
          told.add(name);
          if (c.chance(0.8)) break;
        }
      }
      const end = c.number();
      if (end < 0.7) await http('POST', `/trials/${name}/complete`, { metrics: [{ metric: 'acc', value }] });
      else if (end < 0.8) await http('POST', `/trials/${name}/complete`, { infeasible: true, reason: 'diverged' });
      else if (end < 0.88) await http('POST', `/trials/${name}/complete`, {});
      else if (end < 0.95) await http('POST', `/trials/${name}/stop`);
      else {
        // Told twice, then a late report: both refused, nothing changes.
        await http('POST', `/trials/${name}/complete`, { metrics: [{ metric: 'acc', value }] });
        await http('POST', `/trials/${name}/complete`, { metrics: [{ metric: 'acc', value }] });
        await http('POST', `/trials/${name}/observations`, { observations: [{ metric: 'acc', value: 0.1, step: 99 }] });
      }
    }));
  }
}

/**
 * Runs `count` random studies, each with three random clients whose every call goes to a random
 * one of `replicas`. The studies come from `seed`, and each client has a seed of its own, so a
 * client's choices do not depend on how the three interleave (the server's answers still may).
 */
async function randomAskTell(replicas: readonly TestServer[], seed: number, count: number) {
  const c = new Chooser(seed);
  const failures: string[] = [];
  const told = new Set<string>();
  const policies = new Set<string>();
  const shapes = new Set<string>();
  const calls = replicas.map(() => 0);
  const replica = (chooser: Chooser = c) => () => {
    const i = chooser.int(replicas.length);
    calls[i]!++;
    return replicas[i]!;
  };
  const check = (status: number, body: unknown, what: string) => {
    const problem = restProblem(status, body);
    if (problem) failures.push(`${what}: ${problem}`);
  };
  for (let i = 0; i < count; i++) {
    const name = `asktell-${i}`;
    const { doc, shape } = askTellStudy(name, c);
    shapes.add(shape);
    const created = await replica()().http('POST', '/api/v1/studies', { spec: doc, runtime: 'external' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const spec = doc.spec as { maxTrialCount: number; earlyStopping?: { algorithmName: string } };
    policies.add(spec.earlyStopping?.algorithmName ?? 'none');
    const deadline = Date.now() + 60_000;
    await Promise.all(['a', 'b', 'c'].map((id, k) => {
      const own = new Chooser(seed + 1000 * (i + 1) + k);
      return randomClient(replica(own), name, id, own, deadline, check, told);
    }));
    const study = (await replica()().http('GET', `/api/v1/studies/${name}`)).body;
    const trials: { name: string; state: string }[] = (await replica()().http('GET', `/api/v1/studies/${name}/trials?pageSize=1000`)).body.trials;
    if (!TERMINAL.has(study.state)) failures.push(`${name}: still ${study.state} after 60 s`);
    else if (trials.some((t) => ACTIVE.has(t.state))) failures.push(`${name}: ended ${study.state} with active trials`);
    const ended = trials.filter((t) => !ACTIVE.has(t.state)).length;
    if (study.reason === 'MaxTrialsReached' && ended < spec.maxTrialCount) failures.push(`${name}: MaxTrialsReached after ${ended} of ${spec.maxTrialCount}`);
    for (const t of trials) if (told.has(t.name) && t.state !== 'EARLY_STOPPED' && t.state !== 'KILLED') failures.push(`${t.name}: told to stop, ended ${t.state}`);
  }
  assert.deepEqual(failures.slice(0, 20), [], `${failures.length} problems`);
  return { told, policies, shapes, calls };
}

test('30 ask/tell studies, every algorithm and policy, flat, conditional, constrained and two-objective, three random clients each: every study ends, nothing is left active, a trial told to stop ends EARLY_STOPPED, never a 5xx', { timeout: 600_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  try {
    const { told, policies, shapes } = await randomAskTell([s], 20261205, 30);
    assert.ok(told.size >= 10, `only ${told.size} trials were told to stop`);
    assert.deepEqual([...policies].sort(), ['asha', 'curvefit', 'medianstop', 'none']);
    assert.deepEqual([...shapes].sort(), [...SHAPES].sort());
  } finally {
    await s.close();
  }
});

test('the same random clients against two replicas on one PostgreSQL, each call to either: every study ends, nothing is left active, a trial told to stop ends EARLY_STOPPED, never a 5xx', { timeout: 600_000 }, async () => {
  const postgres = await startPostgres();
  const replicas: TestServer[] = [];
  try {
    const storeUrl = await postgres.createDatabase('random_asktell');
    for (let i = 0; i < 2; i++) replicas.push(await startTestServer({ runtime: 'external', storeUrl }));
    const { told, calls } = await randomAskTell(replicas, 20261206, 12);
    assert.ok(told.size >= 5, `only ${told.size} trials were told to stop`);
    assert.ok(calls.every((n) => n >= 100), `both replicas answered; calls per replica: ${calls.join(', ')}`);
  } finally {
    for (const r of replicas) await r.close();
    await postgres.stop();
  }
});
