// Contract tier for Sibyl inside a cluster, against a real kube-apiserver 1.20.2 (cached by
// scripts/kube-build.sh, see test/support/kube-apiserver.ts; RBAC authorization is on):
// - every manifest in deploy/ passes `kubectl apply --dry-run=server`;
// - the Role, applied for real, allows what Sibyl calls and denies the rest (`kubectl auth can-i
//   --as=system:serviceaccount:sibyl:sibyl`);
// - leader election on a coordination.k8s.io Lease: in-process electors (one holder, a race on
//   create, takeover of an expired Lease), then two `startServer` instances running as the
//   service account (a token from the TokenRequest API) with one study each: only the leader
//   creates TFJobs, and after it stops the other takes over, re-adopts and launches.
import { AuthorizationV1Api, CoordinationV1Api, CoreV1Api, CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions, Watch } from '@kubernetes/client-node';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { startServer, type RunningServer } from '../src/server/app.js';
import { LeaderElector } from '../src/server/leader.js';
import { kubectl, repoPath, startKubeApiServer, type KubeApiServer } from './support/kube-apiserver.js';
import { until } from './support/wait.js';

const NS = 'sibyl';
const SA = `system:serviceaccount:${NS}:sibyl`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function ok(r: { status: number; stdout: string; stderr: string }, what: string): string {
  assert.equal(r.status, 0, `${what}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

const study = (name: string) => `
apiVersion: kubeflow.org/v1beta1
kind: Experiment
metadata:
  name: ${name}
  namespace: ${NS}
spec:
  objective:
    type: maximize
    objectiveMetricName: accuracy
  algorithm:
    algorithmName: grid
  parallelTrialCount: 2
  maxTrialCount: 6
  maxFailedTrialCount: 3
  parameters:
    - name: learning_rate
      parameterType: discrete
      feasibleSpace:
        list: ["0.003", "0.03", "0.3"]
    - name: hidden_layers
      parameterType: int
      feasibleSpace: {min: "1", max: "2"}
  trialTemplate:
    primaryContainerName: tensorflow
    trialParameters:
      - {name: learningRate, reference: learning_rate}
      - {name: hiddenLayers, reference: hidden_layers}
    trialSpec:
      apiVersion: kubeflow.org/v1
      kind: TFJob
      spec:
        tfReplicaSpecs:
          Worker:
            replicas: 1
            restartPolicy: Never
            template:
              spec:
                containers:
                  - name: tensorflow
                    image: sibyl/mlp-example:latest
                    command: [node, train.mjs]
                    args: [--learning-rate, "\${trialParameters.learningRate}", --hidden-layers, "\${trialParameters.hiddenLayers}"]
`;

test('kube deploy: manifests, RBAC and leader election on a real kube-apiserver 1.20.2', {
  // The first run on a fresh machine builds kube-apiserver (~10 min on 2 cores).
  timeout: 30 * 60_000,
}, async (t) => {
  const started = Date.now();
  const srv: KubeApiServer = await startKubeApiServer();
  t.diagnostic(`kube-apiserver ready at ${srv.server} after ${Date.now() - started} ms`);
  const tmp = mkdtempSync(join(tmpdir(), 'sibyl-kube-deploy-'));
  try {
    const kc = new KubeConfig();
    kc.loadFromFile(srv.kubeconfigPath);
    const core = kc.makeApiClient(CoreV1Api);

    await t.test('every manifest in deploy/ passes a server-side dry run', () => {
      // Namespaced objects are dry-run into an existing namespace: dry-run the Namespace, then create it.
      ok(kubectl(srv, ['apply', '--dry-run=server', '-f', repoPath('deploy', 'base', 'namespace.yaml')]), 'namespace dry run');
      ok(kubectl(srv, ['apply', '-f', repoPath('deploy', 'base', 'namespace.yaml')]), 'namespace');
      const out = ok(kubectl(srv, ['apply', '--dry-run=server', '-k', repoPath('deploy')]), 'kustomization dry run');
      for (const obj of [
        'namespace/sibyl', 'serviceaccount/sibyl', 'role.rbac.authorization.k8s.io/sibyl', 'rolebinding.rbac.authorization.k8s.io/sibyl',
        'persistentvolumeclaim/sibyl-data', 'deployment.apps/sibyl', 'service/sibyl',
      ]) assert.match(out, new RegExp(`^${obj.replace(/\./g, '\\.')} .*\\(server dry run\\)$`, 'm'), `${obj} in:\n${out}`);
      // The CRD kustomization (applied separately, for clusters without the training operator).
      const crd = ok(kubectl(srv, ['apply', '--dry-run=server', '-k', repoPath('deploy', 'crds')]), 'crds dry run');
      assert.match(crd, /customresourcedefinition\.apiextensions\.k8s\.io\/tfjobs\.kubeflow\.org .*\(server dry run\)/);
      // The server defaulted and validated the Deployment: probes, security context, the PVC mount.
      const dep = JSON.parse(ok(kubectl(srv, ['apply', '--dry-run=server', '-o', 'json', '-f', repoPath('deploy', 'base', 'deployment.yaml')]), 'deployment'));
      const c = dep.spec.template.spec.containers[0];
      assert.deepEqual(c.args, ['serve', '--runtime', 'kubernetes', '--host', '0.0.0.0', '--leader-elect']);
      assert.equal(c.readinessProbe.httpGet.path, '/readyz');
      assert.equal(c.livenessProbe.httpGet.path, '/healthz');
      assert.equal(c.securityContext.readOnlyRootFilesystem, true);
      assert.equal(dep.spec.template.spec.securityContext.runAsNonRoot, true);
      assert.equal(c.env.find((e: any) => e.name === 'SIBYL_TOKEN').valueFrom.secretKeyRef.name, 'sibyl-token');
      assert.equal(c.volumeMounts.find((m: any) => m.name === 'data').mountPath, c.env.find((e: any) => e.name === 'SIBYL_DATA_DIR').value);
    });

    await t.test('the Role, applied for real, allows what Sibyl calls and denies the rest', async () => {
      ok(kubectl(srv, ['apply', '-k', repoPath('deploy')]), 'apply -k deploy');
      // kubectl resolves `tfjobs.kubeflow.org` through discovery: install the TFJob CRD first.
      ok(kubectl(srv, ['apply', '-k', repoPath('deploy', 'crds')]), 'TFJob CRD');
      ok(kubectl(srv, ['wait', '--for=condition=Established', '--timeout=60s', 'crd/tfjobs.kubeflow.org']), 'CRD established');
      await until('tfjobs discoverable', 30_000, () => kubectl(srv, ['api-resources', '--api-group=kubeflow.org', '-o', 'name']).stdout.includes('tfjobs.kubeflow.org') || undefined);
      const expectations: [string[], 'yes' | 'no'][] = [
        [['create', 'tfjobs.kubeflow.org'], 'yes'],
        [['watch', 'tfjobs.kubeflow.org'], 'yes'],
        [['create', 'jobs.batch'], 'yes'],
        [['list', 'pods'], 'yes'],
        [['get', 'pods/log'], 'yes'],
        [['create', 'events'], 'yes'],
        [['get', 'configmaps'], 'yes'],
        [['list', 'configmaps'], 'no'],
        [['update', 'configmaps'], 'no'],
        [['create', 'leases.coordination.k8s.io'], 'yes'],
        [['update', 'leases.coordination.k8s.io/sibyl-leader'], 'yes'],
        [['update', 'leases.coordination.k8s.io/someone-else'], 'no'],
        [['patch', 'tfjobs.kubeflow.org'], 'no'],
        [['delete', 'pods'], 'no'],
        [['get', 'secrets'], 'no'],
        [['delete', 'secrets'], 'no'],
        [['create', 'deployments.apps'], 'no'],
        [['create', 'rolebindings.rbac.authorization.k8s.io'], 'no'],
      ];
      for (const [args, want] of expectations) {
        const r = kubectl(srv, ['auth', 'can-i', ...args, '-n', NS, `--as=${SA}`]);
        assert.equal(r.stdout.trim(), want, `can-i ${args.join(' ')} -n ${NS}: ${r.stdout}${r.stderr}`);
      }
      // Namespaced only: nothing in other namespaces, nothing cluster-scoped.
      for (const args of [['create', 'tfjobs.kubeflow.org', '-n', 'default'], ['list', 'nodes'], ['list', 'namespaces']]) {
        const r = kubectl(srv, ['auth', 'can-i', ...args, `--as=${SA}`]);
        assert.equal(r.stdout.trim(), 'no', `can-i ${args.join(' ')}: ${r.stdout}${r.stderr}`);
      }
      // The other trial kinds have no CRD here (kubectl can-i needs discovery): ask the authorizer directly.
      const authz = kc.makeApiClient(AuthorizationV1Api);
      const allowed = async (verb: string, resource: string, group = 'kubeflow.org', subresource?: string) => (await authz.createSubjectAccessReview({ body: {
        spec: { user: SA, groups: ['system:serviceaccounts', `system:serviceaccounts:${NS}`], resourceAttributes: { namespace: NS, verb, group, resource, ...(subresource ? { subresource } : {}) } },
      } })).status?.allowed === true;
      for (const kind of ['pytorchjobs', 'mpijobs', 'xgboostjobs']) {
        for (const verb of ['create', 'get', 'list', 'watch', 'delete']) assert.equal(await allowed(verb, kind), true, `${verb} ${kind}`);
        assert.equal(await allowed('update', kind), false, `update ${kind}`);
      }
      assert.equal(await allowed('create', 'paddlejobs'), false, 'create paddlejobs');
      // The other trial kinds of Katib's examples: TrainJob, Argo Workflow, Tekton PipelineRun.
      for (const [group, kind] of [['trainer.kubeflow.org', 'trainjobs'], ['argoproj.io', 'workflows'], ['tekton.dev', 'pipelineruns']] as const) {
        for (const verb of ['create', 'get', 'list', 'watch', 'delete']) assert.equal(await allowed(verb, kind, group), true, `${verb} ${kind}.${group}`);
        assert.equal(await allowed('patch', kind, group), false, `patch ${kind}.${group}`);
      }
      // Experiments (the controller, either group): read, watch, patch the object (the finalizer) and its status; never create, update or delete them.
      for (const group of ['kubeflow.org', 'sibyl.dev']) {
        for (const verb of ['get', 'list', 'watch', 'patch']) assert.equal(await allowed(verb, 'experiments', group), true, `${verb} experiments.${group}`);
        for (const verb of ['create', 'update', 'delete']) assert.equal(await allowed(verb, 'experiments', group), false, `${verb} experiments.${group}`);
        assert.equal(await allowed('patch', 'experiments', group, 'status'), true, `patch experiments/status.${group}`);
        assert.equal(await allowed('update', 'experiments', group, 'status'), false, `update experiments/status.${group}`);
      }
      assert.equal(await allowed('patch', 'trials', 'kubeflow.org'), false, 'patch trials.kubeflow.org (Katib\'s)');
      for (const verb of ['create', 'get', 'list', 'delete']) assert.equal(await allowed(verb, 'trials', 'sibyl.dev'), true, `${verb} trials.sibyl.dev`);
      assert.equal(await allowed('patch', 'trials', 'sibyl.dev', 'status'), true, 'patch trials.sibyl.dev/status');
      assert.equal(await allowed('update', 'trials', 'sibyl.dev'), false, 'update trials.sibyl.dev');
    });

    // A kubeconfig with a token of the service account, so the servers below run with the Role's rights only.
    const tokenRequest = await core.createNamespacedServiceAccountToken({ name: 'sibyl', namespace: NS, body: { spec: { audiences: [], expirationSeconds: 3600 } } });
    const saToken = tokenRequest.status?.token;
    assert.ok(saToken, 'TokenRequest returned a token');
    const saKubeconfig = join(tmp, 'sa.kubeconfig');
    writeFileSync(saKubeconfig, [
      'apiVersion: v1', 'kind: Config',
      'clusters:', '- name: t', '  cluster:', `    server: ${srv.server}`, '    insecure-skip-tls-verify: true',
      'users:', '- name: sibyl', '  user:', `    token: ${saToken}`,
      'contexts:', '- name: t', '  context:', '    cluster: t', '    user: sibyl', `    namespace: ${NS}`,
      'current-context: t', '',
    ].join('\n'), { mode: 0o600 });
    const saKc = new KubeConfig();
    saKc.loadFromFile(saKubeconfig);
    const leases = saKc.makeApiClient(CoordinationV1Api);

    await t.test('leader electors: two campaign at once and one holds the Lease; an expired Lease is taken over; a release frees it', async () => {
      const log: string[] = [];
      const events: string[] = [];
      // The Role allows get/update of sibyl-leader only: these electors use that Lease, then free it.
      // Short timings keep the test short, but a renewal must be able to take a loaded API server's
      // second or two (CI once saw a 1.5 s renew deadline missed on 2 busy cores).
      const LEASE_MS = 5000;
      const RETRY_MS = 500;
      const make = (identity: string) => new LeaderElector(saKc, {
        namespace: NS, leaseName: 'sibyl-leader', identity, leaseDurationSeconds: LEASE_MS / 1000, retryPeriodMs: RETRY_MS, renewDeadlineMs: 4000,
      }, {
        onStartedLeading: () => { events.push(`${identity} leads`); },
        onStoppedLeading: () => { events.push(`${identity} lost`); },
        log: (m) => log.push(m),
      });
      const a = make('elector-a');
      const b = make('elector-b');
      try {
        a.start();
        b.start(); // both find no Lease and create it at once: one gets 409
        const first = await until('a leader', 10_000, () => (a.isLeader() ? a : b.isLeader() ? b : undefined));
        const second = first === a ? b : a;
        await sleep(LEASE_MS + 500); // longer than the lease duration: the holder renews, the other never leads
        assert.equal(first.isLeader(), true);
        assert.equal(second.isLeader(), false);
        assert.deepEqual(events, [`${first.identity} leads`]);
        const held = await leases.readNamespacedLease({ name: 'sibyl-leader', namespace: NS });
        assert.equal(held.spec?.holderIdentity, first.identity);
        assert.match(String(held.spec?.renewTime instanceof Date ? held.spec.renewTime.toISOString() : held.spec?.renewTime), /\.\d{3,6}Z$/);
        // A crash: the holder stops renewing without releasing. The other takes over once the
        // record it last saw is a lease duration old: at least that less one retry period. At
        // most a few periods and request time limits later: on 2 busy cores one call may get no
        // answer within its 5 s limit and be made again (CI saw a 10 s bound missed once).
        const crashed = Date.now();
        await first.stop({ release: false });
        const latest = 4 * LEASE_MS;
        await until('takeover after expiry', latest, () => second.isLeader(), () => `elector log:\n${log.join('\n')}`);
        const took = Date.now() - crashed;
        assert.ok(took >= LEASE_MS - RETRY_MS - 100 && took < latest, `took over after ${took} ms (lease ${LEASE_MS} ms)`);
        const after = await leases.readNamespacedLease({ name: 'sibyl-leader', namespace: NS });
        assert.equal(after.spec?.holderIdentity, second.identity);
        assert.equal(after.spec?.leaseTransitions, 1);
        // A release frees the Lease at once.
        await second.stop();
        const released = await leases.readNamespacedLease({ name: 'sibyl-leader', namespace: NS });
        assert.equal(released.spec?.holderIdentity ?? '', '');
        t.diagnostic(`takeover after expiry: ${took} ms; ${log.length} log lines`);
      } catch (e) {
        t.diagnostic(`events: ${events.join(', ')}\nelector log:\n${log.join('\n')}`);
        throw e;
      } finally {
        // Whatever happened, the Lease is free for the servers of the next test.
        await a.stop();
        await b.stop();
      }
    });

    await t.test('two sibyl servers on one Lease: only the leader launches TFJobs; after it stops the other takes over', async () => {
      const co = kc.makeApiClient(CustomObjectsApi);
      const G = { group: 'kubeflow.org', version: 'v1', namespace: NS, plural: 'tfjobs' };
      await until('tfjobs served', 30_000, async () => await co.listNamespacedCustomObject({ ...G }) as unknown);

      // Count creates (ADDED events of new uids) of the study's TFJobs on the real API server.
      const added = new Map<string, { name: string; at: number }>();
      const list = await co.listNamespacedCustomObject({ ...G, labelSelector: 'sibyl.dev/study=lease-shared' }) as any;
      const watch = await new Watch(kc).watch(`/apis/kubeflow.org/v1/namespaces/${NS}/tfjobs`,
        { resourceVersion: list.metadata.resourceVersion, labelSelector: 'sibyl.dev/study=lease-shared' },
        (type, obj: any) => { if (type === 'ADDED' && !added.has(obj.metadata.uid)) added.set(obj.metadata.uid, { name: obj.metadata.name, at: Date.now() }); },
        () => {});

      const servers: RunningServer[] = [];
      const logs: Record<string, string[]> = { a: [], b: [] };
      const start = async (id: 'a' | 'b') => {
        const s = await startServer({
          dataDir: join(tmp, id), host: '127.0.0.1', grpcPort: 0, httpPort: 0, runtime: 'kubernetes', kubeconfig: saKubeconfig,
          leaderElection: { namespace: NS, leaseName: 'sibyl-leader', identity: `sibyl-${id}` }, // the defaults: 15 s lease, 2 s retry, 10 s renew deadline
          log: (m) => logs[id]!.push(m),
        });
        servers.push(s);
        // The same study in both stores (as a replica restarted on the same volume would have it).
        s.service.createStudy({ specText: study('lease-shared'), runtime: 'kubernetes' });
        return s;
      };
      try {
        const a = await start('a');
        await until('a leads', 10_000, () => a.isLeader());
        const b = await start('b');
        const ready = await fetch(`http://127.0.0.1:${b.httpPort}/readyz`);
        assert.equal(ready.status, 200, 'a follower is ready (it serves reads)');
        await until('two TFJobs created', 15_000, () => added.size === 2);
        await sleep(6000); // several retry periods of the follower
        assert.equal(a.isLeader(), true);
        assert.equal(b.isLeader(), false);
        assert.equal(added.size, 2, `creates: ${[...added.values()].map((v) => v.name).join(', ')}`);
        const trialsOf = async (s: RunningServer) => (await s.service.listTrials('lease-shared', {})).trials;
        assert.deepEqual((await trialsOf(a)).map((x) => x.state), ['RUNNING', 'RUNNING']);
        assert.deepEqual((await trialsOf(b)).map((x) => x.state), [], 'the follower reconciles nothing: it neither records nor launches trials');
        const lease = await leases.readNamespacedLease({ name: 'sibyl-leader', namespace: NS });
        assert.equal(lease.spec?.holderIdentity, 'sibyl-a');

        // The leader stops (SIGTERM): its TFJobs stay, the Lease is released, b takes over.
        const stopped = Date.now();
        await a.close();
        await until('b leads', 15_000, () => b.isLeader());
        const tookMs = Date.now() - stopped;
        t.diagnostic(`b took over ${tookMs} ms after a stopped`);
        // b's own store had no trials (a follower records nothing): as leader it proposes the same
        // two (the same names) and finds their TFJobs running: nothing is created twice.
        await until('b runs the two trials', 10_000, async () => {
          const trials = await trialsOf(b);
          return trials.length === 2 && trials.every((x) => x.state === 'RUNNING');
        });
        assert.equal(added.size, 2);

        // The test plays the operator: the first trial's TFJob fails. b records it and launches the next trial.
        const first = (await trialsOf(b))[0]!.name;
        const now = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
        await co.patchNamespacedCustomObjectStatus({ ...G, name: first, body: { status: {
          conditions: [{ type: 'Failed', status: 'True', reason: 'TFJobFailed', message: 'injected by the test', lastUpdateTime: now, lastTransitionTime: now }],
        } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
        await until('b launched the third trial', 15_000, () => added.size === 3);
        const third = [...added.values()][2]!;
        assert.ok(third.at > stopped, 'created after the old leader stopped');
        assert.equal((await trialsOf(b)).find((x) => x.name === first)?.state, 'FAILED');
        assert.equal((await trialsOf(b)).filter((x) => x.state === 'RUNNING').length, 2);
      } catch (e) {
        t.diagnostic(`server a log:\n${logs.a!.join('\n')}\nserver b log:\n${logs.b!.join('\n')}`);
        throw e;
      } finally {
        watch.abort();
        for (const s of servers) await s.close();
      }
    });
  } finally {
    await srv.stop();
    rmSync(tmp, { recursive: true, force: true });
  }
});
