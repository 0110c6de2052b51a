// Building the runtime a process launches trials with, and checking a spec against it.
import { join } from 'node:path';
import { LocalRuntime } from './local/index.js';
import { validateForLocal } from './local/argv.js';
import { validateForKubernetes } from './kubernetes/validate.js';
import type { RuntimeListener, TrialRuntime } from './types.js';
import type { StudySpec } from '../spec/types.js';

export type LaunchingRuntime = 'local' | 'kubernetes';

export interface RuntimeOptions {
  readonly dataDir: string;
  /** A kubeconfig file; default: $KUBECONFIG, ~/.kube/config, or the in-cluster service account. */
  readonly kubeconfig?: string;
  /** Kubernetes: what to do with running trial objects when this process stops. */
  readonly onShutdown?: 'detach' | 'delete';
  /** Given to every trial as SIBYL_PUSH_ENDPOINT: the root URL of a metrics push intake. */
  readonly pushEndpoint?: string;
  /** Each trial's own push credential (SIBYL_PUSH_TOKEN), when the intake needs one. */
  readonly pushToken?: (trialName: string) => string | undefined;
  /** Kubernetes: how long a trial's pods may stay Pending before it fails. */
  readonly pendingTimeoutMs?: number;
  readonly log?: (message: string) => void;
}

/** The runtime's constructor, ready for the scheduler's listener. */
export async function runtimeFactory(kind: LaunchingRuntime, o: RuntimeOptions): Promise<(listener: RuntimeListener) => TrialRuntime> {
  if (kind === 'local') {
    const env = o.pushEndpoint ? { env: { SIBYL_PUSH_ENDPOINT: o.pushEndpoint } } : {};
    return (listener) => new LocalRuntime({ dataDir: o.dataDir, listener, ...env, ...(o.pushToken ? { pushToken: o.pushToken } : {}) });
  }
  // Loaded only when used: the Kubernetes client is large.
  const [{ KubeConfig }, { KubernetesRuntime }] = await Promise.all([import('@kubernetes/client-node'), import('./kubernetes/index.js')]);
  const kubeConfig = new KubeConfig();
  if (o.kubeconfig) kubeConfig.loadFromFile(o.kubeconfig);
  else kubeConfig.loadFromDefault();
  return (listener) => new KubernetesRuntime({
    kubeConfig,
    listener,
    // The same place as local trials' logs, so the dashboard shows both.
    logDir: join(o.dataDir, 'logs'),
    ...(o.onShutdown ? { onShutdown: o.onShutdown } : {}),
    ...(o.pushEndpoint ? { pushEndpoint: o.pushEndpoint } : {}),
    ...(o.pushToken ? { pushToken: o.pushToken } : {}),
    ...(o.pendingTimeoutMs !== undefined ? { pendingTimeoutMs: o.pendingTimeoutMs } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
}

/** What a runtime needs beyond a valid spec; throws SpecError. */
export function validateForRuntime(kind: LaunchingRuntime, spec: StudySpec): void {
  if (kind === 'local') validateForLocal(spec);
  else validateForKubernetes(spec);
}
