// deploy/overlays/postgres/ rendered by kubectl 1.20's kustomize (no cluster): several replicas on
// a PostgreSQL store, and nothing else changed from the SQLite configuration of deploy/. Applied
// for real, with a real PostgreSQL, by test/kube-postgres.test.ts.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { repoPath } from './support/kube-apiserver.js';
import { kustomize, only, type KubeObject } from './support/kustomize.js';

const [postgres, sqlite] = await Promise.all([kustomize(repoPath('deploy', 'overlays', 'postgres')), kustomize(repoPath('deploy'))]);
const deploymentOf = (objects: readonly KubeObject[]) => only(objects, 'Deployment', 'sibyl');
const sibylContainer = (d: KubeObject) => d.spec.template.spec.containers.find((c: any) => c.name === 'sibyl');
const envOf = (d: KubeObject) => new Map<string, any>(sibylContainer(d).env.map((e: any) => [e.name, e]));

test('the PostgreSQL overlay: at least 2 replicas, RollingUpdate that never goes below them, no claim, the data directory on an emptyDir', () => {
  const d = deploymentOf(postgres);
  assert.ok(d.spec.replicas >= 2, `replicas: ${d.spec.replicas}`);
  assert.deepEqual(d.spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  assert.deepEqual(postgres.filter((o) => o.kind === 'PersistentVolumeClaim'), [], 'no claim');
  const volumes = d.spec.template.spec.volumes as any[];
  assert.deepEqual(volumes.filter((v) => v.persistentVolumeClaim), [], 'no volume from a claim');
  const dataDir = envOf(d).get('SIBYL_DATA_DIR').value;
  const mount = sibylContainer(d).volumeMounts.find((m: any) => m.mountPath === dataDir);
  assert.ok(mount, `a volume at SIBYL_DATA_DIR ${dataDir}`);
  assert.deepEqual(volumes.find((v) => v.name === mount.name), { name: mount.name, emptyDir: { sizeLimit: '1Gi' } });
  // fsGroup makes an emptyDir writable: the base's root chown container is gone.
  assert.deepEqual(d.spec.template.spec.initContainers ?? [], []);
  assert.equal(d.spec.template.spec.securityContext.fsGroup, 1000);
});

test('the PostgreSQL overlay: the store URL from Secret sibyl-store, leader election on the Lease the Role grants, readiness on /readyz (which a follower passes)', () => {
  const d = deploymentOf(postgres);
  const env = envOf(d);
  assert.deepEqual(env.get('SIBYL_STORE'), { name: 'SIBYL_STORE', valueFrom: { secretKeyRef: { name: 'sibyl-store', key: 'url' } } });
  assert.ok(sibylContainer(d).args.includes('--leader-elect'));
  assert.equal(env.get('SIBYL_LEADER_ELECTION').value, 'true');
  const lease = env.get('SIBYL_LEASE_NAME').value;
  const rules = only(postgres, 'Role', 'sibyl').rules as any[];
  const leaseRules = rules.filter((r) => r.apiGroups.includes('coordination.k8s.io') && r.resources.includes('leases'));
  assert.ok(leaseRules.some((r) => r.resourceNames?.includes(lease) && r.verbs.includes('get') && r.verbs.includes('update')), `get and update on Lease ${lease}`);
  assert.ok(leaseRules.some((r) => !r.resourceNames && r.verbs.includes('create')), 'create (cannot be limited by name)');
  assert.equal(only(postgres, 'RoleBinding', 'sibyl').subjects[0].name, d.spec.template.spec.serviceAccountName);
  assert.equal(sibylContainer(d).readinessProbe.httpGet.path, '/readyz');
});

test('nothing else differs from the SQLite configuration of deploy/, which stays one replica on its claim with Recreate', () => {
  const lite = deploymentOf(sqlite);
  assert.equal(lite.spec.replicas, 1);
  assert.deepEqual(lite.spec.strategy, { type: 'Recreate' });
  assert.equal(only(sqlite, 'PersistentVolumeClaim', 'sibyl-data').spec.accessModes[0], 'ReadWriteOnce');
  assert.equal(lite.spec.template.spec.volumes.find((v: any) => v.name === 'data').persistentVolumeClaim.claimName, 'sibyl-data');
  // The SQLite Deployment with exactly the overlay's changes is the overlay's Deployment.
  const expected = structuredClone(lite);
  expected.spec.replicas = 2;
  expected.spec.strategy = { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } };
  const pod = expected.spec.template.spec;
  pod.affinity = deploymentOf(postgres).spec.template.spec.affinity;
  pod.initContainers = [];
  sibylContainer(expected).env.unshift({ name: 'SIBYL_STORE', valueFrom: { secretKeyRef: { name: 'sibyl-store', key: 'url' } } });
  pod.volumes = pod.volumes.map((v: any) => (v.name === 'data' ? { name: 'data', emptyDir: { sizeLimit: '1Gi' } } : v));
  assert.deepEqual(deploymentOf(postgres), expected);
  // Spread over nodes where there are several; never a reason not to schedule.
  assert.ok(pod.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution);
  assert.equal(pod.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution, undefined);
  // Every other object is the same in both.
  const rest = (objects: readonly KubeObject[]) => objects.filter((o) => o.kind !== 'Deployment' && o.kind !== 'PersistentVolumeClaim');
  assert.deepEqual(rest(postgres), rest(sqlite));
});
