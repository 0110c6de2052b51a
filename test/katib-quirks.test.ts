// Issue #12 point 4: Katib's quirks accepted as Katib accepts them. Every table row names what
// Katib does and where that is written (kubeflow/katib at commit 33c8ff4e, or the shared
// reference /work/shared/reference/katib.md), and asserts Sibyl's answer.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createLineParser, validateMetricsFormat } from '../src/metrics/parse.js';
import { GO_SYNTAX, translateGoRegexp } from '../src/metrics/go-regexp.js';
import { validateAlgorithm, validateEarlyStopping } from '../src/spec/algorithm.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyDocument, parseStudyText } from '../src/spec/parse.js';
import { typeBareValues } from '../src/spec/template.js';
import { defaultConditions, resourceOf } from '../src/runtimes/kubernetes/resources.js';
import { startServer, type RunningServer } from '../src/server/app.js';
import { startFakeKubeWithFile, type FakeKube } from './support/fake-kube/index.js';
import { tempDir } from './support/study.js';
import { until } from './support/wait.js';

type Doc = any;

const VALIDATOR = 'pkg/webhook/v1beta1/experiment/validator/validator.go';
const DEFAULTS = 'pkg/apis/controller/experiments/v1beta1/experiment_defaults.go';

function base(): Doc {
  return {
    apiVersion: 'kubeflow.org/v1beta1',
    kind: 'Experiment',
    metadata: { name: 'quirks' },
    spec: {
      objective: { type: 'minimize', objectiveMetricName: 'loss' },
      algorithm: { algorithmName: 'random' },
      parameters: [
        { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.01', max: '0.1' } },
        { name: 'opt', parameterType: 'categorical', feasibleSpace: { list: ['sgd', 'adam'] } },
      ],
      trialTemplate: {
        command: ['train', '--lr=${trialParameters.lr}', '--opt=${trialParameters.opt}'],
        trialParameters: [{ name: 'lr', reference: 'lr' }, { name: 'opt', reference: 'opt' }],
      },
    },
  };
}

function edited(edit: (d: Doc) => void): Doc {
  const d = base();
  edit(d);
  return d;
}

function specError(fn: () => unknown): SpecError {
  try {
    fn();
  } catch (err) {
    if (err instanceof SpecError) return err;
    throw err;
  }
  assert.fail('expected a SpecError');
}

// ── metricsFormat: Go's regexp syntax ──────────────────────────────────────────
// Katib's file collector compiles each metricsFormat with Go's regexp and reads group 1 as the
// name and group 2 as the value of every FindAllStringSubmatch match
// (pkg/metricscollector/v1beta1/file-metricscollector/file-metricscollector.go); its webhook
// refuses a pattern Go cannot compile (validator.go). Each "pairs" below is what Go 1.19's
// regexp gives for the line (checked with `go run` on this machine); (?<name>) is Go ≥ 1.22
// syntax (Katib's go.mod: go 1.24).
interface RegexRow {
  readonly what: string;
  readonly go: string;
  readonly line?: string;
  readonly metrics?: readonly string[];
  readonly pairs?: readonly (readonly [string, number])[];
  readonly refused?: RegExp;
}

const REGEX_ROWS: readonly RegexRow[] = [
  { what: '(?i) case-insensitive flag', go: String.raw`(?i)(LOSS)=(\d+(?:\.\d+)?)`, line: 'loss=0.5', metrics: ['loss'], pairs: [['loss', 0.5]] },
  { what: '(?P<name>) named groups', go: String.raw`(?P<name>\w+)=(?P<value>[\d.]+)`, line: 'loss=0.25', metrics: ['loss'], pairs: [['loss', 0.25]] },
  { what: '(?<name>) named groups (Go 1.22+)', go: String.raw`(?<name>\w+)=(?<value>[\d.]+)`, line: 'loss=0.25', metrics: ['loss'], pairs: [['loss', 0.25]] },
  { what: 'a group name used twice (Go allows it, RE2 does not)', go: String.raw`(?P<m>\w+)=(?P<m>[\d.]+)`, line: 'loss=0.25', metrics: ['loss'], pairs: [['loss', 0.25]] },
  { what: 'POSIX classes [[:alpha:]] [[:digit:]]', go: String.raw`([[:alpha:]_]+)=([[:digit:].]+)`, line: 'val_loss=0.75', metrics: ['val_loss'], pairs: [['val_loss', 0.75]] },
  { what: 'negated POSIX class inside a class', go: String.raw`([[:alpha:]]+):([^[:space:]]+)`, line: 'loss:0.5', metrics: ['loss'], pairs: [['loss', 0.5]] },
  { what: '\\z: only the match at the end of the text', go: String.raw`(\w+)=([\d.]+)\z`, line: 'loss=0.4 loss=0.5', metrics: ['loss'], pairs: [['loss', 0.5]] },
  { what: '$ without (?m): the end of the text', go: String.raw`(\w+)=([\d.]+)$`, line: 'loss=0.4 loss=0.5', metrics: ['loss'], pairs: [['loss', 0.5]] },
  { what: '(?U) ungreedy: [\\d.]+ takes one character', go: String.raw`(?U)(\w+)=([\d.]+)`, line: 'loss=0.25', metrics: ['loss'], pairs: [['loss', 0]] },
  { what: '(?s) dot matches newline', go: String.raw`(?s)(loss)=(.+)`, line: 'loss=0.5', metrics: ['loss'], pairs: [['loss', 0.5]] },
  { what: '\\Q…\\E quotes /, ( and (?< literally', go: String.raw`(\Qval/loss(?<x)\E)=([\d.]+)`, line: 'val/loss(?<x)=0.5', metrics: ['val/loss(?<x)'], pairs: [['val/loss(?<x)', 0.5]] },
  { what: '(?< inside a class is three characters, not a group', go: String.raw`([(?<a-z]+)=([\d.]+)`, line: 'Ploss=1', metrics: ['loss'], pairs: [['loss', 1]] },
  { what: '/ in a pattern', go: String.raw`(\w+/\w+)=([\d.]+)`, line: 'val/loss=0.5', metrics: ['val/loss'], pairs: [['val/loss', 0.5]] },
  { what: "Katib's file-collector example filter", go: String.raw`{metricName: ([\w|-]+), metricValue: ((-?\d+)(\.\d+)?)}`, line: '{metricName: loss, metricValue: -0.5}', metrics: ['loss'], pairs: [['loss', -0.5]] },
  { what: '\\C (one byte): RE2 only', go: String.raw`\C(\w+)=(\d+)`, refused: /\\C \(one byte\) is not Go syntax/ },
  { what: '\\uXXXX: a JavaScript escape', go: String.raw`(\u006c\w+)=(\d+)`, refused: /\\u escapes are not Go syntax: write \\x\{XXXX\}/ },
  { what: '\\cA: a control escape', go: String.raw`(\cA\w+)=(\d+)`, refused: /\\c control escapes are not Go syntax/ },
  { what: '\\Z', go: String.raw`(\w+)=(\d+)\Z`, refused: /\\Z is not Go syntax: \\z is the end of the text/ },
  { what: 'a backreference \\1', go: String.raw`(\w+)=(\d+) \1`, refused: /\\1 is a backreference/ },
  { what: 'lookahead (?=', go: String.raw`(\w+)(?==)=(\d+)`, refused: /\(\?= is a lookahead/ },
  { what: 'negative lookahead (?!', go: String.raw`(\w+)(?!x)=(\d+)`, refused: /\(\?! is a lookahead/ },
  { what: 'lookbehind (?<=', go: String.raw`(?<=x)(\w+)=(\d+)`, refused: /\(\?<= is a lookbehind/ },
  { what: 'negative lookbehind (?<!', go: String.raw`(?<!x)(\w+)=(\d+)`, refused: /\(\?<! is a lookbehind/ },
  { what: 'atomic group (?>', go: String.raw`(?>\w+)(\w+)=(\d+)`, refused: /\(\?> is an atomic group/ },
  { what: 'comment (?#', go: String.raw`(\w+)=(\d+)(?#why)`, refused: /\(\?# is a comment group/ },
  { what: 'flag x', go: String.raw`(?x)(\w+) = (\d+)`, refused: /uses flag x, which Go does not have \(Go's flags: i, m, s, U\)/ },
  { what: 'named backreference (?P=', go: String.raw`(?P<n>\w+)=(\d+)(?P=n)`, refused: /\(\?P= is a named backreference/ },
  { what: 'an invalid group name', go: String.raw`(?P<a-b>\w+)=(\d+)`, refused: /is not a valid named group/ },
  { what: '\\Q inside a class', go: String.raw`([\Qa\E]+)=(\d+)`, refused: /\\Q inside a character class is not Go syntax/ },
  { what: 'not compilable (Go: missing closing ))', go: String.raw`([a-z]+=(\d+)`, refused: /is not an RE2 regular expression .*missing \)/ },
  // validator.go: `.*\(.*\).*\(.*\).*` must match ("two top subexpressions are required").
  { what: "Katib's two-subexpression rule: two groups, but nested", go: String.raw`((\w+)=[\d.]+)`, refused: /needs two top subexpressions \(…\)\(…\).*Katib's rule/ },
  // Katib's text rule passes; its collector then finds no group 2 and records nothing: Sibyl refuses (README).
  { what: 'two (…) pairs with no capture group (Sibyl stricter)', go: String.raw`(?:\w+)=(?:\d+)`, refused: /has 0 capture group\(s\); it needs two/ },
  { what: 'one group', go: String.raw`(\w+)=[\d.]+`, refused: /has 1 capture group\(s\)/ },
];

for (const row of REGEX_ROWS) {
  test(`metricsFormat, Go syntax: ${row.what}`, () => {
    const verdict = validateMetricsFormat(row.go);
    if (row.refused) {
      assert.match(verdict ?? 'accepted', row.refused);
      const err = specError(() => parseStudyDocument(edited((d) => { d.spec.metricsCollectorSpec = { source: { filter: { metricsFormat: [row.go] } } }; })));
      assert.equal(err.field, 'spec.metricsCollectorSpec.source.filter.metricsFormat[0]');
      return;
    }
    assert.equal(verdict, undefined);
    const parser = createLineParser('TEXT', row.metrics ?? [], [row.go]);
    assert.deepEqual(parser.parseLine(row.line ?? '').map((o) => [o.metric, o.value]), row.pairs);
  });
}

test('metricsFormat: every translated or refused construct of GO_SYNTAX has a row above', () => {
  const covered = (needle: string) => REGEX_ROWS.some((r) => r.go.includes(needle));
  for (const needle of ['(?P<', '(?<n', '\\Q', '[(?<', '\\C', '\\u', '\\c', '\\Z', '\\1', '(?=', '(?!', '(?<=', '(?<!', '(?>', '(?#', '(?x', '(?P=']) {
    assert.ok(covered(needle), `no row uses ${needle}`);
  }
  assert.ok(GO_SYNTAX.every((r) => ['same', 'translated', 'refused'].includes(r.handling)));
  // What re2-wasm is given: names dropped (positions kept), \Q…\E spelled out, < escaped in classes.
  assert.deepEqual(translateGoRegexp(String.raw`(?P<a>x)(?<b>y)`), { source: '(x)(y)' });
  assert.deepEqual(translateGoRegexp(String.raw`\Qa.b(\E`), { source: String.raw`a\.b\(` });
  assert.deepEqual(translateGoRegexp('[(?<]'), { source: String.raw`[(?\<]` });
});

// ── distribution on categorical and discrete parameters ─────────────────────────
// Katib's webhook writes distribution: uniform on every parameter (DEFAULTS,
// setDefaultParameterDistribution) and its validator allows uniform, logUniform, normal,
// logNormal and unknown on any type (VALIDATOR, validateParameters); its services ignore the
// distribution of a list (pkg/suggestion/v1beta1/internal/search_space.py).
const DISTRIBUTION_ROWS: readonly { type: 'categorical' | 'discrete'; distribution: string; accepted: boolean; katib: string }[] = [
  { type: 'categorical', distribution: 'uniform', accepted: true, katib: `${DEFAULTS}: written by the webhook` },
  { type: 'discrete', distribution: 'uniform', accepted: true, katib: `${DEFAULTS}: written by the webhook` },
  { type: 'categorical', distribution: '', accepted: true, katib: `${VALIDATOR}: empty is allowed` },
  { type: 'discrete', distribution: 'unknown', accepted: true, katib: `${VALIDATOR}: unknown is allowed (sent as DISTRIBUTION_UNSPECIFIED)` },
  { type: 'categorical', distribution: 'logUniform', accepted: false, katib: `${VALIDATOR}: allowed, then ignored by the services (Sibyl stricter, README)` },
  { type: 'discrete', distribution: 'normal', accepted: false, katib: `${VALIDATOR}: allowed, then ignored by the services (Sibyl stricter, README)` },
  { type: 'categorical', distribution: 'gaussian', accepted: false, katib: `${VALIDATOR}: "distribution: gaussian is not supported"` },
];

for (const row of DISTRIBUTION_ROWS) {
  test(`distribution ${JSON.stringify(row.distribution)} on a ${row.type} parameter: ${row.accepted ? 'accepted' : 'refused'} (${row.katib})`, () => {
    const list = row.type === 'categorical' ? ['sgd', 'adam'] : ['1', '2'];
    const doc = edited((d) => { d.spec.parameters[1] = { name: 'opt', parameterType: row.type, feasibleSpace: { list, distribution: row.distribution } }; });
    if (!row.accepted) {
      const err = specError(() => parseStudyDocument(doc));
      assert.equal(err.field, 'spec.parameters[1].feasibleSpace.distribution');
      return;
    }
    const without = edited((d) => { d.spec.parameters[1] = { name: 'opt', parameterType: row.type, feasibleSpace: { list } }; });
    assert.deepEqual(parseStudyDocument(doc), parseStudyDocument(without));
  });
}

test('distribution "unknown" on a range parameter is Katib\'s unspecified: uniform (suggestionclient.go → DISTRIBUTION_UNSPECIFIED)', () => {
  const spec = parseStudyDocument(edited((d) => { d.spec.parameters[0].feasibleSpace.distribution = 'unknown'; }));
  assert.equal(spec.parameters[0]!.parameterType === 'double' && spec.parameters[0]!.distribution, 'uniform');
});

// ── `kubectl get experiment -o yaml` ─────────────────────────────────────────
test('kubectl get -o yaml of a Katib experiment parses to the spec of the file it came from (median-stop)', () => {
  const read = (name: string) => parseStudyText(readFileSync(new URL(`../../test/fixtures/katib/${name}.yaml`, import.meta.url), 'utf8'));
  const original = read('median-stop');
  const fromCluster = read('median-stop-get-o-yaml');
  // The webhook wrote the Job's success/failure conditions the original left to their default:
  // explicit now, and equal to the defaults Sibyl's kubernetes runtime applies to a Job.
  const job = defaultConditions(resourceOf('batch/v1', 'Job'))!;
  assert.equal(fromCluster.trialTemplate.successCondition, job.success);
  assert.equal(fromCluster.trialTemplate.failureCondition, job.failure);
  assert.deepEqual(fromCluster, { ...original, trialTemplate: { ...original.trialTemplate, successCondition: job.success, failureCondition: job.failure } });
});

test('the webhook-defaulted File collector (kind File, path /var/log/katib/metrics.log, format TEXT) is the same as a bare File collector', () => {
  // DEFAULTS, setDefaultMetricsCollector; the path is common_types.go DefaultFilePath.
  const bare = parseStudyDocument(edited((d) => { d.spec.metricsCollectorSpec = { collector: { kind: 'File' } }; }));
  const defaulted = parseStudyDocument(edited((d) => {
    d.spec.metricsCollectorSpec = { collector: { kind: 'File' }, source: { fileSystemPath: { kind: 'File', path: '/var/log/katib/metrics.log', format: 'TEXT' } } };
  }));
  assert.deepEqual(bare, defaulted);
  assert.equal(bare.metricsCollector.path, '/var/log/katib/metrics.log');
});

// ── algorithm settings ─────────────────────────────────────────────────────────
// What Katib's services' ValidateAlgorithmSettings accept (katib.md §3.1), per algorithm.
interface SettingsRow {
  readonly algorithm: string;
  readonly settings: Record<string, string>;
  readonly accepted: boolean;
  readonly katib: string;
  readonly parameters?: Doc[];
}

const TWO_RANGES: Doc[] = [
  { name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.01', max: '0.1' } },
  { name: 'opt', parameterType: 'int', feasibleSpace: { min: '1', max: '4' } },
];

const SETTINGS_ROWS: readonly SettingsRow[] = [
  { algorithm: 'bayesianoptimization', settings: { n_initial_points: '0' }, accepted: true, katib: 'skopt/service.py: n_initial_points ≥ 0' },
  { algorithm: 'bayesianoptimization', settings: { n_initial_points: '-1' }, accepted: false, katib: 'skopt/service.py: "n_initial_points should be great or equal than zero"' },
  { algorithm: 'bayesianoptimization', settings: { acq_func: 'gp_hedge', acq_optimizer: 'lbfgs', base_estimator: 'GP', random_state: '0' }, accepted: true, katib: 'skopt/service.py' },
  { algorithm: 'bayesianoptimization', settings: { n_initial: '3' }, accepted: false, katib: 'skopt/service.py: "unknown setting n_initial"' },
  { algorithm: 'bayesianoptimization', settings: { base_estimator: 'RF' }, accepted: false, katib: 'skopt/service.py accepts RF/ET/GBRT; Sibyl has only GP (README)' },
  { algorithm: 'cmaes', settings: { popsize: '10' }, accepted: true, katib: 'goptuna/converter.go reads only random_state, sigma, restart_strategy and ignores other names' },
  { algorithm: 'cmaes', settings: { restart_strategy: 'bipop', sigma: '0.1', random_state: '3' }, accepted: true, katib: 'goptuna/converter.go' },
  { algorithm: 'cmaes', settings: { restart_strategy: 'sometimes' }, accepted: false, katib: 'goptuna/converter.go: "invalid restart_strategy"' },
  { algorithm: 'cmaes', settings: { sigma: 'wide' }, accepted: false, katib: 'goptuna/converter.go: strconv.ParseFloat fails' },
  { algorithm: 'cmaes', settings: {}, accepted: false, parameters: [TWO_RANGES[0], { name: 'opt', parameterType: 'categorical', feasibleSpace: { list: ['a', 'b'] } }], katib: 'goptuna/service.go: "CMA-ES only supports two or more dimensional continuous search space"' },
  { algorithm: 'sobol', settings: { anything: 'x' }, accepted: true, katib: 'goptuna/converter.go: the sobol sampler reads no settings' },
  { algorithm: 'random', settings: { seed: '1' }, accepted: false, katib: 'hyperopt/service.py: "unknown setting seed for algorithm random"' },
  { algorithm: 'random', settings: { random_state: '-1' }, accepted: false, katib: 'hyperopt/service.py: random_state ≥ 0' },
  { algorithm: 'tpe', settings: { gamma: '0.25', prior_weight: '1.0', n_EI_candidates: '24', random_state: '0' }, accepted: true, katib: 'hyperopt/service.py' },
  { algorithm: 'tpe', settings: { gamma: '1' }, accepted: false, katib: 'hyperopt/service.py: "gamma should be in the range of (0, 1)"' },
  { algorithm: 'tpe', settings: { n_EI: '3' }, accepted: false, katib: 'hyperopt/service.py: unknown setting' },
  { algorithm: 'multivariate-tpe', settings: { n_startup_trials: '0', n_ei_candidates: '24', random_state: '0' }, accepted: true, katib: 'optuna/service.py: each ≥ 0' },
  { algorithm: 'multivariate-tpe', settings: { n_startup_trials: '-1' }, accepted: false, katib: 'optuna/service.py: "n_startup_trials should be greate or equal than zero"' },
  { algorithm: 'grid', settings: { random_state: '1' }, accepted: true, katib: 'optuna/service.py: random_state only', parameters: [{ name: 'lr', parameterType: 'double', feasibleSpace: { min: '0.01', max: '0.1', step: '0.01' } }, { name: 'opt', parameterType: 'int', feasibleSpace: { min: '1', max: '4' } }] },
  { algorithm: 'grid', settings: {}, accepted: false, katib: 'optuna search_space.py: a double needs step ("step is nil")' },
];

for (const row of SETTINGS_ROWS) {
  test(`${row.algorithm} settings ${JSON.stringify(row.settings)}: ${row.accepted ? 'accepted' : 'refused'} (${row.katib})`, () => {
    const doc = edited((d) => {
      d.spec.algorithm = { algorithmName: row.algorithm, algorithmSettings: Object.entries(row.settings).map(([name, value]) => ({ name, value })) };
      d.spec.parameters = row.parameters ?? TWO_RANGES;
    });
    if (row.accepted) {
      validateAlgorithm(parseStudyDocument(doc));
      return;
    }
    const err = specError(() => parseStudyDocument(doc));
    assert.match(err.field, /^spec\.(algorithm\.algorithmSettings|parameters)/);
  });
}

test('medianstop settings as Katib\'s medianstop service takes them (unknown names refused; min_trials_required > 0, start_step ≥ 1)', () => {
  const withSettings = (settings: Record<string, string>) => edited((d) => {
    d.spec.earlyStopping = { algorithmName: 'medianstop', algorithmSettings: Object.entries(settings).map(([name, value]) => ({ name, value })) };
  });
  validateEarlyStopping(parseStudyDocument(withSettings({ min_trials_required: '1', start_step: '2' })));
  for (const bad of [{ min_trials_required: '0' }, { start_step: '0' }, { min_trial: '3' }] as Record<string, string>[]) {
    const err = specError(() => parseStudyDocument(withSettings(bad)));
    assert.match(err.field, /^spec\.earlyStopping\.algorithmSettings\[/);
  }
});

// ── trialTemplate.configMap ────────────────────────────────────────────────────
// Katib: {configMapName, configMapNamespace, templatePath}, all three required, exclusive with
// trialSpec (VALIDATOR, validateTrialTemplate); the template is data[templatePath] of that
// ConfigMap, labelled katib.kubeflow.org/component: trial-templates (katib.md §2.5).
const JOB_TEMPLATE = `apiVersion: batch/v1
kind: Job
spec:
  template:
    spec:
      containers:
        - name: training-container
          image: trainer:1
          command: [python3, train.py, "--lr=\${trialParameters.lr}", "--opt=\${trialParameters.opt}"]
      restartPolicy: Never
`;

// Placeholders alone and unquoted (backoffLimit, parallelism, the annotation), quoted, and inside a longer string.
const TYPED_TEMPLATE = `apiVersion: batch/v1
kind: Job
spec:
  backoffLimit: \${trialParameters.retries}
  parallelism: \${trialParameters.retries}
  template:
    metadata:
      annotations:
        optimizer: \${trialParameters.opt}
    spec:
      containers:
        - name: training-container
          image: trainer:1
          command:
            - sh
            - -c
            - "echo loss=\${trialParameters.lr}"
          env:
            - name: RETRIES
              value: "\${trialParameters.retries}"
      restartPolicy: Never
`;

function withConfigMap(ref: Doc): Doc {
  return edited((d) => {
    d.metadata.namespace = 'team';
    d.spec.trialTemplate = { primaryContainerName: 'training-container', trialParameters: d.spec.trialTemplate.trialParameters, configMap: ref };
  });
}

const REF = { configMapName: 'trial-templates', configMapNamespace: 'team', templatePath: 'job.yaml' };

test('trialTemplate.configMap: refused without a cluster to read it from, with the reason', () => {
  const err = specError(() => parseStudyDocument(withConfigMap(REF)));
  assert.equal(err.field, 'spec.trialTemplate.configMap');
  assert.match(err.reason, /read from the cluster.*kubernetes runtime/);
});

for (const [field, ref] of [
  ['configMapName', { ...REF, configMapName: undefined }],
  ['configMapNamespace', { ...REF, configMapNamespace: '' }],
  ['templatePath', { ...REF, templatePath: undefined }],
  ['configMapName', { ...REF, configMapName: 'Not_A_Name' }],
] as const) {
  test(`trialTemplate.configMap: ${field} required and well-formed (Katib: all three must be specified)`, () => {
    const err = specError(() => parseStudyDocument(withConfigMap(ref)));
    assert.equal(err.field, `spec.trialTemplate.configMap.${field}`);
  });
}

test('trialTemplate.configMap with trialSpec too: refused (Katib: only one of them)', () => {
  const doc = withConfigMap(REF);
  doc.spec.trialTemplate.trialSpec = { apiVersion: 'batch/v1', kind: 'Job', spec: {} };
  assert.equal(specError(() => parseStudyDocument(doc, { configMapTemplate: { object: {}, bareValues: [] } })).field, 'spec.trialTemplate');
});

let kube: FakeKube;
let server: RunningServer;
let base_url = '';

before(async () => {
  const dir = tempDir();
  const fake = await startFakeKubeWithFile(dir);
  kube = fake.kube;
  const kubeconfig = fake.kubeconfig;
  const configMaps = kube.collectionKey('', 'v1', 'team', 'configmaps');
  kube.insert(configMaps, {
    apiVersion: 'v1', kind: 'ConfigMap',
    metadata: { name: 'trial-templates', namespace: 'team', labels: { 'katib.kubeflow.org/component': 'trial-templates' } },
    data: {
      'job.yaml': JOB_TEMPLATE,
      'broken.yaml': 'apiVersion: batch/v1\nkind: [Job\n',
      'list.yaml': '- a\n- b\n',
      'unknown-placeholder.yaml': JOB_TEMPLATE.replace('image: trainer:1', 'image: "trainer:${trialParameters.tag}"'),
      'typed.yaml': TYPED_TEMPLATE,
    },
  });
  server = await startServer({ host: '127.0.0.1', grpcPort: 0, httpPort: 0, dataDir: join(dir, 'data'), runtime: 'kubernetes', kubeconfig });
  base_url = `http://127.0.0.1:${server.httpPort}`;
});

after(async () => {
  await server?.close();
  await kube?.close();
});

async function create(doc: Doc): Promise<{ status: number; body: any }> {
  const res = await fetch(`${base_url}/api/v1/studies`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ spec: doc }) });
  return { status: res.status, body: await res.json() };
}

test('trialTemplate.configMap on the kubernetes runtime: the template is read from the ConfigMap and checked; the spec keeps the reference', async () => {
  const doc = withConfigMap(REF);
  doc.metadata.name = 'from-configmap';
  const { status, body } = await create(doc);
  assert.equal(status, 201, JSON.stringify(body));
  const spec = body.study?.spec ?? body.spec;
  assert.deepEqual(spec.trialTemplate.configMap, REF);
  assert.equal(spec.trialTemplate.trialSpec.kind, 'Job');
  assert.deepEqual(spec.trialTemplate.trialSpec.spec.template.spec.containers[0].command.slice(2), ['--lr=${trialParameters.lr}', '--opt=${trialParameters.opt}']);
  assert.ok(kube.count('GET', '/api/v1/namespaces/team/configmaps/trial-templates') >= 1);
});

test('trialTemplate.configMap: a placeholder alone and unquoted in the template\'s YAML takes the type YAML gives its value, as Katib substitutes the text before reading it', async () => {
  const doc = withConfigMap({ ...REF, templatePath: 'typed.yaml' });
  doc.metadata.name = 'typed-configmap';
  doc.spec.parameters.push({ name: 'retries', parameterType: 'discrete', feasibleSpace: { list: ['2'] } });
  doc.spec.trialTemplate.trialParameters.push({ name: 'retries', reference: 'retries' });
  doc.spec.maxTrialCount = 1;
  const { status, body } = await create(doc);
  assert.equal(status, 201, JSON.stringify(body));
  const jobs = '/apis/batch/v1/namespaces/team/jobs';
  const posts = () => kube.requests.filter((r) => r.method === 'POST' && r.path === jobs && r.body?.['metadata']?.['name']?.startsWith('typed-configmap-'));
  const [dryRun, created] = await until('the dry run and the first create', 30_000, () => (posts().length >= 2 ? posts() : undefined));
  assert.equal(dryRun?.query.get('dryRun'), 'All');
  for (const job of [dryRun!.body!, created!.body!]) {
    assert.equal(job['spec'].backoffLimit, 2, 'a bare placeholder of an int: a number');
    assert.equal(job['spec'].parallelism, 2);
    const opt = job['spec'].template.metadata.annotations.optimizer;
    assert.ok(opt === 'sgd' || opt === 'adam', 'a bare placeholder of a word: still a string');
    const container = job['spec'].template.spec.containers[0];
    assert.equal(container.env[0].value, '2', 'a quoted placeholder: a string');
    assert.match(container.command[2], /^echo loss=0\.\d+/);
  }
});

test('typeBareValues: numbers and booleans as YAML reads them; any other text, or a value that would add structure, stays a string', () => {
  const paths = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i'].map((k) => [k]);
  const object: Record<string, unknown> = { a: '2', b: '1e-7', c: '0.01', d: 'true', e: 'a: b', f: '[1, 2]', g: '.inf', h: 'sgd', i: '' };
  typeBareValues(object, [...paths, ['missing', 'deeper'], ['a', 'not-an-object']]);
  assert.deepEqual(object, { a: 2, b: 1e-7, c: 0.01, d: true, e: 'a: b', f: '[1, 2]', g: '.inf', h: 'sgd', i: '' });
});

for (const [what, ref, field, reason] of [
  ['ConfigMap not found', { ...REF, configMapName: 'nope' }, 'configMapName', /ConfigMap team\/nope not found/],
  ['key missing', { ...REF, templatePath: 'missing.yaml' }, 'templatePath', /has no key "missing.yaml" \(its keys: "broken.yaml", "job.yaml", "list.yaml", "typed.yaml", "unknown-placeholder.yaml"\)/],
  ['not YAML', { ...REF, templatePath: 'broken.yaml' }, 'templatePath', /is not valid YAML/],
  ['YAML but not an object', { ...REF, templatePath: 'list.yaml' }, 'templatePath', /must be a Kubernetes object in YAML \(got a list\)/],
  ['a template that fails the template checks', { ...REF, templatePath: 'unknown-placeholder.yaml' }, 'templatePath', /in the template of ConfigMap team\/trial-templates, key "unknown-placeholder.yaml": trialSpec: placeholder \$\{trialParameters.tag\} has no trialParameter/],
] as const) {
  test(`trialTemplate.configMap on the kubernetes runtime: ${what} → 400 naming spec.trialTemplate.configMap.${field}`, async () => {
    const doc = withConfigMap(ref);
    doc.metadata.name = `cm-${field.toLowerCase()}`;
    const { status, body } = await create(doc);
    assert.equal(status, 400, JSON.stringify(body));
    assert.equal(body.error.field, `spec.spec.trialTemplate.configMap.${field}`);
    assert.match(body.error.message, reason);
  });
}
