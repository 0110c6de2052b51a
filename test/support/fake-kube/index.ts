// The fake API server and a KubeConfig that points at it (plain HTTP, so skipTLSVerify, and a
// bearer token as a real kubeconfig would carry).
import { KubeConfig } from '@kubernetes/client-node';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FakeKube, type FakeKubeOptions } from './server.js';

export { FakeKube, type FakeKubeOptions, type FaultRule, type Obj } from './server.js';

export async function startFakeKube(options: FakeKubeOptions = {}): Promise<{ kube: FakeKube; kubeConfig: KubeConfig }> {
  const kube = new FakeKube(options);
  const url = await kube.start();
  return { kube, kubeConfig: kubeConfigFor(url) };
}

/** startFakeKube, with its kubeconfig also written to `dir` (for a server started with a kubeconfig path). */
export async function startFakeKubeWithFile(dir: string, options: FakeKubeOptions = {}): Promise<{ kube: FakeKube; kubeConfig: KubeConfig; kubeconfig: string }> {
  const fake = await startFakeKube(options);
  const kubeconfig = join(dir, 'kubeconfig');
  writeFileSync(kubeconfig, fake.kubeConfig.exportConfig());
  return { ...fake, kubeconfig };
}

export function kubeConfigFor(server: string, namespace = 'default'): KubeConfig {
  const kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'fake', server, skipTLSVerify: true }],
    users: [{ name: 'tester', token: 'fake-token' }],
    contexts: [{ name: 'fake', cluster: 'fake', user: 'tester', namespace }],
    currentContext: 'fake',
  });
  return kc;
}
