// deploy/overlays/checkpoints/ rendered by kubectl 1.20's kustomize (no cluster): deploy/ plus a
// ReadWriteMany claim for pbt's trial checkpoints, mounted in Sibyl's pod and named to the server,
// and nothing else changed. Applied for real, with an Experiment, by test/kube-checkpoints.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repoPath } from './support/kube-apiserver.js';
import { kustomize, only, type KubeObject } from './support/kustomize.js';

const [checkpoints, sqlite] = await Promise.all([kustomize(repoPath('deploy', 'overlays', 'checkpoints')), kustomize(repoPath('deploy'))]);
const deploymentOf = (objects: readonly KubeObject[]) => only(objects, 'Deployment', 'sibyl');
const container = (d: KubeObject, name: string) => [...d.spec.template.spec.containers, ...(d.spec.template.spec.initContainers ?? [])].find((c: any) => c.name === name);

test('the checkpoints overlay: a ReadWriteMany claim in namespace sibyl, mounted where SIBYL_KUBE_CHECKPOINT_DIR says, named by SIBYL_KUBE_CHECKPOINT_CLAIM, given to uid 1000', () => {
  const claim = only(checkpoints, 'PersistentVolumeClaim', 'sibyl-checkpoints');
  assert.equal(claim.metadata.namespace, 'sibyl');
  assert.deepEqual(claim.spec.accessModes, ['ReadWriteMany']);
  const d = deploymentOf(checkpoints);
  const env = new Map<string, string>(container(d, 'sibyl').env.map((e: any) => [e.name, e.value]));
  assert.equal(env.get('SIBYL_KUBE_CHECKPOINT_CLAIM'), 'sibyl-checkpoints');
  const dir = env.get('SIBYL_KUBE_CHECKPOINT_DIR')!;
  const volume = d.spec.template.spec.volumes.find((v: any) => v.persistentVolumeClaim?.claimName === 'sibyl-checkpoints');
  assert.ok(volume, 'a volume of the claim');
  for (const name of ['sibyl', 'data-owner']) {
    assert.ok(container(d, name).volumeMounts.some((m: any) => m.name === volume.name && m.mountPath === dir), `${name} mounts it at ${dir}`);
  }
  assert.match(container(d, 'data-owner').command.join(' '), new RegExp(`for d in /var/lib/sibyl ${dir};.*chown 1000:1000`));
});

test('the checkpoints overlay: nothing else differs from deploy/', () => {
  const expected = structuredClone(deploymentOf(sqlite));
  const got = deploymentOf(checkpoints);
  const pod = expected.spec.template.spec;
  pod.volumes.unshift(got.spec.template.spec.volumes.find((v: any) => v.name === 'checkpoints'));
  const mount = { name: 'checkpoints', mountPath: '/var/lib/sibyl-checkpoints' };
  container(expected, 'sibyl').volumeMounts.unshift(mount);
  container(expected, 'sibyl').env.unshift(...container(got, 'sibyl').env.filter((e: any) => e.name.startsWith('SIBYL_KUBE_CHECKPOINT_')));
  const init = container(expected, 'data-owner');
  init.volumeMounts.unshift(mount);
  init.command = container(got, 'data-owner').command;
  assert.deepEqual(got, expected);
  const rest = (objects: readonly KubeObject[]) => objects.filter((o) => o.kind !== 'Deployment' && o.metadata.name !== 'sibyl-checkpoints');
  assert.deepEqual(rest(checkpoints), rest(sqlite));
});
