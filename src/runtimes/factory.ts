// Building the runtime a process launches trials with, and checking a spec against it.
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
  readonly log?: (message: string) => void;
}

/** The runtime's constructor, ready for the scheduler's listener. */
export async function runtimeFactory(kind: LaunchingRuntime, o: RuntimeOptions): Promise<(listener: RuntimeListener) => TrialRuntime> {
  if (kind === 'local') return (listener) => new LocalRuntime({ dataDir: o.dataDir, listener });
  // Loaded only when used: the Kubernetes client is large.
  const [{ KubeConfig }, { KubernetesRuntime }] = await Promise.all([import('@kubernetes/client-node'), import('./kubernetes/index.js')]);
  const kubeConfig = new KubeConfig();
  if (o.kubeconfig) kubeConfig.loadFromFile(o.kubeconfig);
  else kubeConfig.loadFromDefault();
  return (listener) => new KubernetesRuntime({
    kubeConfig,
    listener,
    ...(o.onShutdown ? { onShutdown: o.onShutdown } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
}

/** What a runtime needs beyond a valid spec; throws SpecError. */
export function validateForRuntime(kind: LaunchingRuntime, spec: StudySpec): void {
  if (kind === 'local') validateForLocal(spec);
  else validateForKubernetes(spec);
}
