// Hundreds of bad inputs of our own, across study documents, REST, sibyl.v1 and Katib's API:
// each is a shaped refusal naming its field (REST {"error": {code, message, field}} with a 4xx,
// gRPC a status whose details read "field: reason"), none is a 5xx or a hang, the server answers
// health checks after each, and nothing refused leaves a trace in the store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as http from 'node:http';
import * as grpc from '@grpc/grpc-js';
import { call, startTestServer, type TestServer } from './support/server.js';

type Doc = Record<string, any>;

/** A valid ask/tell study; each case breaks one thing in a copy. */
const BASE: Doc = {
  apiVersion: 'kubeflow.org/v1beta1',
  kind: 'Experiment',
  metadata: { name: 'base', namespace: 'default' },
  spec: {
    objective: { type: 'maximize', objectiveMetricName: 'accuracy', additionalMetricNames: ['loss'], goal: 0.99 },
    algorithm: { algorithmName: 'random', algorithmSettings: [{ name: 'random_state', value: '1' }] },
    parallelTrialCount: 2,
    maxTrialCount: 10,
    maxFailedTrialCount: 3,
    parameters: [
      { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.001', max: '0.1', distribution: 'logUniform' } },
      { name: 'layers', parameterType: 'int', feasibleSpace: { min: '1', max: '4' } },
      { name: 'opt', parameterType: 'categorical', feasibleSpace: { list: ['adam', 'sgd'] } },
    ],
  },
};

/** Sets a dotted path (`spec.parameters.0.name`) in a copy of the base study. */
function withValue(path: string, value: unknown): Doc {
  const doc = structuredClone(BASE);
  const keys = path.split('.');
  let node: Doc = doc;
  for (const k of keys.slice(0, -1)) node = node[k];
  const last = keys.at(-1)!;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return doc;
}
const DELETE = Symbol('delete');
const long = (n: number, c = 'a') => c.repeat(n);

/** [field path in the study, expected field in the error (a prefix), bad values]. */
const SPEC_FIELDS: [string, string, unknown[]][] = [
  ['apiVersion', 'apiVersion', ['kubeflow.org/v1', 5, 'v1beta1']],
  ['kind', 'kind', ['Trial', 7, '']],
  ['metadata', 'metadata', [DELETE, 'x', 5, [], null]],
  ['metadata.name', 'metadata.name', [DELETE, '', 5, 'UPPER', 'under_score', '-lead', 'trail-', long(41), long(1 << 20), ['a'], { a: 1 }, 'a b', '<img src=x onerror=alert(1)>']],
  ['metadata.namespace', 'metadata.namespace', ['Team A', 5, long(64), '-x', 'ns/../x']],
  ['spec', 'spec', [DELETE, 'x', 5, []]],
  ['spec.objective', 'spec.objective', [DELETE, 'x', []]],
  ['spec.objective.type', 'spec.objective.type', [DELETE, '', 'lowest', 'MINIMIZE', 5, null]],
  ['spec.objective.objectiveMetricName', 'spec.objective.objectiveMetricName', [DELETE, '', 5, long(254), ' accuracy', 'accuracy ', long(1 << 20), {}]],
  ['spec.objective.goal', 'spec.objective.goal', ['abc', 'Infinity', '1e999', {}, [], true]],
  ['spec.objective.additionalMetricNames', 'spec.objective.additionalMetricNames', ['loss', [5], ['accuracy'], ['loss', 'loss'], Array.from({ length: 1001 }, (_, i) => `m${i}`), [long(300)]]],
  ['spec.objective.metricStrategies', 'spec.objective.metricStrategies', ['min', [{ name: 'nope', value: 'min' }], [{ name: 'loss', value: 'median' }], [{ name: 'loss', value: 'min' }, { name: 'loss', value: 'max' }], [{ name: 'loss', value: 'min', extra: 1 }]]],
  ['spec.objective.color', 'spec.objective.color', ['red']],
  ['spec.algorithm.algorithmName', 'spec.algorithm.algorithmName', ['', 'nope', 5, long(300), 'hyperopt-random']],
  ['spec.algorithm.algorithmSettings', 'spec.algorithm.algorithmSettings', ['x', [5], [{ name: 'random_state', value: 'abc' }], [{ name: 'random_state', value: '-1' }], [{ name: 'zzz', value: '1' }], [{ name: 'random_state', value: {} }], [{ value: '1' }], [{ name: 'random_state', value: long(300, '1') }], [{ name: 'random_state', value: '1' }, { name: 'random_state', value: '2' }]]],
  ['spec.earlyStopping', 'spec.earlyStopping', ['x', 5, [], {}, { algorithmName: '' }, { algorithmName: 'nope' }, { algorithmName: long(300) },
    { algorithmName: 'medianstop', algorithmSettings: 'x' }, { algorithmName: 'medianstop', algorithmSettings: [{ name: 'start_step', value: '0' }] },
    { algorithmName: 'asha', algorithmSettings: [{ name: 'reduction_factor', value: '-1' }] }, { algorithmName: 'medianstop', algorithmSettings: [{ name: 'zzz', value: '1' }] }]],
  ['spec.parallelTrialCount', 'spec.parallelTrialCount', [0, -1, 1.5, 'x', 20_000, 11, '1e3']],
  ['spec.maxTrialCount', 'spec.maxTrialCount', [0, -1, 2.5, 'x', 3e9, 2147483648, 1e20, '1e6x']],
  ['spec.maxFailedTrialCount', 'spec.maxFailedTrialCount', [-1, 'x', 11, 1e20, 0.5]],
  ['spec.resumePolicy', 'spec.resumePolicy', ['Always', 5]],
  ['spec.parameters', 'spec.parameters', [DELETE, [], 'x', {}, Array.from({ length: 101 }, (_, i) => ({ name: `p${i}`, parameterType: 'int', feasibleSpace: { min: 0, max: 1 } }))]],
  ['spec.parameters.0', 'spec.parameters[0]', ['x', 5, null]],
  ['spec.parameters.0.name', 'spec.parameters[0].name', [DELETE, '', 5, long(254), ' lr']],
  ['spec.parameters.2.name', 'spec.parameters[2].name', ['layers']],
  ['spec.parameters.0.parameterType', 'spec.parameters[0].parameterType', [DELETE, 'float', 'DOUBLE', 5]],
  ['spec.parameters.0.feasibleSpace', 'spec.parameters[0].feasibleSpace', [DELETE, 'x', []]],
  ['spec.parameters.0.feasibleSpace.min', 'spec.parameters[0].feasibleSpace.min', [DELETE, 'abc', '', 0, -1, '0.5', -1.7e308, '1e301', {}, 'NaN']],
  ['spec.parameters.0.feasibleSpace.max', 'spec.parameters[0].feasibleSpace', [DELETE, 'abc', '0.0005', 1.7e308, 'Infinity']],
  ['spec.parameters.0.feasibleSpace.step', 'spec.parameters[0].feasibleSpace.step', [0, -0.1, 'x', 5]],
  ['spec.parameters.0.feasibleSpace.distribution', 'spec.parameters[0].feasibleSpace.distribution', ['gaussian', 5, 'LOG_UNIFORM']],
  ['spec.parameters.0.feasibleSpace.list', 'spec.parameters[0].feasibleSpace.list', [['a']]],
  ['spec.parameters.1.feasibleSpace.min', 'spec.parameters[1].feasibleSpace.min', ['1.5', '1e17', 'x', 9]],
  ['spec.parameters.1.feasibleSpace.step', 'spec.parameters[1].feasibleSpace.step', ['0.5', 0, 4]],
  ['spec.parameters.2.feasibleSpace.list', 'spec.parameters[2].feasibleSpace.list', [[], 'adam', ['a', 'a'], Array.from({ length: 10_001 }, (_, i) => `v${i}`), [{}], [long(70_000)]]],
  ['spec.parameters.2.feasibleSpace.min', 'spec.parameters[2].feasibleSpace.min', ['0']],
  ['spec.metricsCollectorSpec', 'spec.metricsCollectorSpec', ['x', { collector: { kind: 'PrometheusMetric' } }, { collector: { kind: 'Stdout' } }, { source: { filter: { metricsFormat: ['([a-z]+=(\\d+)'] } } }, { source: { filter: { metricsFormat: ['(\\w+)=(\\d+)\\1'] } } }, { source: { filter: { metricsFormat: ['(\\w+)=\\d+'] } } }, { source: { filter: { metricsFormat: Array.from({ length: 17 }, () => '(\\w+)=(\\d+)') } } }, { source: { filter: { metricsFormat: [long(5000, '.') + '(a)(b)'] } } }, { collector: { kind: 'Custom' } }, { collector: { kind: 'File' }, source: { fileSystemPath: { kind: 'Directory' } } }, { collector: { kind: 'File' }, source: { fileSystemPath: { path: 'relative.log' } } }, { collector: { kind: 'TensorFlowEvent' }, source: { fileSystemPath: { path: '/logs/../etc' } } }]],
  ['spec.trialTemplate', 'spec.trialTemplate', ['x', { trialParameters: [{ name: 'lr', reference: 'nope' }], command: ['x'] }, { trialParameters: [], command: [] }, { trialParameters: [{ name: 'lr', reference: 'lr' }], command: ['echo', '${trialParameters.nope}'] }, { configMap: { configMapName: 'x' } }, { trialParameters: [{ name: 'a{b', reference: 'lr' }], command: ['${trialParameters.a{b}'] }]],
];

/** YAML and JSON texts that are not studies, or that would cost far more than their size. */
const TEXTS: [string, string][] = [
  ['unclosed flow sequence', 'metadata: {name: [x\n'],
  ['a repeated key', 'metadata:\n  name: a\n  name: b\n'],
  ['a tab indentation', 'metadata:\n\tname: a\n'],
  ['alias expansion', `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n`],
  ['nesting a hundred thousand deep', `${'['.repeat(100_000)}${']'.repeat(100_000)}`],
  ['a document nested 200 deep', `${'{a: '.repeat(200)}1${'}'.repeat(200)}`],
  // Each of these overflowed yaml's composer; the second such text aborted the process (V8).
  ['flow sequences a thousand deep', `${'['.repeat(1000)}${']'.repeat(1000)}`],
  ['flow sequences a thousand deep, again', `${'['.repeat(1001)}${']'.repeat(1001)}`],
  ['block sequences five thousand deep on one line', `${'- '.repeat(5000)}x\n`],
  ['a bare scalar', '42'],
  ['a list', '- a\n- b\n'],
  ['only a comment', '# nothing\n'],
  ['JSON with a trailing comma', '{"apiVersion": "kubeflow.org/v1beta1",}'],
  ['an unknown tag', 'metadata: !!python/object {name: x}\n'],
  ['binary noise', '\u0000\u0001\u0002\u00ff'],
];

interface Refusal {
  readonly name: string;
  readonly run: () => Promise<{ status: number | string; field: string | null; message: string }>;
  /** The field the refusal must name (exactly, or as a prefix ending in '*'). */
  readonly field: string;
}

const matchesField = (field: string | null, expected: string) =>
  field !== null && (expected.endsWith('*') ? field.startsWith(expected.slice(0, -1)) : field === expected);

function rest(s: TestServer, name: string, method: string, path: string, body: unknown, field: string, headers: Record<string, string> = {}): Refusal {
  return {
    name: `REST ${name}`,
    field,
    run: async () => {
      const r = headers['host'] ? await raw(s, method, path, headers) : await s.http(method, path, body, headers);
      return { status: r.status, field: r.body?.error?.field ?? null, message: r.body?.error?.message ?? JSON.stringify(r.body) };
    },
  };
}

/** A request with a Host header of our choosing (fetch sets its own). */
function raw(s: TestServer, method: string, path: string, headers: Record<string, string>): Promise<{ status: number; body: any }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${s.base}${path}`, { method, headers }, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || 'null') }));
    });
    req.on('error', reject);
    req.end();
  });
}

function rpc(s: TestServer, service: 'Studies' | 'Trials' | 'Suggestion' | 'DBManager' | 'EarlyStopping', method: string, request: unknown, field: string): Refusal {
  return {
    name: `gRPC ${service}.${method} ${field}`,
    field,
    run: async () => {
      try {
        await new Promise((resolve, reject) => s.client(service)[method](request, { deadline: Date.now() + 10_000 }, (err: grpc.ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res))));
        return { status: 'OK', field: null, message: 'accepted' };
      } catch (err) {
        const e = err as grpc.ServiceError;
        const m = /^([\w.[\]-]+): /.exec(e.details);
        return { status: grpc.status[e.code] ?? e.code, field: m?.[1] ?? null, message: e.details };
      }
    },
  };
}

function cases(s: TestServer, t: { active: string; done: string }): Refusal[] {
  const out: Refusal[] = [];
  // Study documents, as a document and (for some) as text, over REST and gRPC.
  for (const [path, expected, values] of SPEC_FIELDS) {
    values.forEach((value, i) => {
      const doc = withValue(path, value);
      const field = `spec.${expected}*`;
      out.push(rest(s, `spec ${path} #${i}`, 'POST', '/api/v1/studies', { spec: doc, runtime: 'external' }, field));
      if (i % 3 === 0) out.push(rpc(s, 'Studies', 'createStudy', { specText: JSON.stringify(doc), runtime: 'external' }, `specText.${expected}*`));
    });
  }
  for (const [name, text] of TEXTS) {
    out.push(rest(s, `text: ${name}`, 'POST', '/api/v1/studies', { specText: text, runtime: 'external' }, 'specText*'));
    out.push(rpc(s, 'Studies', 'createStudy', { specText: text, runtime: 'external' }, 'specText*'));
  }
  // Creation requests.
  const good = { spec: BASE, runtime: 'external' };
  for (const [name, body, field] of [
    ['runtime of a wrong kind', { ...good, runtime: 5 }, 'runtime'],
    ['unknown runtime', { ...good, runtime: 'moon' }, 'runtime'],
    ['heartbeat 0', { ...good, heartbeatSeconds: 0 }, 'heartbeatSeconds'],
    ['heartbeat of a year', { ...good, heartbeatSeconds: 3e7 }, 'heartbeatSeconds'],
    ['heartbeat on a local study', { spec: BASE, runtime: 'local', heartbeatSeconds: 30 }, 'heartbeatSeconds'],
    ['a relative working dir', { spec: withValue('spec.trialTemplate', { trialParameters: [{ name: 'lr', reference: 'lr' }, { name: 'l', reference: 'layers' }, { name: 'o', reference: 'opt' }], command: ['echo', '${trialParameters.lr}${trialParameters.l}${trialParameters.o}'] }), runtime: 'local', workingDir: 'examples' }, 'workingDir'],
    ['a working dir that is not there', { spec: withValue('spec.trialTemplate', { trialParameters: [{ name: 'lr', reference: 'lr' }, { name: 'l', reference: 'layers' }, { name: 'o', reference: 'opt' }], command: ['echo', '${trialParameters.lr}${trialParameters.l}${trialParameters.o}'] }), runtime: 'local', workingDir: '/no/such/dir' }, 'workingDir'],
    ['a command that is not on the PATH', { spec: withValue('spec.trialTemplate', { trialParameters: [{ name: 'lr', reference: 'lr' }, { name: 'l', reference: 'layers' }, { name: 'o', reference: 'opt' }], command: ['no-such-program-xyz', '${trialParameters.lr}${trialParameters.l}${trialParameters.o}'] }), runtime: 'local' }, 'spec.spec.trialTemplate.command[0]'],
    ['a relative command that is not there', { spec: withValue('spec.trialTemplate', { trialParameters: [{ name: 'lr', reference: 'lr' }, { name: 'l', reference: 'layers' }, { name: 'o', reference: 'opt' }], command: ['./train.sh', '${trialParameters.lr}${trialParameters.l}${trialParameters.o}'] }), runtime: 'local', workingDir: '/tmp' }, 'spec.spec.trialTemplate.command[0]'],
    ['a spec of the wrong kind', { spec: 'text', runtime: 'external' }, 'spec'],
    ['specText empty', { specText: '', runtime: 'external' }, 'specText'],
    ['an unknown field', { ...good, colour: 'red' }, 'colour'],
    ['a name taken by another spec', { spec: withValue('spec.maxTrialCount', 9), runtime: 'external' }, 'metadata.name'],
  ] as [string, unknown, string][]) out.push(rest(s, `create: ${name}`, 'POST', '/api/v1/studies', body, field));

  // Names in paths: empty, long, very long, unicode, encoded separators, control characters.
  const names: [string, string, string][] = [
    [long(41), 'NOT_FOUND', 'name'], [long(253), 'NOT_FOUND', 'name'], [long(254), 'INVALID_ARGUMENT', 'name'], [long(300), 'INVALID_ARGUMENT', 'name'],
    [long(5000), 'INVALID_ARGUMENT', 'name'], ['%00', 'NOT_FOUND', 'name'], ['é'.repeat(10), 'NOT_FOUND', 'name'], ['%2e%2e%2f%2e%2e', 'NOT_FOUND', 'name'],
    ['<script>', 'NOT_FOUND', 'name'], ['nope', 'NOT_FOUND', 'name'],
  ];
  for (const [n] of names) {
    out.push(rest(s, `GET study ${n.slice(0, 12)}… (${n.length})`, 'GET', `/api/v1/studies/${n}`, undefined, 'name'));
    out.push(rest(s, `GET trial ${n.slice(0, 12)}… (${n.length})`, 'GET', `/api/v1/trials/${n}`, undefined, 'name'));
    out.push(rest(s, `stop study ${n.slice(0, 12)}… (${n.length})`, 'POST', `/api/v1/studies/${n}/stop`, undefined, 'name'));
    out.push(rest(s, `trials of ${n.slice(0, 12)}… (${n.length})`, 'GET', `/api/v1/studies/${n}/trials`, undefined, n.length > 253 ? 'name' : 'study'));
  }
  // Query strings.
  for (const [q, field] of [
    ['pageSize=0', 'pageSize'], ['pageSize=1001', 'pageSize'], ['pageSize=-1', 'pageSize'], ['pageSize=1e3', 'pageSize'], ['pageSize=9999999999', 'pageSize'],
    ['pageToken=!!', 'pageToken'], [`pageToken=${long(300)}`, 'pageToken'], ['pageToken=YzE6LTE', 'pageToken'], ['state=DONE', 'state'], ['afterId=-5', 'afterId'],
    ['afterId=x', 'afterId'], ['extra=1', 'extra'],
  ] as [string, string][]) out.push(rest(s, `trials?${q.slice(0, 20)}`, 'GET', `/api/v1/studies/base/trials?${q}`, undefined, field));
  for (const [q, field] of [['tail=0', 'tail'], ['tail=10001', 'tail'], ['tail=x', 'tail'], ['tail=-1', 'tail']]) out.push(rest(s, `log?${q}`, 'GET', `/api/v1/trials/${t.active}/log?${q}`, undefined, field!));
  // Budgets.
  for (const [body, field] of [
    [{ maxTrialCount: 1e20 }, 'maxTrialCount'], [{ maxTrialCount: 3e9 }, 'maxTrialCount'], [{ maxTrialCount: 0 }, 'maxTrialCount'], [{ maxTrialCount: 2.5 }, 'maxTrialCount'],
    [{ maxTrialCount: '5' }, 'maxTrialCount'], [{ parallelTrialCount: 20_000 }, 'parallelTrialCount'], [{ parallelTrialCount: 11 }, 'parallelTrialCount'],
    [{ maxFailedTrialCount: -1 }, 'maxFailedTrialCount'], [{ maxFailedTrialCount: 11 }, 'maxFailedTrialCount'], [{}, 'body'], [{ colour: 1 }, 'colour'], [[], 'body'],
  ] as [unknown, string][]) out.push(rest(s, `budget ${JSON.stringify(body)}`, 'PATCH', '/api/v1/studies/base/budget', body, field));
  // Ask/tell.
  for (const [body, field] of [
    [{}, 'clientId'], [{ clientId: '' }, 'clientId'], [{ clientId: long(201) }, 'clientId'], [{ clientId: 'a', count: 0 }, 'count'], [{ clientId: 'a', count: 101 }, 'count'],
    [{ clientId: 'a', count: 2147483647 }, 'count'], [{ clientId: 'a', count: 1.5 }, 'count'], [{ clientId: 5 }, 'clientId'],
  ] as [unknown, string][]) out.push(rest(s, `suggest ${JSON.stringify(body).slice(0, 40)}`, 'POST', '/api/v1/studies/base/suggest', body, field));
  const obs = (o: unknown) => ({ observations: [o] });
  for (const [body, field] of [
    [obs({ metric: 'accuracy', value: 'NaN' }), 'observations[0].value'], ['{"observations": [{"metric": "accuracy", "value": 1e999}]}', 'observations[0].value'],
    [obs({ metric: 'accuracy', value: 1, step: -1 }), 'observations[0].step'], [obs({ metric: 'accuracy', value: 1, step: 1.5 }), 'observations[0].step'],
    [obs({ metric: 'accuracy', value: 1, step: 2 ** 60 }), 'observations[0].step'], [obs({ metric: 'nope', value: 1 }), 'observations[0].metric'],
    [obs({ metric: long(300), value: 1 }), 'observations[0].metric'], [obs({ metric: 'accuracy', value: 1, time: 'yesterday' }), 'observations[0].time'],
    [obs({ metric: 'accuracy', value: 1, time: long(100, '9') }), 'observations[0].time'], [obs({ metric: 'accuracy', value: 1, extra: 1 }), 'observations[0].extra'],
    [{ observations: 'x' }, 'observations'], [{ observations: Array.from({ length: 10_001 }, () => ({ metric: 'accuracy', value: 1 })) }, 'observations'],
    [{}, 'observations'],
  ] as [unknown, string][]) out.push(rest(s, `observations ${JSON.stringify(body).slice(0, 50)}`, 'POST', `/api/v1/trials/${t.active}/observations`, body, field));
  out.push(rest(s, 'observations for an ended trial', 'POST', `/api/v1/trials/${t.done}/observations`, obs({ metric: 'accuracy', value: 1 }), 'trial'));
  for (const [body, field] of [[{ infeasible: 'yes' }, 'infeasible'], [{ reason: long(10_001) }, 'reason'], [{ metrics: 'x' }, 'metrics'], [{ metrics: [{ metric: 'accuracy', value: 'x' }] }, 'metrics[0].value']] as [unknown, string][]) {
    out.push(rest(s, `complete ${JSON.stringify(body).slice(0, 30)}`, 'POST', `/api/v1/trials/${t.active}/complete`, body, field));
  }
  out.push(rest(s, 'complete an ended trial', 'POST', `/api/v1/trials/${t.done}/complete`, {}, 'trial'));
  out.push(rest(s, 'heartbeat an ended trial', 'POST', `/api/v1/trials/${t.done}/heartbeat`, undefined, 'trial'));
  // Transport: bodies and content types.
  out.push(rest(s, 'not JSON', 'POST', '/api/v1/studies', '{"spec": ', 'body'));
  out.push(rest(s, 'text/plain', 'POST', '/api/v1/studies/base/stop', 'x', 'content-type', { 'content-type': 'text/plain' }));
  out.push(rest(s, 'form encoded', 'POST', '/api/v1/studies', 'spec=1', 'content-type', { 'content-type': 'application/x-www-form-urlencoded' }));
  out.push(rest(s, 'multipart', 'POST', '/api/v1/studies', '--x--', 'content-type', { 'content-type': 'multipart/form-data; boundary=x' }));
  out.push(rest(s, 'oversized body', 'POST', '/api/v1/studies', { specText: `#${long(5 * 1024 * 1024)}` }, 'body'));
  out.push(rest(s, 'a foreign Origin', 'POST', '/api/v1/studies/base/stop', undefined, 'origin', { origin: 'http://evil.example' }));
  out.push(rest(s, 'a null Origin', 'DELETE', '/api/v1/studies/base', undefined, 'origin', { origin: 'null' }));
  out.push(rest(s, 'cross-site fetch metadata', 'PATCH', '/api/v1/studies/base/budget', { maxTrialCount: 5 }, 'origin', { 'sec-fetch-site': 'cross-site' }));
  out.push(rest(s, 'a foreign Host', 'GET', '/api/v1/studies', undefined, 'host', { host: 'evil.example:8080' }));
  out.push(rest(s, 'a rebinding Host with a state change', 'POST', '/api/v1/studies/base/stop', undefined, 'host', { host: 'attacker.example' }));

  // sibyl.v1.
  const r = (service: 'Studies' | 'Trials', method: string, request: unknown, field: string) => out.push(rpc(s, service, method, request, field));
  r('Studies', 'createStudy', {}, 'spec');
  r('Studies', 'createStudy', { specText: JSON.stringify(BASE), runtime: 'moon' }, 'runtime');
  r('Studies', 'createStudy', { specText: JSON.stringify(BASE), runtime: 'external', heartbeatSeconds: -5 }, 'heartbeatSeconds');
  r('Studies', 'createStudy', { specText: JSON.stringify(BASE), runtime: 'local', workingDir: 'rel' }, 'workingDir');
  for (const name of ['', long(254), long(1 << 20)]) {
    r('Studies', 'getStudy', { name }, 'name');
    r('Studies', 'stopStudy', { name }, 'name');
    r('Studies', 'deleteStudy', { name }, 'name');
    r('Trials', 'getTrial', { name }, 'name');
    r('Trials', 'stopTrial', { name }, 'name');
    r('Trials', 'shouldStopTrial', { trial: name }, 'trial');
    r('Trials', 'heartbeatTrial', { trial: name }, 'trial');
    r('Trials', 'listTrials', { study: name }, 'study');
    r('Trials', 'suggestTrials', { study: name, clientId: 'a' }, 'study');
  }
  r('Studies', 'listStudies', { pageSize: -1 }, 'pageSize');
  r('Studies', 'listStudies', { pageSize: 2147483647 }, 'pageSize');
  r('Studies', 'listStudies', { pageToken: '!!' }, 'pageToken');
  r('Studies', 'updateStudyBudget', { name: 'base' }, 'budget');
  r('Studies', 'updateStudyBudget', { name: 'base', maxTrialCount: 2147483647 }, 'maxTrialCount');
  r('Studies', 'updateStudyBudget', { name: 'base', parallelTrialCount: -3 }, 'parallelTrialCount');
  r('Studies', 'updateStudyBudget', { name: 'base', maxFailedTrialCount: 99 }, 'maxFailedTrialCount');
  r('Trials', 'listTrials', { study: 'base', state: 'DONE' }, 'state');
  r('Trials', 'listTrials', { study: 'base', afterId: -1 }, 'afterId');
  r('Trials', 'suggestTrials', { study: 'base', clientId: 'a', count: 2147483647 }, 'count');
  r('Trials', 'suggestTrials', { study: 'base', clientId: 'a', count: -1 }, 'count');
  r('Trials', 'suggestTrials', { study: 'base', clientId: long(201) }, 'clientId');
  r('Trials', 'suggestTrials', { study: 'base' }, 'clientId');
  r('Trials', 'reportObservations', { trial: t.active, observations: [{ metric: 'accuracy', value: NaN }] }, 'observations[0].value');
  r('Trials', 'reportObservations', { trial: t.active, observations: [{ metric: 'accuracy', value: -Infinity }] }, 'observations[0].value');
  r('Trials', 'reportObservations', { trial: t.active, observations: [{ metric: 'accuracy', value: 1, step: -2 }] }, 'observations[0].step');
  r('Trials', 'reportObservations', { trial: t.active, observations: [{ metric: 'accuracy', value: 1, time: 'now' }] }, 'observations[0].time');
  r('Trials', 'reportObservations', { trial: t.active, observations: [{ metric: '', value: 1 }] }, 'observations[0].metric');
  r('Trials', 'reportObservations', { trial: t.done, observations: [{ metric: 'accuracy', value: 1 }] }, 'trial');
  r('Trials', 'reportObservations', { trial: t.active, observations: Array.from({ length: 10_001 }, () => ({ metric: 'accuracy', value: 1 })) }, 'observations');
  r('Trials', 'completeTrial', { trial: t.done }, 'trial');
  r('Trials', 'completeTrial', { trial: t.active, reason: long(10_001), infeasible: true }, 'reason');

  // Katib's API.
  const experiment = (patch: (e: Doc) => void = () => {}) => {
    const e: Doc = {
      name: 'katib-exp',
      spec: {
        parameterSpecs: { parameters: [
          { name: 'lr', parameterType: 'DOUBLE', feasibleSpace: { min: '0.01', max: '0.05' } },
          { name: 'opt', parameterType: 'CATEGORICAL', feasibleSpace: { list: ['sgd', 'adam'] } },
        ] },
        objective: { type: 'MAXIMIZE', objectiveMetricName: 'accuracy' },
        algorithm: { algorithmName: 'random', algorithmSettings: [] },
      },
    };
    patch(e);
    return e;
  };
  const k = (patch: (e: Doc) => void, field: string, extra: Doc = {}) => out.push(rpc(s, 'Suggestion', 'getSuggestions', { experiment: experiment(patch), currentRequestNumber: 1, ...extra }, field));
  k(() => {}, 'current_request_number', { currentRequestNumber: 2147483647 });
  k(() => {}, 'current_request_number', { currentRequestNumber: -1 });
  k(() => {}, 'current_request_number', { currentRequestNumber: 1001 });
  k((e) => { delete e.spec; }, 'experiment.spec');
  k((e) => { e.spec.parameterSpecs.parameters = []; }, 'experiment.spec.parameter_specs.parameters');
  k((e) => { e.spec.parameterSpecs.parameters[0].parameterType = 'UNKNOWN_TYPE'; }, 'experiment.spec.parameter_specs.parameters[0].parameter_type');
  k((e) => { e.spec.parameterSpecs.parameters[0].feasibleSpace.min = 'abc'; }, 'experiment.spec.parameter_specs.parameters[0].feasibleSpace.min');
  k((e) => { e.spec.parameterSpecs.parameters[0].feasibleSpace.max = '-1.7e308'; }, 'experiment.spec.parameter_specs.parameters[0].feasibleSpace*');
  k((e) => { e.spec.parameterSpecs.parameters[0].feasibleSpace.min = '-1e305'; }, 'experiment.spec.parameter_specs.parameters[0].feasibleSpace.min');
  k((e) => { e.spec.parameterSpecs.parameters[0].name = long(300); }, 'experiment.spec.parameter_specs.parameters[0].name');
  k((e) => { e.spec.parameterSpecs.parameters[1].feasibleSpace.list = []; }, 'experiment.spec.parameter_specs.parameters[1].feasibleSpace.list');
  k((e) => { e.spec.parameterSpecs.parameters = Array.from({ length: 101 }, (_, i) => ({ name: `p${i}`, parameterType: 'INT', feasibleSpace: { min: '0', max: '1' } })); }, 'experiment.spec.parameter_specs.parameters');
  k((e) => { e.spec.objective.type = 'UNKNOWN'; }, 'experiment.spec.objective.type');
  k((e) => { e.spec.objective.objectiveMetricName = ''; }, 'experiment.spec.objective.objective_metric_name');
  k((e) => { e.spec.objective.objectiveMetricName = long(300); }, 'experiment.spec.objective.objective_metric_name');
  k((e) => { e.spec.algorithm.algorithmName = ''; }, 'experiment.spec.algorithm.algorithm_name');
  k((e) => { e.spec.algorithm.algorithmName = 'nope'; }, 'experiment.spec.algorithm.algorithm_name');
  k((e) => { e.spec.algorithm.algorithmSettings = [{ name: 'random_state', value: '-1' }]; }, 'experiment.spec.algorithm.algorithm_settings[random_state]');
  k((e) => { e.spec.algorithm.algorithmSettings = [{ name: 'zz', value: '1' }]; }, 'experiment.spec.algorithm.algorithm_settings[zz]');
  k((e) => { e.spec.algorithm.algorithmSettings = [{ name: 'random_state', value: long(300, '1') }]; }, 'experiment.spec.algorithm.algorithm_settings[random_state]');
  k((e) => { e.spec.algorithm.algorithmName = 'grid'; }, 'experiment.spec.parameter_specs.parameters[0].feasibleSpace.step');
  k((e) => { e.spec.algorithm.algorithmName = 'cmaes'; }, 'experiment.spec.parameter_specs.parameters');
  out.push(rpc(s, 'Suggestion', 'validateAlgorithmSettings', { experiment: experiment((e) => { e.spec.algorithm.algorithmSettings = [{ name: 'random_state', value: 'x' }]; }) }, 'experiment.spec.algorithm.algorithm_settings[random_state]'));
  out.push(rpc(s, 'Suggestion', 'validateAlgorithmSettings', {}, 'experiment.spec'));
  out.push(rpc(s, 'EarlyStopping', 'validateEarlyStoppingSettings', { earlyStopping: { algorithmName: 'nope' } }, 'early_stopping.algorithm_name'));
  out.push(rpc(s, 'EarlyStopping', 'validateEarlyStoppingSettings', { earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'start_step', value: '0' }] } }, 'early_stopping.algorithm_settings[start_step]'));
  out.push(rpc(s, 'EarlyStopping', 'validateEarlyStoppingSettings', { earlyStopping: { algorithmName: 'medianstop', algorithmSettings: [{ name: 'zz', value: '1' }] } }, 'early_stopping.algorithm_settings[zz]'));
  out.push(rpc(s, 'EarlyStopping', 'setTrialStatus', {}, 'trial_name'));
  const log = (entries: unknown[], trialName = 'katib-trial') => ({ trialName, observationLog: { metricLogs: entries } });
  out.push(rpc(s, 'DBManager', 'reportObservationLog', { observationLog: { metricLogs: [] } }, 'trial_name'));
  out.push(rpc(s, 'DBManager', 'reportObservationLog', log([{ timeStamp: 'yesterday', metric: { name: 'accuracy', value: '1' } }]), 'observation_log.metric_logs[0].time_stamp'));
  out.push(rpc(s, 'DBManager', 'reportObservationLog', log([{ timeStamp: '2026-11-28T00:00:00Z', metric: { name: '', value: '1' } }]), 'observation_log.metric_logs[0].metric.name'));
  out.push(rpc(s, 'DBManager', 'reportObservationLog', log([{ timeStamp: '2026-11-28T00:00:00Z', metric: { name: long(300), value: '1' } }]), 'observation_log.metric_logs[0].metric.name'));
  out.push(rpc(s, 'DBManager', 'reportObservationLog', log(Array.from({ length: 10_001 }, () => ({ timeStamp: '2026-11-28T00:00:00Z', metric: { name: 'a', value: '1' } }))), 'observation_log.metric_logs'));
  out.push(rpc(s, 'DBManager', 'reportObservationLog', log([{ timeStamp: '2026-11-28T00:00:00Z', metric: { name: 'accuracy', value: '0.5' } }], t.done), 'trial_name'));
  out.push(rpc(s, 'DBManager', 'reportObservationLog', log([], long(1 << 20)), 'trial_name'));
  out.push(rpc(s, 'DBManager', 'getObservationLog', { trialName: 'x', startTime: 'soon' }, 'start_time'));
  out.push(rpc(s, 'DBManager', 'getObservationLog', { trialName: 'x', endTime: long(70, '1') }, 'end_time'));
  out.push(rpc(s, 'DBManager', 'getObservationLog', { trialName: 'x', metricName: long(300) }, 'metric_name'));
  out.push(rpc(s, 'DBManager', 'getObservationLog', {}, 'trial_name'));
  out.push(rpc(s, 'DBManager', 'deleteObservationLog', { trialName: long(254) }, 'trial_name'));
  return out;
}

/** What the store holds, as the API shows it: studies, their trials with states and metrics. */
async function snapshot(s: TestServer): Promise<string> {
  const studies = (await s.http('GET', '/api/v1/studies?pageSize=1000')).body.studies as { name: string; state: string; maxTrialCount: number | null; trials: unknown }[];
  const trials = await Promise.all(studies.map(async (st) => (await s.http('GET', `/api/v1/studies/${st.name}/trials?pageSize=1000`)).body.trials.map((t: { name: string; state: string; metrics: unknown }) => [t.name, t.state, t.metrics])));
  return JSON.stringify({ studies: studies.map((st) => [st.name, st.state, st.maxTrialCount, st.trials]), trials });
}

test('300+ hostile inputs across study documents, REST, sibyl.v1 and Katib: shaped refusals naming the field, no 5xx, no hang, nothing written', { timeout: 600_000 }, async () => {
  const s = await startTestServer({ runtime: 'external' });
  try {
    assert.equal((await s.http('POST', '/api/v1/studies', { spec: BASE, runtime: 'external' })).status, 201);
    const [done, active] = (await s.http('POST', '/api/v1/studies/base/suggest', { clientId: 'c', count: 2 })).body.trials;
    assert.equal((await s.http('POST', `/api/v1/trials/${done.name}/complete`, { metrics: [{ metric: 'accuracy', value: 0.5 }] })).status, 200);
    const all = cases(s, { done: done.name, active: active.name });
    assert.ok(all.length >= 300, `only ${all.length} cases`);
    const before = await snapshot(s);
    const failures: string[] = [];
    for (const c of all) {
      const started = Date.now();
      const r = await c.run();
      const ms = Date.now() - started;
      const shaped = typeof r.status === 'number' ? r.status >= 400 && r.status < 500 : r.status !== 'OK' && r.status !== 'INTERNAL' && r.status !== 'UNKNOWN';
      if (!shaped) failures.push(`${c.name}: status ${r.status}: ${r.message.slice(0, 200)}`);
      else if (!matchesField(r.field, c.field)) failures.push(`${c.name}: field ${JSON.stringify(r.field)}, expected ${c.field}: ${r.message.slice(0, 200)}`);
      else if (/\n\s+at /.test(r.message)) failures.push(`${c.name}: a stack trace`);
      else if (r.message.length > 2000) failures.push(`${c.name}: a ${r.message.length}-character message echoes the input`);
      if (ms > 5000) failures.push(`${c.name}: took ${ms} ms`);
      const health = await s.http('GET', '/healthz');
      if (health.status !== 200) failures.push(`${c.name}: the server is unhealthy after it`);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${all.length} inputs were not refused as they should be`);
    assert.equal(await snapshot(s), before, 'a refused input changed the store');
    // And the server still does its work.
    const next = (await s.http('POST', '/api/v1/studies/base/suggest', { clientId: 'd' })).body.trials;
    assert.equal(next.length, 1);
    assert.deepEqual(await call(s.client('Health'), 'check', { service: '' }), { status: 'SERVING' });
  } finally {
    await s.close();
  }
});
