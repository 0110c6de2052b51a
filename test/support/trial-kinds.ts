// The studies of the trial-kinds tests, one per kind, shared by the fast tier (fake API server)
// and the cluster tier: two trials of examples/mlp/train.mjs, one that trains (2 hidden layers)
// and one that exits 2 (25 hidden layers is out of range). Kinds with several pods per trial have
// a "prepare" pod that prints a decoy metrics line, so reading the wrong pod shows in the metrics.
import { parseStudyDocument } from '../../src/spec/parse.js';
import type { StudySpec } from '../../src/spec/types.js';

export const EPOCHS = 5;
export const IMAGE = 'sibyl/mlp-example:latest';
export const GOOD_LAYERS = 2;
export const BAD_LAYERS = 25;
const DECOY = ['node', '-e', 'console.log("epoch=1 loss=9 accuracy=0.000123")'];

type Doc = Record<string, any>;

/** The trainer's container fields (image, command, args) with the trial's value in the args. */
const trainer = (): Doc => ({
  image: IMAGE,
  imagePullPolicy: 'IfNotPresent',
  command: ['node', 'train.mjs'],
  args: ['--hidden-layers', '${trialParameters.hiddenLayers}', '--epochs', String(EPOCHS)],
});

function study(name: string, namespace: string, template: Doc): StudySpec {
  return parseStudyDocument({
    apiVersion: 'kubeflow.org/v1beta1',
    kind: 'Experiment',
    metadata: { name, namespace },
    spec: {
      objective: { type: 'maximize', objectiveMetricName: 'accuracy', additionalMetricNames: ['loss'], metricStrategies: [{ name: 'accuracy', value: 'latest' }, { name: 'loss', value: 'latest' }] },
      algorithm: { algorithmName: 'grid' },
      parallelTrialCount: 2,
      maxTrialCount: 2,
      maxFailedTrialCount: 2,
      parameters: [{ name: 'hidden_layers', parameterType: 'discrete', feasibleSpace: { list: [String(GOOD_LAYERS), String(BAD_LAYERS)] } }],
      trialTemplate: { trialParameters: [{ name: 'hiddenLayers', reference: 'hidden_layers' }], ...template },
    },
  });
}

export function batchJobStudy(namespace: string): StudySpec {
  return study('kinds-job', namespace, {
    primaryContainerName: 'training',
    trialSpec: {
      apiVersion: 'batch/v1',
      kind: 'Job',
      spec: { backoffLimit: 0, template: { spec: { restartPolicy: 'Never', containers: [{ name: 'training', workingDir: '/opt/sibyl/examples/mlp', ...trainer() }] } } },
    },
  });
}

/** Katib's TrainJob example's shape: the trainer in spec.trainer, two nodes, container "node". */
export function trainJobStudy(namespace: string): StudySpec {
  const t = trainer();
  return study('kinds-trainjob', namespace, {
    primaryContainerName: 'node',
    trialSpec: {
      apiVersion: 'trainer.kubeflow.org/v1alpha1',
      kind: 'TrainJob',
      spec: { runtimeRef: { name: 'torch-distributed' }, trainer: { numNodes: 2, image: t['image'], command: [...t['command'], ...t['args']] } },
    },
  });
}

/** Katib's Argo example's shape: a preparing step, then the training template, run as "main". */
export function argoStudy(namespace: string, primaryPodLabels?: Record<string, string>): StudySpec {
  return study('kinds-argo', namespace, {
    primaryContainerName: 'main',
    ...(primaryPodLabels ? { primaryPodLabels } : {}),
    successCondition: 'status.[@this].#(phase=="Succeeded")#',
    failureCondition: 'status.[@this].#(phase=="Failed")#',
    trialSpec: {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflow',
      spec: {
        entrypoint: 'tune',
        templates: [
          { name: 'tune', steps: [[{ name: 'prepare', template: 'prepare' }], [{ name: 'train', template: 'train' }]] },
          { name: 'prepare', container: { image: IMAGE, imagePullPolicy: 'IfNotPresent', command: DECOY } },
          { name: 'train', ...(primaryPodLabels ? { metadata: { labels: primaryPodLabels } } : {}), container: { name: 'model-training', workingDir: '/opt/sibyl/examples/mlp', ...trainer() } },
        ],
      },
    },
  });
}

/** Katib's Tekton example's shape: two tasks, the primary step run as "step-train". */
export function tektonStudy(namespace: string): StudySpec {
  return study('kinds-tekton', namespace, {
    primaryContainerName: 'step-train',
    successCondition: 'status.conditions.#(type=="Succeeded")#|#(status=="True")#',
    failureCondition: 'status.conditions.#(type=="Succeeded")#|#(status=="False")#',
    trialSpec: {
      apiVersion: 'tekton.dev/v1beta1',
      kind: 'PipelineRun',
      spec: {
        pipelineSpec: {
          tasks: [
            { name: 'prepare', taskSpec: { steps: [{ name: 'prepare', image: IMAGE, command: DECOY }] } },
            { name: 'train', runAfter: ['prepare'], taskSpec: { steps: [{ name: 'train', workingDir: '/opt/sibyl/examples/mlp', ...trainer() }] } },
          ],
        },
      },
    },
  });
}

/** The metric values a log holds, in order. */
export function metricsInLog(log: string, metric: string): number[] {
  return [...log.matchAll(new RegExp(`\\b${metric}=([-+0-9.eE]+)`, 'g'))].map((m) => Number(m[1]));
}
