// Sibyl's trials as objects, so that `kubectl get trials.sibyl.dev` answers what the dashboard
// answers: one `Trial` (sibyl.dev/v1beta1, deploy/crds/trial.yaml) per trial of a study made from
// an Experiment, in its namespace, owned by the Experiment, with Katib's Trial fields: the
// assignment in `spec.parameterAssignments`, `status.conditions` with Katib's trial condition
// types and reasons, `status.observation.metrics` as strings, start and completion times.
// Sibyl's own group on purpose: Katib's trial controller acts on every kubeflow.org Trial (it
// would launch a second run of it); these are read-only mirrors and run nothing.
//
// A mirror, not a source: the store stays the truth. Each trial object is written when what it
// would say changes (compared with what the API server holds, after a list at start), and the
// objects are deleted with their study.
import type { KubeApi } from '../runtimes/kubernetes/api.js';
import { statusOf } from '../runtimes/kubernetes/api.js';
import type { KubeObject } from '../runtimes/kubernetes/render.js';
import { labelValue } from '../runtimes/kubernetes/render.js';
import { STUDY_LABEL, type Resource } from '../runtimes/kubernetes/resources.js';
import type { TrialShape } from '../service/shapes.js';
import type { TrialState } from '../model/trial.js';
import { sameStatus, UNAVAILABLE } from './experiment-status.js';

export const TRIAL_RESOURCE: Resource = { group: 'sibyl.dev', version: 'v1beta1', plural: 'trials', kind: 'Trial' };

/** Katib's trial condition type and reason for each state (shared/reference/katib.md §2.5). */
const CONDITION_OF: Readonly<Record<TrialState, { type: string; reason: string }>> = {
  CREATED: { type: 'Created', reason: 'TrialCreated' },
  RUNNING: { type: 'Running', reason: 'TrialRunning' },
  SUCCEEDED: { type: 'Succeeded', reason: 'TrialSucceeded' },
  FAILED: { type: 'Failed', reason: 'TrialFailed' },
  KILLED: { type: 'Killed', reason: 'TrialKilled' },
  EARLY_STOPPED: { type: 'EarlyStopped', reason: 'TrialEarlyStopped' },
  METRICS_UNAVAILABLE: { type: 'MetricsUnavailable', reason: 'MetricsUnavailable' },
};

/** What a trial's object says: spec (fixed at creation) and status. */
export function trialObject(trial: TrialShape, metricNames: readonly string[], experiment: KubeObject): KubeObject {
  const md = experiment['metadata'];
  return {
    apiVersion: `${TRIAL_RESOURCE.group}/${TRIAL_RESOURCE.version}`,
    kind: TRIAL_RESOURCE.kind,
    metadata: {
      name: trial.name,
      namespace: md.namespace,
      labels: { [STUDY_LABEL]: labelValue(trial.study), 'katib.kubeflow.org/experiment': labelValue(md.name) },
      ownerReferences: [{ apiVersion: experiment['apiVersion'], kind: 'Experiment', name: md.name, uid: md.uid, controller: true, blockOwnerDeletion: false }],
    },
    spec: {
      study: trial.study,
      parameterAssignments: Object.entries(trial.assignment).map(([name, value]) => ({ name, value: String(value) })),
      ...(Object.keys(trial.labels).length > 0 ? { labels: trial.labels } : {}),
    },
    status: trialStatus(trial, metricNames),
  };
}

export function trialStatus(trial: TrialShape, metricNames: readonly string[]): KubeObject {
  const c = CONDITION_OF[trial.state];
  const ended = trial.state !== 'CREATED' && trial.state !== 'RUNNING';
  const at = trial.completedAt ?? trial.startedAt ?? trial.createdAt;
  const message = trial.message ?? (trial.reason && trial.reason !== c.reason ? trial.reason : '');
  return {
    state: trial.state,
    startTime: trial.startedAt ?? trial.createdAt,
    ...(ended && trial.completedAt ? { completionTime: trial.completedAt } : {}),
    // The trial's current condition (Katib keeps a history; the store keeps the transitions' outcome).
    conditions: [{ type: c.type, status: 'True', reason: trial.reason && ended ? trial.reason : c.reason, message, lastUpdateTime: at, lastTransitionTime: at }],
    observation: {
      metrics: metricNames.map((name) => {
        const m = trial.metrics.find((x) => x.name === name);
        return m ? { name, min: String(m.min), max: String(m.max), latest: String(m.latest) } : { name, min: UNAVAILABLE, max: UNAVAILABLE, latest: UNAVAILABLE };
      }),
    },
    ...(trial.objectiveValue === null ? {} : { objectiveValue: String(trial.objectiveValue) }),
    assignment: Object.entries(trial.assignment).map(([k, v]) => `${k}=${v}`).join(' '),
    ...(trial.stoppedAtStep === null ? {} : { stoppedAtStep: trial.stoppedAtStep }),
  };
}

export class TrialMirror {
  /** What each object's status says on the server (namespace/name → status), once listed. */
  private readonly written = new Map<string, KubeObject>();
  private readonly listed = new Set<string>();
  private unavailable = false;

  constructor(private readonly api: KubeApi, private readonly log: (m: string) => void) {}

  /** Brings the study's trial objects up to date; returns false when the Trial kind is not installed. */
  async sync(experiment: KubeObject, studyName: string, trials: readonly TrialShape[], metricNames: readonly string[]): Promise<boolean> {
    if (this.unavailable) return false;
    const ns: string = experiment['metadata'].namespace;
    try {
      await this.listOnce(ns, studyName);
      for (const trial of trials) {
        const key = `${ns}/${trial.name}`;
        const status = trialStatus(trial, metricNames);
        const known = this.written.get(key);
        if (known && sameStatus(known, status)) continue;
        if (!known) {
          const body = trialObject(trial, metricNames, experiment);
          try {
            await this.api.create(TRIAL_RESOURCE, ns, body);
          } catch (err) {
            if (statusOf(err) !== 409) throw err;
          }
        }
        // The status subresource ignores status sent with a create: written apart.
        await this.api.mergePatch(TRIAL_RESOURCE, ns, trial.name, { status: { ...status, completionTime: status['completionTime'] ?? null } }, 'status');
        this.written.set(key, status);
      }
      return true;
    } catch (err) {
      if (statusOf(err) === 404 && !this.listed.has(`${ns}/${studyName}`)) {
        this.unavailable = true;
        this.log('experiments: the Trial kind (trials.sibyl.dev, deploy/crds/trial.yaml) is not installed: trials are not mirrored as objects');
        return false;
      }
      throw err;
    }
  }

  /** Deletes the study's trial objects (also where no garbage collector follows owner references). */
  async remove(namespace: string, studyName: string): Promise<void> {
    if (this.unavailable) return;
    let items: KubeObject[];
    try {
      items = (await this.api.list(TRIAL_RESOURCE, namespace, `${STUDY_LABEL}=${labelValue(studyName)}`)).items;
    } catch (err) {
      if (statusOf(err) === 404) return;
      throw err;
    }
    for (const o of items) {
      try {
        await this.api.delete(TRIAL_RESOURCE, namespace, o['metadata'].name, 'Background');
      } catch (err) {
        if (statusOf(err) !== 404) throw err;
      }
      this.written.delete(`${namespace}/${o['metadata'].name}`);
    }
    this.listed.delete(`${namespace}/${studyName}`);
  }

  private async listOnce(namespace: string, studyName: string): Promise<void> {
    const key = `${namespace}/${studyName}`;
    if (this.listed.has(key)) return;
    const list = await this.api.list(TRIAL_RESOURCE, namespace, `${STUDY_LABEL}=${labelValue(studyName)}`);
    for (const o of list.items) if (o['status']) this.written.set(`${namespace}/${o['metadata'].name}`, o['status']);
    this.listed.add(key);
  }
}
