// `kubectl kustomize` of a folder, parsed: renders the manifests as `kubectl apply -k` would,
// without a cluster. It uses the kubectl 1.20.2 of the cluster tiers (fetched alone by
// scripts/kube-build.sh when it is not cached yet), whose kustomize v2.0.3 is the oldest the
// manifests must work with.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { kubeCacheDir, runScript } from './kube-apiserver.js';

export interface KubeObject {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: { readonly name: string; readonly namespace?: string };
  readonly [field: string]: any;
}

async function kubectlBinary(): Promise<string> {
  const kubectl = join(kubeCacheDir(), 'kubectl');
  if (!existsSync(kubectl)) await runScript('kube-build.sh', { SIBYL_KUBE_CACHE: kubeCacheDir(), SIBYL_KUBECTL_ONLY: '1' });
  if (!existsSync(kubectl)) throw new Error(`${kubectl} missing after scripts/kube-build.sh`);
  return kubectl;
}

export async function kustomize(dir: string): Promise<KubeObject[]> {
  const r = spawnSync(await kubectlBinary(), ['kustomize', dir], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`kubectl kustomize ${dir} failed (${r.status}): ${r.stderr}${r.error ? String(r.error) : ''}`);
  return parseAllDocuments(r.stdout).map((d) => d.toJS() as KubeObject);
}

/** The one object of a kind (and name) in a rendering; throws naming what is missing. */
export function only(objects: readonly KubeObject[], kind: string, name?: string): KubeObject {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (found.length !== 1) throw new Error(`${found.length} objects of kind ${kind}${name ? ` named ${name}` : ''} (expected one)`);
  return found[0]!;
}
