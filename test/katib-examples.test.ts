// Issue #12's headline: Katib's own example Experiments, taken as a new user takes them. Every
// Experiment file under examples/v1beta1/ of kubeflow/katib (commit 33c8ff4e, the one the other
// Katib fixtures follow) is copied unchanged into test/fixtures/katib/examples/ and has one row
// below: accepted (by the parser and by the kubernetes runtime's checks), or refused with the
// field, the reason and why that is right:
//   (a) Katib refuses it too (its webhook, pkg/webhook/v1beta1/experiment/validator/validator.go);
//   (b) a limit of Sibyl's that README.md states.
// A refused (a) row also says what makes the file valid and what Sibyl then answers, so that the
// refusal is known to be the only fault.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { test } from 'node:test';
import { parse, parseAllDocuments } from 'yaml';
import { validateForKubernetes } from '../src/runtimes/kubernetes/validate.js';
import { SpecError } from '../src/spec/errors.js';
import { parseStudyText } from '../src/spec/parse.js';
import { configMapReferenceOf, templateFromConfigMap } from '../src/spec/template-source.js';
import type { StudySpec } from '../src/spec/types.js';

const KATIB_COMMIT = '33c8ff4e5d1814b59abd308e6819e839e9906bc2';
const FIXTURES = new URL('../../test/fixtures/katib/', import.meta.url);
const EXAMPLES = new URL('examples/', FIXTURES);

/** What Sibyl makes of an accepted example: enough to see it was read as Katib reads it. */
interface Accepted {
  readonly algorithm: string;
  readonly trialKind: string;
  readonly collector: string;
}

interface Refused {
  /** `parse`: parseStudyText; `kubernetes`: validateForKubernetes after a successful parse. */
  readonly stage: 'parse' | 'kubernetes';
  readonly field: string;
  readonly reason: RegExp;
  readonly category: 'a' | 'b';
}

type Outcome = { readonly accepted: Accepted } | { readonly refused: Refused };

interface Row {
  /** The path under examples/v1beta1/ in kubeflow/katib. */
  readonly file: string;
  readonly outcome: Outcome;
  /** For a category (a) refusal: what makes the file valid, and Sibyl's answer then. */
  readonly corrected?: { readonly how: string; readonly edit: (text: string) => string; readonly outcome: Outcome; readonly configMapTemplate?: string };
}

/** The kubernetes runtime as deployed for pbt, with a claim for the trials' checkpoint folders. */
const CHECKPOINT_VOLUME = { claimName: 'katib-checkpoints', dir: tmpdir() };

const job = (algorithm: string, collector = 'StdOut'): Outcome => ({ accepted: { algorithm, trialKind: 'batch/v1 Job', collector } });

const NAS: Refused = {
  // (b) README, Katib compatibility: nasConfig (and with it enas/darts) is refused.
  stage: 'parse', field: 'spec.nasConfig', reason: /neural architecture search .* not supported/, category: 'b',
};

const ROWS: readonly Row[] = [
  { file: 'argo/argo-workflow.yaml', outcome: { accepted: { algorithm: 'random', trialKind: 'argoproj.io/v1alpha1 Workflow', collector: 'StdOut' } } },
  { file: 'early-stopping/median-stop-with-json-format.yaml', outcome: job('random', 'File') },
  { file: 'early-stopping/median-stop.yaml', outcome: job('random') },
  { file: 'fpga/xgboost-example.yaml', outcome: job('random') },
  { file: 'hp-tuning/bayesian-optimization.yaml', outcome: job('bayesianoptimization') },
  { file: 'hp-tuning/cma-es.yaml', outcome: job('cmaes') },
  { file: 'hp-tuning/grid.yaml', outcome: job('grid') },
  { file: 'hp-tuning/hyperband.yaml', outcome: job('hyperband') },
  { file: 'hp-tuning/hyperopt-distribution.yaml', outcome: job('random') },
  { file: 'hp-tuning/multivariate-tpe.yaml', outcome: job('multivariate-tpe') },
  { file: 'hp-tuning/optuna-distribution.yaml', outcome: job('tpe') },
  { file: 'hp-tuning/random.yaml', outcome: job('random') },
  {
    file: 'hp-tuning/simple-pbt.yaml',
    // (a) maxFailedTrialCount 3 > maxTrialCount 2: validator.go refuses it ("should be less than
    // or equal to spec.maxTrialCount"); Katib's e2e script (run-e2e-experiment.py) sets
    // parallelTrialCount 1 and maxFailedTrialCount 0 before it creates this Experiment.
    outcome: { refused: { stage: 'parse', field: 'spec.maxFailedTrialCount', reason: /must not exceed maxTrialCount \(got 3 > 2\)/, category: 'a' } },
    corrected: {
      how: "Katib's e2e budgets",
      edit: (t) => t.replace('parallelTrialCount: 2', 'parallelTrialCount: 1').replace('maxFailedTrialCount: 3', 'maxFailedTrialCount: 0'),
      // On a runtime given a checkpoint volume (--kube-checkpoint-claim), as Katib's pbt needs one.
      outcome: job('pbt'),
    },
  },
  { file: 'hp-tuning/sobol.yaml', outcome: job('sobol') },
  { file: 'hp-tuning/tpe.yaml', outcome: job('tpe') },
  { file: 'kubeflow-trainer/trainjob-pytorch.yaml', outcome: { accepted: { algorithm: 'random', trialKind: 'trainer.kubeflow.org/v1alpha1 TrainJob', collector: 'StdOut' } } },
  { file: 'kubeflow-training-operator/mpijob-horovod.yaml', outcome: { accepted: { algorithm: 'random', trialKind: 'kubeflow.org/v1 MPIJob', collector: 'StdOut' } } },
  { file: 'kubeflow-training-operator/pytorchjob-mnist.yaml', outcome: { accepted: { algorithm: 'random', trialKind: 'kubeflow.org/v1 PyTorchJob', collector: 'StdOut' } } },
  { file: 'kubeflow-training-operator/tfjob-mnist-with-summaries.yaml', outcome: { accepted: { algorithm: 'random', trialKind: 'kubeflow.org/v1 TFJob', collector: 'TensorFlowEvent' } } },
  { file: 'kubeflow-training-operator/xgboostjob-lightgbm.yaml', outcome: { accepted: { algorithm: 'random', trialKind: 'kubeflow.org/v1 XGBoostJob', collector: 'StdOut' } } },
  { file: 'metrics-collector/custom-metrics-collector.yaml', outcome: job('random', 'Custom') },
  { file: 'metrics-collector/file-metrics-collector-with-json-format.yaml', outcome: job('random', 'File') },
  { file: 'metrics-collector/file-metrics-collector.yaml', outcome: job('random', 'File') },
  { file: 'metrics-collector/metrics-collection-strategy.yaml', outcome: job('tpe') },
  { file: 'nas/darts-cpu.yaml', outcome: { refused: NAS } },
  { file: 'nas/darts-gpu.yaml', outcome: { refused: NAS } },
  { file: 'nas/enas-cpu.yaml', outcome: { refused: NAS } },
  { file: 'nas/enas-gpu.yaml', outcome: { refused: NAS } },
  { file: 'resume-experiment/from-volume-resume.yaml', outcome: job('random') },
  { file: 'resume-experiment/long-running-resume.yaml', outcome: job('random') },
  {
    file: 'tekton/pipeline-run.yaml',
    // (a) The trialParameter is named learningRate but the template writes $(trialParameters.lr):
    // validator.go looks for "${trialParameters.learningRate}" in the template and refuses the
    // Experiment at trialParameters[0].name when it is missing, as Sibyl does.
    outcome: { refused: { stage: 'parse', field: 'spec.trialTemplate.trialParameters[0].name', reason: /"learningRate" is not used by any \$\{trialParameters\.learningRate\} placeholder/, category: 'a' } },
    corrected: {
      how: 'the placeholder written as Katib substitutes it',
      edit: (t) => t.replace('$(trialParameters.lr)', '${trialParameters.learningRate}'),
      outcome: { accepted: { algorithm: 'random', trialKind: 'tekton.dev/v1beta1 PipelineRun', collector: 'StdOut' } },
    },
  },
  {
    file: 'trial-template/trial-configmap-source.yaml',
    // (a) Read with the trial-templates ConfigMap Katib installs (test/fixtures/katib/
    // trial-templates.yaml), whose defaultTrialTemplate.yaml has placeholders learningRate and
    // momentum while the Experiment declares learningRate, numberLayers and optimizer. Katib's
    // validator.go refuses it too (it names numberLayers, missing from the template, first;
    // Sibyl names momentum, missing from trialParameters: both are true).
    outcome: { refused: { stage: 'parse', field: 'spec.trialTemplate.configMap.templatePath', reason: /ConfigMap kubeflow\/trial-templates, key "defaultTrialTemplate\.yaml": trialSpec: placeholder \$\{trialParameters\.momentum\} has no trialParameter named "momentum"/, category: 'a' } },
    corrected: {
      how: "a ConfigMap template with the Experiment's three placeholders",
      edit: (t) => t,
      configMapTemplate: 'defaultTrialTemplate.yaml',
      outcome: job('cmaes'),
    },
  },
  { file: 'trial-template/trial-metadata-substitution.yaml', outcome: job('random') },
];

const fixtureName = (file: string) => file.replaceAll('/', '__');
const fixtureText = (file: string) => readFileSync(new URL(fixtureName(file), EXAMPLES), 'utf8');

/** The ConfigMaps a cluster with Katib installed has: Katib's trial-templates. */
function installedConfigMaps(): Map<string, Record<string, string>> {
  const cm = parse(readFileSync(new URL('trial-templates.yaml', FIXTURES), 'utf8'));
  return new Map([[`${cm.metadata.namespace}/${cm.metadata.name}`, cm.data]]);
}

/** The trial-templates ConfigMap with one key's template rewritten to the configmap example's placeholders. */
function correctedConfigMaps(key: string): Map<string, Record<string, string>> {
  const maps = installedConfigMaps();
  const data = maps.get('kubeflow/trial-templates')!;
  const fixed = data[key]!.replace('"--momentum=${trialParameters.momentum}"', '"--num-layers=${trialParameters.numberLayers}"\n            - "--optimizer=${trialParameters.optimizer}"');
  assert.notEqual(fixed, data[key], 'the correction must change the template');
  maps.set('kubeflow/trial-templates', { ...data, [key]: fixed });
  return maps;
}

/** Sibyl's answer to an Experiment text, as the service layer on the kubernetes runtime gives it. */
function check(text: string, configMaps: Map<string, Record<string, string>>): { spec: StudySpec } | { error: SpecError; stage: 'parse' | 'kubernetes' } {
  let spec: StudySpec;
  try {
    const ref = configMapReferenceOf(parse(text));
    const configMapTemplate = ref && templateFromConfigMap(ref, configMaps.get(`${ref.configMapNamespace}/${ref.configMapName}`));
    spec = parseStudyText(text, configMapTemplate === undefined ? {} : { configMapTemplate });
  } catch (err) {
    if (err instanceof SpecError) return { error: err, stage: 'parse' };
    throw err;
  }
  try {
    validateForKubernetes(spec, { checkpointVolume: CHECKPOINT_VOLUME });
  } catch (err) {
    if (err instanceof SpecError) return { error: err, stage: 'kubernetes' };
    throw err;
  }
  return { spec };
}

function assertOutcome(what: string, text: string, expected: Outcome, configMaps: Map<string, Record<string, string>>): void {
  const got = check(text, configMaps);
  if ('accepted' in expected) {
    if ('error' in got) assert.fail(`${what}: expected accepted, refused at ${got.stage}: ${got.error.field}: ${got.error.reason}`);
    const { spec } = got;
    const trial = spec.trialTemplate.trialSpec!;
    assert.deepEqual(
      { algorithm: spec.algorithm.algorithmName, trialKind: `${String(trial['apiVersion'])} ${String(trial['kind'])}`, collector: spec.metricsCollector.kind },
      expected.accepted,
      what,
    );
    return;
  }
  const want = expected.refused;
  if (!('error' in got)) assert.fail(`${what}: expected refused at ${want.stage} (${want.field}), but it was accepted`);
  assert.equal(got.stage, want.stage, `${what}: refused at ${got.stage}: ${got.error.field}: ${got.error.reason}`);
  assert.equal(got.error.field, want.field, `${what}: ${got.error.reason}`);
  assert.match(got.error.reason, want.reason, what);
}

test('every Experiment file in Katib\'s examples/v1beta1 has a fixture and a row, and each fixture is the copy its header names', () => {
  const fixtures = readdirSync(EXAMPLES).sort();
  assert.deepEqual(fixtures, ROWS.map((r) => fixtureName(r.file)).sort());
  for (const row of ROWS) {
    const text = fixtureText(row.file);
    const header = text.split('\n', 1)[0]!;
    assert.match(header, /^# Source: kubeflow\/katib /, row.file);
    assert.ok(header.includes(`examples/v1beta1/${row.file} at commit ${KATIB_COMMIT}`), `${row.file}: ${header}`);
    // Each file holds one document, an Experiment (none at this commit holds others to skip).
    const docs = parseAllDocuments(text).filter((d) => d.contents !== null);
    assert.equal(docs.length, 1, row.file);
    assert.equal((docs[0]!.toJS() as { kind?: unknown }).kind, 'Experiment', row.file);
  }
});

for (const row of ROWS) {
  const label = 'accepted' in row.outcome ? 'accepted' : `refused (${row.outcome.refused.category}): ${row.outcome.refused.field}`;
  test(`Katib example ${row.file}: ${label}`, () => {
    assertOutcome(row.file, fixtureText(row.file), row.outcome, installedConfigMaps());
    const corrected = row.corrected;
    assert.equal(corrected !== undefined, 'refused' in row.outcome && row.outcome.refused.category === 'a', 'an (a) refusal, and only one, says what makes the file valid');
    if (corrected) {
      const text = corrected.edit(fixtureText(row.file));
      const maps = corrected.configMapTemplate ? correctedConfigMaps(corrected.configMapTemplate) : installedConfigMaps();
      assertOutcome(`${row.file} with ${corrected.how}`, text, corrected.outcome, maps);
    }
  });
}

test("Katib's examples: the tally README gives", () => {
  const accepted = ROWS.filter((r) => 'accepted' in r.outcome).length;
  const refused = (category: 'a' | 'b') => ROWS.filter((r) => 'refused' in r.outcome && r.outcome.refused.category === category).length;
  assert.deepEqual({ total: ROWS.length, accepted, katibRefusesToo: refused('a'), sibylLimit: refused('b') }, { total: 33, accepted: 26, katibRefusesToo: 3, sibylLimit: 4 });
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
  assert.match(readme, /26 of Katib's 33 example Experiments/);
});
