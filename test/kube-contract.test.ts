// Contract tier: the real @kubernetes/client-node against a real kube-apiserver 1.20.2 (built from
// Debian's source package and cached by scripts/kube-build.sh; the first run on a fresh machine
// builds it, ~10 minutes) with Sibyl's own TFJob CRD (deploy/crds/tfjob.yaml) installed.
// It pins down the API shapes the Kubernetes runtime and the in-process fake API server rely on.
import {
  ApiextensionsV1Api,
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  loadYaml,
  PatchStrategy,
  setHeaderOptions,
  Watch,
  type V1CustomResourceDefinition,
} from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { kubectl, repoPath, startKubeApiServer, type KubeApiServer } from './support/kube-apiserver.js';
import { until } from './support/wait.js';

const NS = 'trials';
const G = { group: 'kubeflow.org', version: 'v1', namespace: NS, plural: 'tfjobs' } as const;
const mergePatch = setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

function tfjob(name: string, trial: string, extra: Record<string, unknown> = {}): any {
  return {
    apiVersion: 'kubeflow.org/v1',
    kind: 'TFJob',
    metadata: { name, namespace: NS, labels: { 'sibyl.dev/trial': trial, 'sibyl.dev/study': 'contract' } },
    spec: {
      runPolicy: { cleanPodPolicy: 'None' },
      tfReplicaSpecs: {
        Worker: {
          replicas: 1,
          restartPolicy: 'Never',
          template: {
            metadata: { annotations: { 'sidecar.istio.io/inject': 'false' } },
            spec: { containers: [{ name: 'tensorflow', image: 'example.invalid/mnist:1', command: ['python', 'train.py', '--lr=0.01'] }] },
          },
        },
      },
    },
    ...extra,
  };
}

/** The HTTP status and the v1.Status body of a failed client call. */
async function failure(p: Promise<unknown>): Promise<{ code: number; status: any }> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ApiException, `expected ApiException, got ${String(e)}`);
    let status: any;
    try {
      status = typeof e.body === 'string' ? JSON.parse(e.body) : e.body;
    } catch {
      status = e.body;
    }
    return { code: e.code, status };
  }
  assert.fail('the call should have failed');
}

const now = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const cond = (type: string, status: 'True' | 'False', reason: string, message: string) =>
  ({ type, status, reason, message, lastUpdateTime: now(), lastTransitionTime: now() });

test('kube contract: TFJob CRD + client-node against a real kube-apiserver 1.20.2', {
  // The first run on a fresh machine builds kube-apiserver (~10 min on 2 cores).
  timeout: 30 * 60_000,
}, async (t) => {
  const started = Date.now();
  const srv: KubeApiServer = await startKubeApiServer();
  t.diagnostic(`kube-apiserver ready at ${srv.server} after ${Date.now() - started} ms`);
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(srv.kubeconfigPath);
    const ext = kc.makeApiClient(ApiextensionsV1Api);
    const core = kc.makeApiClient(CoreV1Api);
    const co = kc.makeApiClient(CustomObjectsApi);

    await t.test('the server is 1.20.2 and kubectl talks to it', () => {
      const v = kubectl(srv, ['version', '-o', 'json']);
      assert.equal(v.status, 0, v.stderr);
      const parsed = JSON.parse(v.stdout);
      assert.equal(parsed.serverVersion.gitVersion, 'v1.20.2');
      assert.equal(parsed.clientVersion.gitVersion, 'v1.20.2');
    });

    await t.test('the TFJob CRD installs and becomes Established; the namespace is created', async () => {
      // Pitfall: typed APIs serialize the body through client-node's models, which drop keys whose
      // model name differs from the JSON name (`default` is `_default`, `x-kubernetes-preserve-unknown-fields`
      // is `x_kubernetes_preserve_unknown_fields`). A plain parsed-YAML CRD therefore loses its
      // defaults and preserve-unknown-fields; loadYaml() deserializes into the models first.
      const crd = loadYaml<V1CustomResourceDefinition>(readFileSync(repoPath('deploy', 'crds', 'tfjob.yaml'), 'utf8'));
      // Server-side dry run first: full admission and structural-schema checks, nothing stored.
      const dry = kubectl(srv, ['apply', '--dry-run=server', '-f', repoPath('deploy', 'crds', 'tfjob.yaml')]);
      assert.equal(dry.status, 0, dry.stderr);
      await ext.createCustomResourceDefinition({ body: crd });
      await until('CRD Established', 60_000, async () => {
        const got = await ext.readCustomResourceDefinition({ name: 'tfjobs.kubeflow.org' });
        return got.status?.conditions?.some((c) => c.type === 'Established' && c.status === 'True') ? true : undefined;
      });
      const stored = kubectl(srv, ['get', 'crd', 'tfjobs.kubeflow.org', '-o', 'json']);
      assert.equal(stored.status, 0, stored.stderr);
      const spec = JSON.parse(stored.stdout).spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
      assert.equal(spec.runPolicy.properties.suspend.default, false);
      assert.equal(spec.tfReplicaSpecs.additionalProperties.properties.template['x-kubernetes-preserve-unknown-fields'], true);
      await core.createNamespace({ body: { metadata: { name: NS } } });
      // The resource is served once discovery and the CR handler know it.
      await until('tfjobs served', 60_000, async () => (await co.listNamespacedCustomObject({ ...G })) as unknown);
      const cani = kubectl(srv, ['auth', 'can-i', 'create', 'tfjobs.kubeflow.org', '-n', NS]);
      assert.equal(cani.stdout.trim(), 'yes', cani.stderr);
    });

    await t.test('create, get; status on create is dropped; defaults applied; 409 AlreadyExists; 404 NotFound; 422 Invalid', async () => {
      const created = (await co.createNamespacedCustomObject({
        ...G,
        body: tfjob('mnist-t1', 't1', { status: { conditions: [cond('Succeeded', 'True', 'TFJobSucceeded', 'forged')] } }),
      })) as any;
      assert.equal(created.metadata.name, 'mnist-t1');
      assert.equal(created.metadata.generation, 1);
      assert.ok(created.metadata.uid);
      assert.match(created.metadata.resourceVersion, /^\d+$/);
      assert.equal(created.status, undefined, 'status sent on create is dropped (status subresource)');
      assert.equal(created.spec.runPolicy.suspend, false, 'CRD default applied');

      const got = (await co.getNamespacedCustomObject({ ...G, name: 'mnist-t1' })) as any;
      assert.equal(got.metadata.uid, created.metadata.uid);
      assert.equal(got.spec.tfReplicaSpecs.Worker.template.spec.containers[0].name, 'tensorflow');
      assert.deepEqual(got.spec.tfReplicaSpecs.Worker.template.metadata, { annotations: { 'sidecar.istio.io/inject': 'false' } },
        'the pod template is preserved as sent');

      const dup = await failure(co.createNamespacedCustomObject({ ...G, body: tfjob('mnist-t1', 't1') }));
      assert.equal(dup.code, 409);
      assert.equal(dup.status.kind, 'Status');
      assert.equal(dup.status.reason, 'AlreadyExists');
      assert.equal(dup.status.message, 'tfjobs.kubeflow.org "mnist-t1" already exists');

      const missing = await failure(co.getNamespacedCustomObject({ ...G, name: 'nope' }));
      assert.equal(missing.code, 404);
      assert.equal(missing.status.reason, 'NotFound');
      assert.equal(missing.status.message, 'tfjobs.kubeflow.org "nope" not found');
      assert.deepEqual(missing.status.details, { name: 'nope', group: 'kubeflow.org', kind: 'tfjobs' });

      const bad = tfjob('mnist-bad', 'bad');
      bad.spec.tfReplicaSpecs.Worker.replicas = 'one';
      const invalid = await failure(co.createNamespacedCustomObject({ ...G, body: bad }));
      assert.equal(invalid.code, 422);
      assert.equal(invalid.status.reason, 'Invalid');
      assert.ok(invalid.status.details.causes.some((c: any) => c.field === 'spec.tfReplicaSpecs.Worker.replicas'),
        JSON.stringify(invalid.status.details));
    });

    await t.test('list by label selector; watch from the list resourceVersion sees the operator\'s status patches and the delete', async () => {
      await co.createNamespacedCustomObject({ ...G, body: tfjob('mnist-t2', 't2') });
      const list = (await co.listNamespacedCustomObject({ ...G, labelSelector: 'sibyl.dev/trial=t1' })) as any;
      assert.equal(list.kind, 'TFJobList');
      assert.deepEqual(list.items.map((i: any) => i.metadata.name), ['mnist-t1']);
      const both = (await co.listNamespacedCustomObject({ ...G, labelSelector: 'sibyl.dev/study=contract,sibyl.dev/trial in (t1,t2)' })) as any;
      assert.deepEqual(both.items.map((i: any) => i.metadata.name).sort(), ['mnist-t1', 'mnist-t2']);
      const rv: string = list.metadata.resourceVersion;
      assert.match(rv, /^\d+$/);

      const events: { type: string; obj: any }[] = [];
      let watchEnded: unknown = 'open';
      const ctrl = await new Watch(kc).watch(`/apis/kubeflow.org/v1/namespaces/${NS}/tfjobs`,
        { resourceVersion: rv, allowWatchBookmarks: true, labelSelector: 'sibyl.dev/trial=t1' },
        (type, obj) => { events.push({ type, obj }); },
        (err) => { watchEnded = err; });
      try {
        // A test-side operator: Created -> Running -> Succeeded, each a merge patch of /status
        // (merge patch replaces the whole conditions array, so each patch sends the full list).
        const created = cond('Created', 'True', 'TFJobCreated', 'TFJob mnist-t1 is created.');
        const steps: any[] = [
          { conditions: [created] },
          {
            conditions: [created, cond('Running', 'True', 'TFJobRunning', `TFJob ${NS}/mnist-t1 is running.`)],
            startTime: now(),
            replicaStatuses: { Worker: { active: 1 } },
          },
          {
            conditions: [created, cond('Running', 'False', 'TFJobRunning', `TFJob ${NS}/mnist-t1 is running.`),
              cond('Succeeded', 'True', 'TFJobSucceeded', `TFJob ${NS}/mnist-t1 successfully completed.`)],
            completionTime: now(),
            replicaStatuses: { Worker: { active: 0, succeeded: 1 } },
          },
        ];
        let lastRv = rv;
        for (const status of steps) {
          const patched = (await co.patchNamespacedCustomObjectStatus({ ...G, name: 'mnist-t1', body: { status } }, mergePatch)) as any;
          assert.equal(patched.status.conditions.length, status.conditions.length);
          assert.equal(patched.metadata.generation, 1, 'a status-only patch does not bump generation');
          assert.ok(BigInt(patched.metadata.resourceVersion) > BigInt(lastRv));
          lastRv = patched.metadata.resourceVersion;
        }
        // The main resource ignores .status.
        const specPatch = (await co.patchNamespacedCustomObject({
          ...G, name: 'mnist-t1', body: { metadata: { annotations: { 'sibyl.dev/seen': 'yes' } }, status: { conditions: [] } },
        }, mergePatch)) as any;
        assert.equal(specPatch.status.conditions.length, 3);

        const status = (await co.getNamespacedCustomObjectStatus({ ...G, name: 'mnist-t1' })) as any;
        const last = status.status.conditions.at(-1);
        assert.deepEqual([last.type, last.status, last.reason], ['Succeeded', 'True', 'TFJobSucceeded']);
        assert.deepEqual(status.status.conditions.map((c: any) => `${c.type}=${c.status}`), ['Created=True', 'Running=False', 'Succeeded=True']);
        assert.deepEqual(status.status.replicaStatuses, { Worker: { active: 0, succeeded: 1 } });

        // Strategic merge patch is not supported on custom resources.
        const smp = await failure(co.patchNamespacedCustomObject({ ...G, name: 'mnist-t1', body: { metadata: { labels: { a: 'b' } } } },
          setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch)));
        assert.equal(smp.code, 415);

        const del = (await co.deleteNamespacedCustomObject({ ...G, name: 'mnist-t1', propagationPolicy: 'Background' })) as any;
        assert.equal(del.kind, 'Status');
        assert.equal(del.status, 'Success');
        assert.equal(del.details.name, 'mnist-t1');

        await until('watch sees the DELETED event', 30_000, async () => (events.some((e) => e.type === 'DELETED') ? true : undefined));
        const seen = events.filter((e) => e.type !== 'BOOKMARK');
        assert.deepEqual(seen.map((e) => e.type), ['MODIFIED', 'MODIFIED', 'MODIFIED', 'MODIFIED', 'DELETED'],
          JSON.stringify(seen.map((e) => e.type)));
        assert.ok(seen.every((e) => e.obj.metadata.name === 'mnist-t1'), 'the label selector filters the watch');
        assert.deepEqual(seen.slice(0, 3).map((e) => e.obj.status.conditions.at(-1).type), ['Created', 'Running', 'Succeeded']);
        assert.equal(seen[3]!.obj.metadata.annotations['sibyl.dev/seen'], 'yes');
        assert.equal(watchEnded, 'open', 'the watch stays open');

        const gone = await failure(co.getNamespacedCustomObject({ ...G, name: 'mnist-t1' }));
        assert.equal(gone.code, 404);
        const delMissing = await failure(co.deleteNamespacedCustomObject({ ...G, name: 'mnist-t1' }));
        assert.equal(delMissing.code, 404);
      } finally {
        ctrl.abort();
      }
      await co.deleteNamespacedCustomObject({ ...G, name: 'mnist-t2' });
      const rest = (await co.listNamespacedCustomObject({ ...G })) as any;
      assert.deepEqual(rest.items, []);
    });

    await t.test('a watch from a compacted/too old resourceVersion ends with an ERROR 410 Expired event', async () => {
      const events: { type: string; obj: any }[] = [];
      let ended = false;
      const ctrl = await new Watch(kc).watch(`/apis/kubeflow.org/v1/namespaces/${NS}/tfjobs`, { resourceVersion: '1' },
        (type, obj) => { events.push({ type, obj }); }, () => { ended = true; });
      try {
        await until('ERROR event', 30_000, async () => (events.some((e) => e.type === 'ERROR') ? true : undefined));
        const err = events.find((e) => e.type === 'ERROR')!;
        assert.equal(err.obj.kind, 'Status');
        assert.equal(err.obj.code, 410);
        assert.equal(err.obj.reason, 'Expired');
        await until('watch closed after the 410', 30_000, async () => (ended ? true : undefined));
      } finally {
        ctrl.abort();
      }
    });
  } finally {
    await srv.stop();
  }
  t.diagnostic(`total ${Date.now() - started} ms`);
});
