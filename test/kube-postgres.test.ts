// The cluster tier for the PostgreSQL configuration: deploy/overlays/postgres/ (through the test
// overlay test/fixtures/kube-postgres/: the local image, the token Secret) applied with its 2
// replicas to the real single-node Kubernetes of test/support/kube-cluster.ts, on a real
// PostgreSQL (test/support/postgres.ts) that runs on this machine and listens on the node's
// address, where pods on the docker bridge reach it with a password. Then a study of batch/v1
// Job trials, and the leader's pod deleted mid-study: the other replica takes the Lease and the
// study finishes with every trial once, none lost, none created twice (counted by a watch on
// the API server); and the leader's container SIGKILLed mid-study (no release of the Lease: a
// crash), where trials finish while no one leads and the next leader must collect their metrics
// from the finished pods' logs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { after, before, test } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { repoPath } from './support/kube-apiserver.js';
import { NODE_IP, startCluster, type KubeCluster } from './support/kube-cluster.js';
import { startPostgres, withClient, type PostgresServer } from './support/postgres.js';
import { kubectlOf, overlayToken, readySibylPods, recordCreates, sibylApi, jobStudy, type Kubectl, type SibylPod } from './support/sibyl-in-cluster.js';
import { until } from './support/wait.js';

const FIXTURE = repoPath('test', 'fixtures', 'kube-postgres');
const TOKEN = overlayToken(`${FIXTURE}/secret.yaml`);
const PASSWORD = randomBytes(12).toString('hex');
const DATABASE = 'sibyl_replicas';

let cluster: KubeCluster;
let kc: KubeConfig;
let postgres: PostgresServer;
/** The database as this machine reaches it (trust on the loopback). */
let hostUrl: string;

/** The docker bridge's network (pods' addresses), e.g. 172.17.0.0/16, from docker0's address. */
function podNetwork(): string {
  const out = spawnSync('ip', ['-4', '-o', 'addr', 'show', 'dev', 'docker0'], { encoding: 'utf8' }).stdout;
  const m = /inet (\d+)\.(\d+)\.(\d+)\.(\d+)\/(\d+)/.exec(out);
  if (!m) throw new Error(`docker0 has no IPv4 address (the pods' bridge): ${out}`);
  const [a, b, c, d, bits] = m.slice(1).map(Number) as [number, number, number, number, number];
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  const net = (((a << 24) | (b << 16) | (c << 8) | d) & mask) >>> 0;
  return `${[24, 16, 8, 0].map((s) => (net >>> s) & 255).join('.')}/${bits}`;
}

before(async () => {
  cluster = await startCluster();
  kc = new KubeConfig();
  kc.loadFromFile(cluster.kubeconfigPath);
  kubectl = kubectlOf(cluster);
  // After the cluster: the node's address (on lo) and docker0 exist only then.
  postgres = await startPostgres({ remote: { address: NODE_IP, network: podNetwork(), password: PASSWORD } });
  hostUrl = await postgres.createDatabase(DATABASE);
}, { timeout: 40 * 60_000 }); // a fresh machine: apt, a ~10 min build, the images

after(async () => {
  await cluster?.stop();
  await postgres?.stop();
});

let kubectl: Kubectl;
const json = (...args: string[]) => kubectl.json(...args);

interface Lease { holderIdentity?: string; acquireTime?: string; renewTime?: string; leaseDurationSeconds?: number }
const lease = (): Lease => json('-n', 'sibyl', 'get', 'lease', 'sibyl-leader').spec;
/** The pod a Lease holder identity names: `<pod name>_<random>` (src/server/leader.ts). */
const podOf = (holder: string | undefined) => (holder ? holder.slice(0, holder.lastIndexOf('_')) : undefined);

const readyPods = () => readySibylPods(kubectl);

/** What to look at when a wait fails: the pods, Sibyl's logs, the Lease, PostgreSQL's log. */
function diagnostics(): string {
  const pods = cluster.kubectl(['-n', 'sibyl', 'get', 'pods', '-o', 'wide']).stdout;
  const names = (cluster.kubectl(['-n', 'sibyl', 'get', 'pods', '-l', 'app.kubernetes.io/name=sibyl', '-o', 'name']).stdout).split('\n').filter(Boolean);
  const logs = names.map((n) => `--- ${n} ---\n${cluster.kubectl(['-n', 'sibyl', 'logs', '--tail=30', n, '-c', 'sibyl']).stdout}`).join('\n');
  const events = cluster.kubectl(['-n', 'sibyl', 'get', 'events', '--sort-by=.lastTimestamp']).stdout.split('\n').slice(-15).join('\n');
  const held = cluster.kubectl(['-n', 'sibyl', 'get', 'lease', 'sibyl-leader', '-o', 'jsonpath={.spec}']).stdout;
  return `${pods}\n${events}\nLease: ${held}\n${logs}\n--- postgres ---\n${postgres.log().slice(-1500)}`;
}

const api = sibylApi(TOKEN);

/** The leader's pod and the followers, once the Lease names one of the Ready pods. */
async function replicas(count: number): Promise<{ leader: SibylPod; followers: SibylPod[] }> {
  return until(`${count} Ready replicas, one of them holding the Lease`, 180_000, () => {
    const pods = readyPods();
    const holder = podOf(lease().holderIdentity);
    const leader = pods.find((p) => p.name === holder);
    return pods.length === count && leader ? { leader, followers: pods.filter((p) => p !== leader) } : undefined;
  }, diagnostics);
}

test('the PostgreSQL overlay, 2 replicas on a real PostgreSQL: no claim, both Ready, one holds the Lease, the follower serves the API from the shared store, the password only in the Secret', { timeout: 6 * 60_000 }, async (t) => {
  const started = Date.now();
  const since = () => `${((Date.now() - started) / 1000).toFixed(1)} s`;
  kubectl('apply', '-f', repoPath('deploy', 'base', 'namespace.yaml'));
  const podUrl = `postgres://sibyl:${PASSWORD}@${NODE_IP}:${postgres.port}/${DATABASE}`;
  kubectl('-n', 'sibyl', 'create', 'secret', 'generic', 'sibyl-store', `--from-literal=url=${podUrl}`);
  kubectl('apply', '-k', FIXTURE);
  const deployment = json('-n', 'sibyl', 'get', 'deployment', 'sibyl');
  assert.equal(deployment.spec.replicas, 2);
  assert.equal(deployment.spec.strategy.type, 'RollingUpdate');
  assert.deepEqual(json('-n', 'sibyl', 'get', 'pvc').items, [], 'no claim');

  // Both Ready: the kubelet's readiness probe passes on the follower too.
  const { leader, followers } = await replicas(2);
  t.diagnostic(`both replicas Ready, one holding the Lease, after ${since()}`);
  const [follower] = followers as [SibylPod];
  assert.notEqual(podOf(lease().holderIdentity), follower.name);
  // Both replicas opened the one database: its migrations ran (once, under their advisory lock).
  const migrations = await withClient(hostUrl, async (c) => (await c.query('SELECT count(*)::int AS n FROM schema_migrations')).rows[0].n as number);
  assert.ok(migrations > 0, `schema_migrations has ${migrations} rows`);

  // A study written through the leader is read back through the follower: one store.
  const created = await api(leader.ip, 'POST', '/api/v1/studies', { specText: jobStudy('shared', 'sleep 1; echo "accuracy=0.${x}"', { parallel: 1, max: 1 }) });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const seen = await api(follower.ip, 'GET', '/api/v1/studies/shared');
  assert.equal(seen.status, 200);
  assert.equal(seen.body.name, 'shared');
  const ended = await until('study shared ends (read through the follower)', 120_000, async () => {
    const s = (await api(follower.ip, 'GET', '/api/v1/studies/shared')).body;
    return s?.state === 'SUCCEEDED' ? s : undefined;
  }, diagnostics);
  t.diagnostic(`study shared ended after ${since()}`);
  assert.equal(ended.trials.SUCCEEDED, 1);
  assert.equal((await api(follower.ip, 'GET', '/api/v1/trials/shared-0001')).body.objectiveValue, 0.1);

  // The database password is in the Secret only: not in the pod spec, not in Sibyl's logs.
  for (const pod of [leader, follower]) {
    const spec = JSON.stringify(json('-n', 'sibyl', 'get', 'pod', pod.name).spec);
    assert.ok(!spec.includes(PASSWORD), `${pod.name}: the password is not in the pod spec`);
    const log = kubectl('-n', 'sibyl', 'logs', pod.name, '-c', 'sibyl');
    assert.ok(!log.includes(PASSWORD), `${pod.name}: the password is not in the log`);
  }
  assert.equal(readyPods().every((p) => p.restarts === 0), true, 'no restarts');
});

/** Reads go through a replica that does not lead (any Ready one when there is none): the store is shared. */
async function followerIp(): Promise<string> {
  const pods = readyPods();
  const holder = podOf(lease().holderIdentity);
  const pod = pods.find((p) => p.name !== holder) ?? pods[0];
  if (!pod) throw new Error('no Ready replica');
  return pod.ip;
}

/**
 * Runs a study of `max` Job trials (2 at a time) through the leader, calls `disrupt` on the
 * leader's pod once its third Job exists, waits for another holder of the Lease and for the
 * study's end, and checks that every trial ran once: all of them SUCCEEDED, each value of the
 * grid once, one Job per trial created once (a watch on the API server counts them).
 */
async function studyAcrossFailover(name: string, max: number, disrupt: (leader: SibylPod) => void) {
  const { leader } = await replicas(2);
  const creates = recordCreates(kc, '/apis/batch/v1/namespaces/sibyl/jobs');
  try {
    const created = await api(leader.ip, 'POST', '/api/v1/studies', { specText: jobStudy(name, 'sleep 6; echo "accuracy=0.${x}"', { parallel: 2, max }) });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    // Mid-study: some trials done, two running.
    await until(`${name}: the third trial's Job`, 120_000, () => creates.added.size >= 3, diagnostics);
    const old = lease();
    assert.equal(podOf(old.holderIdentity), leader.name);
    const disruptedAt = Date.now();
    disrupt(leader);
    const lastRenew = Date.parse(lease().renewTime!); // the old holder's last, read once it is gone or going
    const next = await until(`${name}: a new Lease holder`, 90_000, () => {
      const l = lease();
      return l.holderIdentity && l.holderIdentity !== old.holderIdentity ? l : undefined;
    }, diagnostics);

    const ended = await until(`study ${name} ends`, 4 * 60_000, async () => {
      const st = (await api(await followerIp(), 'GET', `/api/v1/studies/${name}`)).body;
      return ['SUCCEEDED', 'FAILED', 'STOPPED'].includes(st?.state) ? st : undefined;
    }, diagnostics);
    const trials = (await api(await followerIp(), 'GET', `/api/v1/studies/${name}/trials`)).body.trials as any[];
    const outcomes = trials.map((t) => `${t.name} ${t.state} ${t.reason ?? ''} ${t.message ?? ''} ${t.objectiveValue ?? ''}`).join('\n');
    assert.deepEqual([ended.state, ended.trials.SUCCEEDED, ended.trials.FAILED ?? 0, ended.trials.KILLED ?? 0], ['SUCCEEDED', max, 0, 0],
      `${JSON.stringify(ended.trials)}\n${outcomes}\n${diagnostics()}`);
    assert.equal(trials.length, max, 'no assignment lost, none added');
    assert.deepEqual(trials.map((t) => t.objectiveValue).sort(), Array.from({ length: max }, (_, i) => Number(`0.${i + 1}`)), 'each value of the grid once');
    // Counted on the API server: one Job per trial, created once, and none for anything else.
    assert.deepEqual([...creates.added.keys()].sort(), trials.map((t) => t.name).sort());
    for (const [job, uids] of creates.added) assert.equal(uids.size, 1, `${job}: created once`);
    const firstAfter = Math.min(...[...creates.firstSeen.values()].filter((at) => at > disruptedAt));
    assert.ok(Number.isFinite(firstAfter), 'the new leader launched the rest of the study');
    return {
      leader, successor: podOf(next.holderIdentity)!, next,
      takeoverSeconds: (Date.parse(next.acquireTime!) - disruptedAt) / 1000,
      afterLastRenewSeconds: (Date.parse(next.acquireTime!) - lastRenew) / 1000,
      firstLaunchSeconds: (firstAfter - disruptedAt) / 1000,
    };
  } finally {
    creates.stop();
  }
}

test('the leader\'s pod deleted mid-study: the other replica takes the Lease over and the study finishes with every trial once, none lost, none created twice', { timeout: 6 * 60_000 }, async (t) => {
  const r = await studyAcrossFailover('failover', 8, (leader) => kubectl('-n', 'sibyl', 'delete', 'pod', leader.name, '--wait=false'));
  assert.notEqual(r.successor, r.leader.name, 'the deleted pod does not lead');
  // On SIGTERM the old leader stops scheduling and releases the Lease, so the successor takes
  // it at its next attempt (every 5 s ±20 %), not after the 15 s lease duration.
  assert.ok(r.takeoverSeconds < 15, `taken over ${r.takeoverSeconds} s after the pod's deletion`);
  // The Deployment replaced the pod: two Ready replicas again, the new one a follower.
  const after = await replicas(2);
  assert.equal(after.leader.name, r.successor, 'the successor still leads');
  assert.ok([after.leader, ...after.followers].every((p) => p.restarts === 0));
  t.diagnostic(`pod deleted: ${r.successor} took the Lease ${r.takeoverSeconds.toFixed(1)} s after the deletion; the first Job after it was created ${r.firstLaunchSeconds.toFixed(1)} s after it`);
});

test('the leader\'s container SIGKILLed mid-study (no release): a candidate takes the Lease only once it expired, and the study finishes with every trial once', { timeout: 6 * 60_000 }, async (t) => {
  const r = await studyAcrossFailover('crash', 6, (leader) => {
    const id = cluster.docker(['ps', '-q', '--filter', `label=io.kubernetes.pod.name=${leader.name}`, '--filter', 'label=io.kubernetes.container.name=sibyl']).stdout.trim();
    assert.match(id, /^[0-9a-f]+$/, `the leader's container: ${id}`);
    const killed = cluster.docker(['kill', '--signal', 'KILL', id]);
    assert.equal(killed.status, 0, killed.stderr);
  });
  // Nobody released it: the Lease is taken over once its record went unchanged for its duration
  // (the other replica, or the killed container restarted under a new identity).
  const duration = r.next.leaseDurationSeconds ?? 15;
  assert.ok(r.afterLastRenewSeconds >= duration, `taken ${r.afterLastRenewSeconds} s after the last renew (the Lease lasts ${duration} s)`);
  assert.ok(r.afterLastRenewSeconds < duration + 15, `taken ${r.afterLastRenewSeconds} s after the last renew`);
  const after = await replicas(2);
  assert.equal(after.leader.name, r.successor);
  t.diagnostic(`container killed: ${r.successor}${r.successor === r.leader.name ? ' (the same pod, restarted)' : ''} took the Lease ${r.takeoverSeconds.toFixed(1)} s after the kill, ${r.afterLastRenewSeconds.toFixed(1)} s after the last renew; the first Job after it was created ${r.firstLaunchSeconds.toFixed(1)} s after the kill`);
});
