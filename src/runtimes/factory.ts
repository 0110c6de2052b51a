// Building the runtime a process launches trials with, and checking a spec against it.
import { join } from 'node:path';
import { LocalRuntime } from './local/index.js';
import { checkLocalCommand, validateForLocal } from './local/argv.js';
import { validateForKubernetes } from './kubernetes/validate.js';
import type { CheckpointVolume } from './kubernetes/checkpoint-volume.js';
import type { RuntimeListener, TrialRuntime } from './types.js';
import type { StudySpec } from '../spec/types.js';
import type { TrialTemplateSource } from '../spec/template-source.js';

export type LaunchingRuntime = 'local' | 'kubernetes';

export interface RuntimeOptions {
  readonly dataDir: string;
  /** Local: the tag of trial processes, when not the data directory (LocalRuntimeOptions.owner). */
  readonly owner?: string;
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
  /** Kubernetes: where trials keep checkpoint folders (pbt). */
  readonly checkpointVolume?: CheckpointVolume;
  readonly log?: (message: string) => void;
}

/** The runtime's constructor, ready for the scheduler's listener. */
export async function runtimeFactory(kind: LaunchingRuntime, o: RuntimeOptions): Promise<(listener: RuntimeListener) => TrialRuntime> {
  if (kind === 'local') {
    const env = o.pushEndpoint ? { env: { SIBYL_PUSH_ENDPOINT: o.pushEndpoint } } : {};
    return (listener) => new LocalRuntime({ dataDir: o.dataDir, listener, ...env, ...(o.owner ? { owner: o.owner } : {}), ...(o.pushToken ? { pushToken: o.pushToken } : {}) });
  }
  const [kubeConfig, { KubernetesRuntime }] = await Promise.all([loadKubeConfig(o.kubeconfig), import('./kubernetes/index.js')]);
  return (listener) => new KubernetesRuntime({
    kubeConfig,
    listener,
    // The same place as local trials' logs, so the dashboard shows both.
    logDir: join(o.dataDir, 'logs'),
    ...(o.onShutdown ? { onShutdown: o.onShutdown } : {}),
    ...(o.pushEndpoint ? { pushEndpoint: o.pushEndpoint } : {}),
    ...(o.pushToken ? { pushToken: o.pushToken } : {}),
    ...(o.pendingTimeoutMs !== undefined ? { pendingTimeoutMs: o.pendingTimeoutMs } : {}),
    ...(o.checkpointVolume ? { checkpointVolume: o.checkpointVolume } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
}

/** Where a server reads `trialTemplate.configMap` templates: the cluster on the kubernetes runtime, nowhere on the local one. */
export async function trialTemplateSource(kind: LaunchingRuntime, kubeconfig?: string): Promise<TrialTemplateSource | undefined> {
  if (kind === 'local') return undefined;
  const [kubeConfig, { ClusterTrialTemplates }] = await Promise.all([loadKubeConfig(kubeconfig), import('./kubernetes/trial-templates.js')]);
  return new ClusterTrialTemplates(kubeConfig);
}

/**
 * What a new study is checked against where its trials will run, beyond its spec (throws
 * SpecError): on the local runtime, that its program is there; on kubernetes, that the API server
 * takes its first trial's object (a dry run, kubernetes/dry-run.ts).
 */
export type LaunchCheck = (spec: StudySpec, baseDir: string) => Promise<void>;

export async function launchCheck(kind: LaunchingRuntime, o: RuntimeOptions): Promise<LaunchCheck> {
  if (kind === 'local') return (spec, baseDir) => checkLocalCommand(spec, baseDir);
  const [kubeConfig, { TrialDryRun }] = await Promise.all([loadKubeConfig(o.kubeconfig), import('./kubernetes/dry-run.js')]);
  const dryRun = new TrialDryRun(kubeConfig, {
    ...(o.pushEndpoint ? { pushEndpoint: o.pushEndpoint } : {}),
    ...(o.pushToken ? { pushToken: o.pushToken } : {}),
    ...(o.checkpointVolume ? { checkpointVolume: o.checkpointVolume } : {}),
    ...(o.log ? { log: o.log } : {}),
  });
  return (spec, baseDir) => dryRun.check(spec, baseDir);
}

// Loaded only when used: the Kubernetes client is large.
async function loadKubeConfig(file: string | undefined) {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kubeConfig = new KubeConfig();
  if (file) kubeConfig.loadFromFile(file);
  else kubeConfig.loadFromDefault();
  return kubeConfig;
}

/** What a runtime needs beyond a valid spec (on kubernetes: given the checkpoint volume it has, if any); throws SpecError. */
export function validateForRuntime(kind: LaunchingRuntime, spec: StudySpec, checkpointVolume?: CheckpointVolume): void {
  if (kind === 'local') validateForLocal(spec);
  else validateForKubernetes(spec, checkpointVolume ? { checkpointVolume } : {});
}
