// A real single-node Kubernetes 1.20.2 for the cluster tier of the tests: a private dockerd,
// etcd, kube-apiserver, kube-scheduler, kube-controller-manager and a kubelet with its built-in
// dockershim, all from Debian (scripts/kube-host.sh, scripts/kube-build.sh), images made without
// a registry (scripts/kube-base-image.sh, `docker import`, `docker build`). The recipe is
// shared/reference/k8s-real-cluster.md.
//
// One kubelet per machine: everything lives under one fixed work directory, held with an
// operating-system lock while a cluster runs. What a cluster changes on the host is recorded in
// that directory as it happens (process ids, sysctls, the node address on `lo`, a NAT rule), so
// `cleanUp` can undo it: on stop, from a reaper process when the test process dies without
// stopping, and before a new cluster starts when a killed run left one behind.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DataDirBusyError, isAlive, lockDataDir, type DataDirLock } from '../../src/store/lock.js';
import { ensureKubeBinaries, exited, freePort, httpGet, repoRoot, runScript, stopChild, tail, waitFor, type KubeBinaries } from './kube-apiserver.js';

export const WORK = process.env['SIBYL_KUBE_WORK'] ?? '/var/tmp/sibyl-kube';
/** Images, and the docker build cache, survive clusters: a second run builds nothing it has. */
const DOCKER_DATA = process.env['SIBYL_DOCKER_DATA'] ?? '/var/cache/sibyl/docker';
export const NODE_IP = '10.250.0.1';
const NODE_NAME = 'sibyl-node';
/** The `kubernetes` Service's address, routed to the API server by one NAT rule (there is no kube-proxy). */
const SERVICE_IP = '10.96.0.1';
const DOCKER = '/usr/bin/docker'; // Debian's 20.10 client, not another one earlier in PATH
const STATE = join(WORK, 'state.json');

export interface KubeCluster {
  readonly kubeconfigPath: string;
  /** https://10.250.0.1:<port>: reachable from this machine and from pods. */
  readonly server: string;
  readonly token: string;
  readonly bins: KubeBinaries;
  kubectl(args: readonly string[], input?: string): { status: number; stdout: string; stderr: string };
  docker(args: readonly string[], options?: { cwd?: string; timeoutMs?: number }): { status: number; stdout: string; stderr: string };
  /** The tail of a component's log (etcd, kube-apiserver, kubelet, …). */
  log(component: string): string;
  /** Cuts pods off the API server (their packets to it are dropped), or lets them through again. */
  isolatePods(isolated: boolean): void;
  stop(): Promise<void>;
}

/** What a running cluster changed on the host, written as it happens. */
interface HostState {
  /** The test process that started the cluster. */
  owner: number;
  pids: number[];
  sysctls?: Record<string, string>;
  natRule?: string[];
  /** A rule dropping pods' traffic to the API server (isolatePods). */
  blockRule?: string[];
  loAlias?: boolean;
}

export const readState = (): HostState | undefined => {
  try {
    return JSON.parse(readFileSync(STATE, 'utf8')) as HostState;
  } catch {
    return undefined;
  }
};
const writeState = (s: HostState) => writeFileSync(STATE, JSON.stringify(s));

function run(cmd: string, args: readonly string[], options: { input?: string; timeoutMs?: number; cwd?: string } = {}): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: options.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024, ...(options.input === undefined ? {} : { input: options.input }), ...(options.cwd ? { cwd: options.cwd } : {}) });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` };
}

function must(cmd: string, args: readonly string[], what: string, options: { input?: string; timeoutMs?: number; cwd?: string } = {}): string {
  const r = run(cmd, args, options);
  if (r.status !== 0) throw new Error(`${what} failed (${r.status}): ${r.stderr.slice(-4000)}`);
  return r.stdout;
}


const docker = (args: readonly string[], options: { cwd?: string; timeoutMs?: number } = {}) =>
  run(DOCKER, ['-H', `unix://${join(WORK, 'docker.sock')}`, ...args], options);

/**
 * Undoes what a cluster did to this machine, from its recorded state and from what is found:
 * stops its processes, removes its pod containers, unmounts what the kubelet and dockerd left
 * mounted, restores the kubelet's sysctls, removes the NAT rule and the node address. Safe to
 * run when nothing is left.
 */
export async function cleanUp(log: (m: string) => void = () => {}): Promise<void> {
  const state = readState();
  // A cleaner still at work on this data root (the reaper of a killed test process) goes first.
  await dockerdGone(state?.pids ?? []);
  // The kubelet first (it would restart containers), then the pod containers, then the rest.
  const pids = state?.pids.filter(isAlive) ?? [];
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGTERM');
    } catch {
      // gone
    }
  }
  for (let i = 0; i < 100 && pids.some(isAlive); i++) await new Promise((r) => setTimeout(r, 100));
  for (const pid of pids.filter(isAlive)) process.kill(pid, 'SIGKILL');
  if (pids.length > 0) log(`stopped ${pids.length} cluster processes`);
  // Pod containers: a dockerd of our own, started for this if needed, removes them (it kills
  // what its predecessor left running when it starts) and is stopped again.
  if (existsSync(join(DOCKER_DATA, 'containers')) && readdirSync(join(DOCKER_DATA, 'containers')).length > 0) {
    let d = startDockerd();
    try {
      // On a loaded machine dockerd may give up waiting for its containerd and exit: start it again.
      for (let attempt = 1; ; attempt++) {
        try {
          await waitFor('dockerd (clean-up)', 60_000, async () => docker(['info']).status === 0, () => (exited(d) ? tail(join(WORK, 'logs', 'dockerd.log')) : undefined));
          break;
        } catch (err) {
          if (attempt >= 3 || !exited(d)) throw err;
          log(`dockerd (clean-up) exited while starting; starting it again (attempt ${attempt + 1})`);
          d = startDockerd();
        }
      }
      const ids = docker(['ps', '-aq']).stdout.split('\n').filter(Boolean);
      if (ids.length > 0) docker(['rm', '-f', ...ids], { timeoutMs: 120_000 });
    } finally {
      await stopChild(d, 20_000);
    }
  }
  // Mounts under the work directory (the kubelet's root dir, dockerd's netns), deepest first.
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '').filter((m) => m.startsWith(`${WORK}/`) || m.startsWith(`${DOCKER_DATA}/`)).sort((a, b) => b.length - a.length);
  for (const m of mounts) run('umount', ['-l', m]);
  if (state?.sysctls) for (const [k, v] of Object.entries(state.sysctls)) run('sysctl', ['-q', '-w', `${k}=${v}`]);
  if (state?.natRule) while (run('iptables', ['-t', 'nat', '-D', ...state.natRule]).status === 0) { /* every copy */ }
  if (state?.blockRule) while (run('iptables', ['-D', ...state.blockRule]).status === 0) { /* every copy */ }
  if (state?.loAlias) run('ip', ['addr', 'del', `${NODE_IP}/32`, 'dev', 'lo']);
  run('ip', ['link', 'delete', 'docker0']);
  for (const dir of ['/var/log/pods', '/var/log/containers', join(WORK, 'volumes')]) rmSync(dir, { recursive: true, force: true });
  rmSync(STATE, { force: true });
}

/**
 * Waits (up to 2 min) for a dockerd on this data root that is not one of the cluster's own
 * processes (those are ended below): another cleaner's, whose pid file would stop ours.
 */
async function dockerdGone(clusterPids: readonly number[]): Promise<void> {
  let pid = NaN;
  try {
    pid = Number(readFileSync(join(WORK, 'dockerd.pid'), 'utf8').trim());
  } catch {
    return; // no pid file
  }
  if (!Number.isInteger(pid) || clusterPids.includes(pid)) return;
  for (let i = 0; i < 1200 && isAlive(pid); i++) await new Promise((r) => setTimeout(r, 100));
}

function startDockerd(): ChildProcess {
  mkdirSync(join(WORK, 'logs'), { recursive: true });
  mkdirSync(DOCKER_DATA, { recursive: true });
  const out = openSync(join(WORK, 'logs', 'dockerd.log'), 'a');
  return spawn('/usr/sbin/dockerd', [
    '--data-root', DOCKER_DATA, '--exec-root', join(WORK, 'docker-exec'), '-H', `unix://${join(WORK, 'docker.sock')}`,
    '--pidfile', join(WORK, 'dockerd.pid'), '--iptables=false', '--ip-masq=false', '--storage-driver=overlay2',
    '--log-driver=json-file', '--exec-opt', 'native.cgroupdriver=cgroupfs',
  ], { stdio: ['ignore', out, out], detached: true });
}

/** The images the tests use, made here: pause, the base image, Sibyl's own, the MLP example's. */
export async function ensureImages(cluster: Pick<KubeCluster, 'docker'>, bins: KubeBinaries, log: (m: string) => void): Promise<void> {
  const has = (image: string) => cluster.docker(['image', 'inspect', image]).status === 0;
  if (!has('local/pause:3.4.1')) {
    const dir = join(WORK, 'pause-image');
    mkdirSync(dir, { recursive: true });
    must('cp', [bins.pause, join(dir, 'pause')], 'copying pause');
    must('sh', ['-c', `tar -C '${dir}' -cf - pause | ${DOCKER} -H unix://${join(WORK, 'docker.sock')} import --change 'ENTRYPOINT ["/pause"]' - local/pause:3.4.1`], 'importing pause');
  }
  if (!has('node:20-bookworm-slim')) {
    const tar = (await runScript('kube-base-image.sh')).trim().split('\n').at(-1)!;
    log('importing the base image node:20-bookworm-slim');
    must('sh', ['-c', `${DOCKER} -H unix://${join(WORK, 'docker.sock')} import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]' '${tar}' node:20-bookworm-slim`], 'importing the base image', { timeoutMs: 300_000 });
  }
  const root = repoRoot();
  // Built every time: the layer cache makes an unchanged tree a matter of seconds.
  for (const [image, file, context] of [['sibyl:latest', 'deploy/Containerfile', '.'], ['sibyl/mlp-example:latest', 'examples/mlp/Containerfile', 'examples/mlp']] as const) {
    const started = Date.now();
    const r = cluster.docker(['build', '--network', 'host', '-f', file, '-t', image, context], { cwd: root, timeoutMs: 900_000 });
    if (r.status !== 0) throw new Error(`docker build of ${image} failed: ${r.stderr.slice(-4000)}${r.stdout.slice(-4000)}`);
    log(`built ${image} from ${file} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
}

function certificates(dir: string): void {
  const pki = join(dir, 'pki');
  mkdirSync(pki, { recursive: true });
  const ssl = (args: string[], what: string) => must('openssl', args, `openssl: ${what}`);
  ssl(['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(pki, 'ca.key'), '-out', join(pki, 'ca.crt'), '-days', '2', '-subj', '/CN=sibyl-test-ca'], 'the CA');
  // The API server's client certificate towards the kubelet (the kubelet trusts the CA).
  ssl(['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', join(pki, 'apiserver-kubelet-client.key'), '-out', join(pki, 'apiserver-kubelet-client.csr'), '-subj', '/O=system:masters/CN=kube-apiserver-kubelet-client'], 'the kubelet client key');
  ssl(['x509', '-req', '-in', join(pki, 'apiserver-kubelet-client.csr'), '-CA', join(pki, 'ca.crt'), '-CAkey', join(pki, 'ca.key'), '-CAcreateserial', '-out', join(pki, 'apiserver-kubelet-client.crt'), '-days', '2'], 'signing the kubelet client certificate');
  ssl(['genrsa', '-out', join(pki, 'sa.key'), '2048'], 'the service-account key');
}

/** Starts a cluster and waits for its node to be Ready; fails with the reason when a prerequisite is missing. */
/**
 * One kubelet per machine: a cluster test file waits for the one before it (node --test runs two
 * files at a time) instead of failing, for as long as a cluster run may take.
 */
async function takeClusterLock(timeoutMs = 45 * 60_000): Promise<DataDirLock> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return lockDataDir(WORK);
    } catch (err) {
      if (!(err instanceof DataDirBusyError) || Date.now() > deadline) {
        throw new Error(`another cluster runs on this machine (one kubelet per machine): ${(err as Error).message}`);
      }
      await new Promise((r) => setTimeout(r, 2_000));
    }
  }
}

export async function startCluster(log: (m: string) => void = (m) => process.stderr.write(`[kube-cluster] ${m}\n`)): Promise<KubeCluster> {
  if (process.getuid?.() !== 0) throw new Error('the cluster tier runs dockerd and a kubelet: run the tests as root');
  await runScript('kube-host.sh');
  const bins = await ensureKubeBinaries();
  mkdirSync(WORK, { recursive: true });
  const lock = await takeClusterLock();
  if (readState()) log('a cluster left behind by an earlier run: cleaning it up first');
  await cleanUp(log);
  const children: ChildProcess[] = [];
  const state: HostState = { owner: process.pid, pids: [] };
  const started = (c: ChildProcess) => {
    children.push(c);
    state.pids.push(c.pid!);
    writeState(state);
    return c;
  };
  const logs = join(WORK, 'logs');
  rmSync(logs, { recursive: true, force: true });
  for (const d of ['kubelet', 'dockershim', 'docker-exec', 'etcd', 'pki']) rmSync(join(WORK, d), { recursive: true, force: true });
  mkdirSync(logs, { recursive: true });
  const logTo = (name: string) => openSync(join(logs, `${name}.log`), 'a');
  const logOf = (name: string) => tail(join(logs, `${name}.log`));
  let reaper: ChildProcess | undefined;
  const stop = async () => {
    reaper?.kill('SIGKILL');
    await cleanUp(log);
    lock.release();
  };
  try {
    writeState(state);
    // If this process dies without stop(), the reaper undoes it all.
    reaper = spawn(process.execPath, [fileURLToPath(new URL('./kube-cluster-reaper.js', import.meta.url)), String(process.pid)], { stdio: 'ignore', detached: true });
    reaper.unref();

    const dockerd = started(startDockerd());
    await waitFor('dockerd', 60_000, async () => docker(['info']).status === 0, () => (exited(dockerd) ? logOf('dockerd') : undefined));
    const cluster: Pick<KubeCluster, 'docker'> = { docker };
    await ensureImages(cluster, bins, log);

    // The node's address: on lo, as a /32 (this machine has no dummy interface); not loopback to the kubelet.
    if (!run('ip', ['-4', 'addr', 'show', 'dev', 'lo']).stdout.includes(`${NODE_IP}/32`)) {
      must('ip', ['addr', 'add', `${NODE_IP}/32`, 'dev', 'lo'], 'adding the node address');
      state.loAlias = true;
      writeState(state);
    }
    certificates(WORK);
    const pki = join(WORK, 'pki');
    const token = `sibyl-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
    writeFileSync(join(pki, 'tokens.csv'), `${token},admin,admin-uid,system:masters\n`, { mode: 0o600 });
    const [etcdClient, etcdPeer, apiPort, kubeletPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const server = `https://${NODE_IP}:${apiPort}`;
    const kubeconfigPath = join(WORK, 'kubeconfig');
    writeFileSync(kubeconfigPath, [
      'apiVersion: v1', 'kind: Config',
      'clusters:', '- name: sibyl-cluster', '  cluster:', `    server: ${server}`, '    insecure-skip-tls-verify: true',
      'users:', '- name: admin', '  user:', `    token: ${token}`,
      'contexts:', '- name: sibyl-cluster', '  context:', '    cluster: sibyl-cluster', '    user: admin', '    namespace: default',
      'current-context: sibyl-cluster', '',
    ].join('\n'), { mode: 0o600 });

    const etcd = started(spawn(bins.etcd, [
      '--name', 'sibyl', '--data-dir', join(WORK, 'etcd'),
      '--listen-client-urls', `http://127.0.0.1:${etcdClient}`, '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`, '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `sibyl=http://127.0.0.1:${etcdPeer}`,
    ], { stdio: ['ignore', logTo('etcd'), logTo('etcd')], detached: true }));
    await waitFor('etcd', 60_000, async () => (await httpGet(`http://127.0.0.1:${etcdClient}/health`)).body.includes('true'), () => (exited(etcd) ? logOf('etcd') : undefined));

    const api = started(spawn(bins.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`, `--secure-port=${apiPort}`,
      `--bind-address=${NODE_IP}`, `--advertise-address=${NODE_IP}`, `--cert-dir=${join(WORK, 'apiserver-certs')}`,
      `--token-auth-file=${join(pki, 'tokens.csv')}`, '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${join(pki, 'sa.key')}`, `--service-account-signing-key-file=${join(pki, 'sa.key')}`,
      '--authorization-mode=Node,RBAC', `--service-cluster-ip-range=${SERVICE_IP.replace(/\.1$/, '.0')}/24`,
      `--kubelet-client-certificate=${join(pki, 'apiserver-kubelet-client.crt')}`, `--kubelet-client-key=${join(pki, 'apiserver-kubelet-client.key')}`,
      '--kubelet-preferred-address-types=InternalIP', '--endpoint-reconciler-type=none', '--profiling=false',
    ], { stdio: ['ignore', logTo('kube-apiserver'), logTo('kube-apiserver')], detached: true }));

    // The kubelet starts beside the API server (cAdvisor takes a few seconds); it retries until it answers.
    state.sysctls = Object.fromEntries(['vm.overcommit_memory', 'kernel.panic', 'kernel.panic_on_oops'].map((k) => [k, must('sysctl', ['-n', k], `reading ${k}`).trim()]));
    writeState(state);
    const kubeletRoot = join(WORK, 'kubelet');
    mkdirSync(kubeletRoot, { recursive: true });
    const kubelet = started(spawn(bins.kubelet, [
      `--kubeconfig=${kubeconfigPath}`, `--hostname-override=${NODE_NAME}`, `--node-ip=${NODE_IP}`, `--address=${NODE_IP}`, `--port=${kubeletPort}`,
      '--read-only-port=0', '--healthz-port=0', `--root-dir=${kubeletRoot}`, `--cert-dir=${join(kubeletRoot, 'pki')}`,
      `--volume-plugin-dir=${join(kubeletRoot, 'volume-plugins')}`, `--experimental-dockershim-root-directory=${join(WORK, 'dockershim')}`,
      '--container-runtime=docker', `--docker-endpoint=unix://${join(WORK, 'docker.sock')}`, `--container-runtime-endpoint=unix://${join(WORK, 'dockershim.sock')}`,
      '--pod-infra-container-image=local/pause:3.4.1', '--cgroup-driver=cgroupfs', '--fail-swap-on=false',
      '--oom-score-adj=0', '--make-iptables-util-chains=false',
      '--anonymous-auth=false', `--client-ca-file=${join(pki, 'ca.crt')}`, '--authorization-mode=Webhook',
      '--image-gc-high-threshold=100', '--image-gc-low-threshold=99',
      '--eviction-hard=memory.available<50Mi,nodefs.available<1%,imagefs.available<1%',
      '--node-status-update-frequency=4s', '--sync-frequency=10s',
    ], { stdio: ['ignore', logTo('kubelet'), logTo('kubelet')], detached: true }));

    await waitFor('kube-apiserver', 180_000, async () => (await httpGet(`${server}/readyz`, token)).status === 200, () => (exited(api) ? logOf('kube-apiserver') : undefined));
    const scheduler = started(spawn(bins.scheduler, [`--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--port=0', '--secure-port=0'], { stdio: ['ignore', logTo('kube-scheduler'), logTo('kube-scheduler')], detached: true }));
    const cm = started(spawn(bins.controllerManager, [
      `--kubeconfig=${kubeconfigPath}`, '--leader-elect=false', '--port=0', '--secure-port=0',
      `--service-account-private-key-file=${join(pki, 'sa.key')}`, `--root-ca-file=${join(WORK, 'apiserver-certs', 'apiserver.crt')}`,
      '--use-service-account-credentials=false', '--controllers=*',
    ], { stdio: ['ignore', logTo('kube-controller-manager'), logTo('kube-controller-manager')], detached: true }));

    // Pods reach the API server at the kubernetes Service's address.
    state.natRule = ['PREROUTING', '-d', `${SERVICE_IP}/32`, '-p', 'tcp', '--dport', '443', '-j', 'DNAT', '--to-destination', `${NODE_IP}:${apiPort}`];
    writeState(state);
    must('iptables', ['-t', 'nat', '-A', ...state.natRule], 'the NAT rule for the kubernetes Service');

    const kubectl = (args: readonly string[], input?: string) => run(bins.kubectl, ['--kubeconfig', kubeconfigPath, ...args], input === undefined ? {} : { input });
    await waitFor('the node Ready', 180_000, async () => /\bTrue\b/.test(kubectl(['get', 'node', NODE_NAME, '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}']).stdout),
      () => [kubelet, scheduler, cm].some(exited) ? `${logOf('kubelet')}\n${logOf('kube-scheduler')}\n${logOf('kube-controller-manager')}` : undefined);
    // The default service account exists once the controller manager has made it.
    await waitFor('the default service account', 60_000, async () => kubectl(['get', 'serviceaccount', 'default']).status === 0, () => undefined);
    log(`node ${NODE_NAME} Ready at ${server}`);
    const isolatePods = (isolated: boolean) => {
      state.blockRule = ['INPUT', '-s', '172.17.0.0/16', '-d', `${NODE_IP}/32`, '-p', 'tcp', '--dport', String(apiPort), '-j', 'DROP'];
      writeState(state);
      if (isolated) must('iptables', ['-I', ...state.blockRule], 'cutting pods off the API server');
      else while (run('iptables', ['-D', ...state.blockRule]).status === 0) { /* every copy */ }
    };
    return { kubeconfigPath, server, token, bins, kubectl, docker, log: logOf, isolatePods, stop };
  } catch (err) {
    const logsTail = ['dockerd', 'kube-apiserver', 'kubelet'].map((n) => `--- ${n} ---\n${logOf(n).slice(-2000)}`).join('\n');
    await stop().catch(() => undefined);
    throw new Error(`${(err as Error).message}\n${logsTail}`);
  }
}
