// Katib's own Trial objects, for Sibyl serving as Katib's early-stopping service: a trial that
// Katib's metrics collector stopped by the rules gets the `EarlyStopped` condition, as Katib's
// medianstop service writes it (katib.md §3). Katib's controller then ends the trial
// EarlyStopped rather than Succeeded, and counts it so.
import type { KubeConfig } from '@kubernetes/client-node';
import { describeError, KubeApi, statusOf } from '../runtimes/kubernetes/api.js';
import type { KubeObject } from '../runtimes/kubernetes/render.js';
import { resourceOf } from '../runtimes/kubernetes/resources.js';
import { notFound, ServiceError } from './errors.js';

const TRIALS = resourceOf('kubeflow.org/v1beta1', 'Trial');
/** Conflicting writes (Katib's controller updates the status too) retried this often. */
const ATTEMPTS = 5;

export class KatibTrialConditions {
  private readonly api: KubeApi;

  constructor(kubeConfig: KubeConfig, private readonly namespace: string) {
    this.api = new KubeApi(kubeConfig);
  }

  /** Appends EarlyStopped (once) to the Trial's conditions, with its resourceVersion as a precondition. */
  async markEarlyStopped(name: string): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      try {
        const trial = await this.api.get(TRIALS, this.namespace, name);
        const conditions = (trial['status']?.conditions ?? []) as KubeObject[];
        if (conditions.some((c) => c['type'] === 'EarlyStopped' && c['status'] === 'True')) return;
        const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
        const stopped = { type: 'EarlyStopped', status: 'True', reason: 'TrialEarlyStopped', message: 'Trial is early stopped', lastUpdateTime: now, lastTransitionTime: now };
        await this.api.mergePatch(TRIALS, this.namespace, name, { metadata: { resourceVersion: trial['metadata'].resourceVersion }, status: { conditions: [...conditions, stopped] } }, 'status');
        return;
      } catch (err) {
        const status = statusOf(err);
        if (status === 404) throw notFound(`trial ${JSON.stringify(name)} in namespace ${JSON.stringify(this.namespace)}`, 'trial_name');
        if (status === 409 && attempt < ATTEMPTS) continue;
        throw new ServiceError('UNAVAILABLE', `marking Katib trial ${JSON.stringify(name)} EarlyStopped: ${describeError(err)}`);
      }
    }
  }
}
