// A real Kubernetes API server for the contract test tier: Debian's etcd plus kube-apiserver 1.20.2
// built from Debian's `kubernetes` source package by scripts/kube-build.sh (cached outside the
// repo with the kubelet, scheduler and controller manager of the cluster tier; the first call on
// a fresh machine builds them, which takes about 10 minutes).
//
// Both processes listen on free loopback ports only, keep their data in a temp dir, and are stopped
// by stop(). A small watchdog also ends them if this Node process dies without calling stop().
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const KUBE_VERSION = '1.20.2';

export interface KubeApiServer {
  /** A kubeconfig with one context (server, insecure-skip-tls-verify, bearer token). */
  readonly kubeconfigPath: string;
  /** e.g. https://127.0.0.1:40123 */
  readonly server: string;
  /** Static bearer token of a system:masters user. */
  readonly token: string;
  /** kubectl 1.20.2 next to the cached kube-apiserver. */
  readonly kubectl: string;
  /** Temp dir holding etcd data, certs, logs and the kubeconfig (removed by stop()). */
  readonly dir: string;
  stop(): Promise<void>;
}

export interface KubeBinaries {
  readonly apiserver: string;
  readonly kubelet: string;
  readonly scheduler: string;
  readonly controllerManager: string;
  /** The static pause binary of pod sandboxes. */
  readonly pause: string;
  readonly kubectl: string;
  readonly etcd: string;
}

/** The cache directory scripts/kube-build.sh uses. */
export function kubeCacheDir(): string {
  return process.env.SIBYL_KUBE_CACHE ?? `/var/cache/sibyl/kubernetes-${KUBE_VERSION}`;
}

export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'scripts', 'kube-build.sh')) && existsSync(join(dir, 'package.json'))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error('cannot find the repository root (scripts/kube-build.sh)');
    dir = up;
  }
}

function findEtcd(): string | undefined {
  for (const p of ['/usr/bin/etcd', '/usr/local/bin/etcd']) if (existsSync(p)) return p;
  const r = spawnSync('sh', ['-c', 'command -v etcd'], { encoding: 'utf8' });
  const p = r.stdout.trim();
  return r.status === 0 && p ? p : undefined;
}

/** Runs one of the project's scripts, showing only its own progress lines; resolves with its stdout. */
export async function runScript(name: string, env: Record<string, string> = {}): Promise<string> {
  const script = join(repoRoot(), 'scripts', name);
  const started = Date.now();
  const out = await new Promise<string>((resolvePromise, reject) => {
    const child = spawn('bash', [script], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    let stdout = '';
    let errTail = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => { stdout += d; });
    child.stderr.setEncoding('utf8').on('data', (d: string) => {
      errTail = (errTail + d).slice(-8000);
      // Only the script's own progress lines, not apt/go/docker chatter.
      for (const line of d.split('\n')) if (line.startsWith(`[${name}]`)) process.stderr.write(`${line}\n`);
    });
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolvePromise(stdout) : reject(new Error(`scripts/${name} exited with ${code}\n${errTail}\n${stdout}`))));
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  if (seconds > 5) process.stderr.write(`scripts/${name} finished in ${seconds} s\n`);
  return out;
}

/**
 * Returns the cached binaries, running scripts/kube-build.sh first when anything is missing
 * (apt-get installs, then a ~10 minute build on a fresh machine; seconds afterwards).
 */
export async function ensureKubeBinaries(): Promise<KubeBinaries> {
  const cache = kubeCacheDir();
  const names = { apiserver: 'kube-apiserver', kubelet: 'kubelet', scheduler: 'kube-scheduler', controllerManager: 'kube-controller-manager', pause: 'pause', kubectl: 'kubectl' };
  const paths = Object.fromEntries(Object.entries(names).map(([k, n]) => [k, join(cache, n)])) as Omit<KubeBinaries, 'etcd'>;
  let etcd = findEtcd();
  if (!etcd || Object.values(paths).some((p) => !existsSync(p)) || !existsSync(join(cache, '.complete'))) {
    process.stderr.write(`Kubernetes ${KUBE_VERSION} not cached in ${cache}: running scripts/kube-build.sh (first run builds it, ~10 min)\n`);
    await runScript('kube-build.sh', { SIBYL_KUBE_CACHE: cache });
    etcd = findEtcd();
  }
  if (!etcd) throw new Error('etcd not found after scripts/kube-build.sh (Debian package etcd-server)');
  for (const p of Object.values(paths)) if (!existsSync(p)) throw new Error(`${p} missing after scripts/kube-build.sh`);
  return { ...paths, etcd };
}

/** A port that was free a moment ago on 127.0.0.1 (the OS picks it). */
export async function freePort(): Promise<number> {
  return await new Promise((resolvePromise, reject) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolvePromise(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function tail(file: string, chars = 4000): string {
  try {
    const s = readFileSync(file, 'utf8');
    return s.length > chars ? `…${s.slice(-chars)}` : s;
  } catch {
    return '(no log)';
  }
}

export async function httpGet(url: string, token?: string): Promise<{ status: number; body: string }> {
  if (url.startsWith('http://')) {
    const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
    return { status: res.status, body: await res.text() };
  }
  return await new Promise((resolvePromise, reject) => {
    const req = request(url, {
      rejectUnauthorized: false,
      timeout: 5000,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => { body += d; }).on('end', () => resolvePromise({ status: res.statusCode ?? 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

export function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null;
}

export async function stopChild(child: ChildProcess | undefined, graceMs = 10_000): Promise<void> {
  if (!child || child.pid === undefined || exited(child)) return;
  const done = new Promise<void>((r) => child.once('exit', () => r()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => { if (!exited(child)) child.kill('SIGKILL'); }, graceMs);
  await done;
  clearTimeout(timer);
}

export async function waitFor(what: string, timeoutMs: number, check: () => Promise<boolean>, abort: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError = '';
  while (Date.now() < deadline) {
    const reason = abort();
    if (reason) throw new Error(`${what}: ${reason}`);
    try {
      if (await check()) return;
    } catch (e) {
      lastError = (e as Error).message;
    }
    await sleep(250);
  }
  throw new Error(`${what}: not ready after ${timeoutMs} ms${lastError ? ` (last error: ${lastError})` : ''}`);
}

/** Starts etcd + kube-apiserver on free loopback ports; resolves once /readyz answers 200. */
export async function startKubeApiServer(options: { readyTimeoutMs?: number } = {}): Promise<KubeApiServer> {
  const bins = await ensureKubeBinaries();
  let lastError: unknown;
  // A port picked free can be taken before the server binds it: retry with new ports.
  for (let attempt = 1; attempt <= 3; attempt++) {
    try {
      return await startOnce(bins, options.readyTimeoutMs ?? 180_000);
    } catch (e) {
      lastError = e;
      if (!/address already in use|bind:/i.test(String((e as Error).message))) break;
    }
  }
  throw lastError;
}

async function startOnce(bins: KubeBinaries, readyTimeoutMs: number): Promise<KubeApiServer> {
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-kube-'));
  const token = `sibyl-${Math.random().toString(36).slice(2)}${Date.now().toString(36)}`;
  const [etcdClient, etcdPeer, securePort] = [await freePort(), await freePort(), await freePort()];

  // Service-account signing key (node's crypto; no openssl needed) and the static token file.
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const saKey = join(dir, 'sa.key');
  writeFileSync(saKey, privateKey.export({ type: 'pkcs1', format: 'pem' }), { mode: 0o600 });
  const tokens = join(dir, 'tokens.csv');
  writeFileSync(tokens, `${token},admin,admin-uid,"system:masters"\n`, { mode: 0o600 });

  const etcdLog = join(dir, 'etcd.log');
  const apiLog = join(dir, 'kube-apiserver.log');
  const etcdFd = openSync(etcdLog, 'a');
  const apiFd = openSync(apiLog, 'a');
  let etcd: ChildProcess | undefined;
  let api: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;
  let stopped = false;
  const killAllSync = () => {
    // The watchdog stays: it removes the temp dir once this process is gone.
    for (const c of [api, etcd]) if (c && !exited(c)) c.kill('SIGKILL');
  };

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', killAllSync);
    await stopChild(api);
    await stopChild(etcd);
    await stopChild(watchdog, 1000);
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    etcd = spawn(bins.etcd, [
      '--name', 'sibyl',
      '--data-dir', join(dir, 'etcd-data'),
      '--listen-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--advertise-client-urls', `http://127.0.0.1:${etcdClient}`,
      '--listen-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-advertise-peer-urls', `http://127.0.0.1:${etcdPeer}`,
      '--initial-cluster', `sibyl=http://127.0.0.1:${etcdPeer}`,
    ], { stdio: ['ignore', etcdFd, etcdFd] });
    process.on('exit', killAllSync);

    await waitFor('etcd', 60_000, async () => {
      const r = await httpGet(`http://127.0.0.1:${etcdClient}/health`);
      return r.status === 200 && r.body.includes('true');
    }, () => (etcd && exited(etcd) ? `exited (${etcd.exitCode ?? etcd.signalCode})\n${tail(etcdLog)}` : undefined));

    api = spawn(bins.apiserver, [
      `--etcd-servers=http://127.0.0.1:${etcdClient}`,
      `--secure-port=${securePort}`,
      '--bind-address=127.0.0.1',
      '--advertise-address=127.0.0.1',
      `--cert-dir=${join(dir, 'certs')}`,
      `--token-auth-file=${tokens}`,
      '--service-account-issuer=https://kubernetes.default.svc',
      `--service-account-key-file=${saKey}`,
      `--service-account-signing-key-file=${saKey}`,
      '--authorization-mode=RBAC',
      '--disable-admission-plugins=ServiceAccount',
      '--service-cluster-ip-range=10.96.0.0/24',
      '--profiling=false',
    ], { stdio: ['ignore', apiFd, apiFd] });

    // If this process is killed (test-runner timeout, SIGKILL), end the servers anyway.
    watchdog = spawn('sh', ['-c',
      'while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -TERM "$1" "$2" 2>/dev/null; sleep 5; kill -KILL "$1" "$2" 2>/dev/null; rm -rf "$3"',
      String(process.pid), String(api.pid ?? 0), String(etcd.pid ?? 0), dir,
    ], { stdio: 'ignore', detached: true });
    watchdog.unref();

    const server = `https://127.0.0.1:${securePort}`;
    await waitFor('kube-apiserver', readyTimeoutMs, async () => {
      const r = await httpGet(`${server}/readyz`, token);
      return r.status === 200;
    }, () => (api && exited(api) ? `exited (${api.exitCode ?? api.signalCode})\n${tail(apiLog)}` : undefined));

    const kubeconfigPath = join(dir, 'kubeconfig');
    writeFileSync(kubeconfigPath, [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: sibyl-test',
      '  cluster:',
      `    server: ${server}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: admin',
      '  user:',
      `    token: ${token}`,
      'contexts:',
      '- name: sibyl-test',
      '  context:',
      '    cluster: sibyl-test',
      '    user: admin',
      '    namespace: default',
      'current-context: sibyl-test',
      '',
    ].join('\n'), { mode: 0o600 });

    return { kubeconfigPath, server, token, kubectl: bins.kubectl, dir, stop };
  } catch (e) {
    const err = new Error(`${(e as Error).message}\n--- etcd.log ---\n${tail(etcdLog, 2000)}\n--- kube-apiserver.log ---\n${tail(apiLog)}`);
    await stop().catch(() => undefined);
    throw err;
  } finally {
    closeSync(etcdFd);
    closeSync(apiFd);
  }
}

/** Runs the cached kubectl against the server; resolves with its exit code and output. */
export function kubectl(server: KubeApiServer, args: string[], input?: string): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(server.kubectl, ['--kubeconfig', server.kubeconfigPath, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    ...(input === undefined ? {} : { input }),
  });
  return { status: r.status ?? -1, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export const repoPath = (...parts: string[]) => resolve(repoRoot(), ...parts);
