// A real PostgreSQL server for tests and benches, started from nothing: Debian's `postgresql`
// package (installed with apt-get when missing), a fresh `initdb` in a temporary directory, one
// free loopback port, trust authentication for the role `sibyl`. stop() ends the server by its
// pid and removes the directory; a small watchdog does the same if this process dies first.
//
// PostgreSQL refuses to run as root. As root, initdb and the server run as Debian's `postgres`
// system user (Node's spawn uid/gid, so the pid we hold is the postmaster's own, not a wrapper's).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { appendFileSync, chownSync, closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { exited, freePort, tail } from './kube-apiserver.js';

const LIB = '/usr/lib/postgresql';
const ROLE = 'sibyl';

export interface PostgresServer {
  /** postgres://sibyl@127.0.0.1:<port>/postgres */
  readonly url: string;
  readonly port: number;
  /** The postmaster's pid. */
  readonly pid: number;
  readonly dir: string;
  /** Creates an empty database and returns its URL (one per test keeps tests apart). */
  createDatabase(name: string): Promise<string>;
  /** The tail of the server's log. */
  log(): string;
  stop(): Promise<void>;
}

export interface PostgresOptions {
  /** Extra server settings (`-c name=value`), e.g. { statement_timeout: '1s' }. */
  readonly settings?: Readonly<Record<string, string>>;
  readonly readyTimeoutMs?: number;
  /**
   * Clients from another network (pods on the docker bridge): the server listens on `address`
   * too and lets `network` in as the role `sibyl` with `password` (the loopback stays trusted).
   */
  readonly remote?: { readonly address: string; readonly network: string; readonly password: string };
}

/** The newest installed server's bin directory, installing Debian's package first if there is none. */
export async function ensurePostgresBinaries(): Promise<string> {
  const found = installedBinDir();
  if (found) return found;
  // The dpkg lock may be held by another engineer's install: wait for it rather than fail.
  const install = ['-o', 'DPkg::Lock::Timeout=600', 'install', '-y', '--no-install-recommends', 'postgresql'];
  if ((await run('apt-get', install)).status !== 0) {
    await run('apt-get', ['-o', 'DPkg::Lock::Timeout=600', 'update']);
    const second = await run('apt-get', install);
    if (second.status !== 0) throw new Error(`apt-get install postgresql failed (${second.status}):\n${second.output.slice(-2000)}`);
  }
  const bin = installedBinDir();
  if (!bin) throw new Error(`apt-get installed postgresql but no server binaries are under ${LIB}/<version>/bin`);
  return bin;
}

function installedBinDir(): string | undefined {
  if (!existsSync(LIB)) return undefined;
  const versions = readdirSync(LIB).filter((v) => /^\d+$/.test(v)).sort((a, b) => Number(b) - Number(a));
  return versions.map((v) => join(LIB, v, 'bin')).find((b) => existsSync(join(b, 'initdb')) && existsSync(join(b, 'postgres')));
}

/** Who the server runs as: ourselves, or Debian's `postgres` user when we are root. */
function serverUser(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const id = (flag: string) => spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
  const [u, g] = [id('-u'), id('-g')];
  if (u.status !== 0 || g.status !== 0) {
    throw new Error(`running as root, PostgreSQL needs a non-root user, and the 'postgres' user (made by Debian's package) is missing: ${u.stderr.trim()}`);
  }
  return { uid: Number(u.stdout.trim()), gid: Number(g.stdout.trim()) };
}

export async function startPostgres(options: PostgresOptions = {}): Promise<PostgresServer> {
  const bin = await ensurePostgresBinaries();
  const user = serverUser();
  const dir = mkdtempSync(join(tmpdir(), 'sibyl-pg-'));
  if (user) chownSync(dir, user.uid, user.gid);
  const data = join(dir, 'data');
  const logFile = join(dir, 'postgres.log');
  const log = () => tail(logFile);
  let server: ChildProcess | undefined;
  let watchdog: ChildProcess | undefined;

  const killSync = () => {
    if (server && !exited(server)) server.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  const stop = async () => {
    process.removeListener('exit', killSync);
    if (server && !exited(server)) {
      const gone = new Promise<void>((r) => server!.once('exit', () => r()));
      server.kill('SIGINT'); // "fast" shutdown: ends open sessions instead of waiting for them
      const timer = setTimeout(() => server && !exited(server) && server.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    if (watchdog && !exited(watchdog)) watchdog.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };

  try {
    const init = await run(join(bin, 'initdb'), ['-D', data, '-U', ROLE, '--auth=trust', '-E', 'UTF8', '--locale=C', '--no-sync'], user, dir);
    if (init.status !== 0) throw new Error(`initdb failed (${init.status}):\n${init.output.slice(-2000)}`);

    const remote = options.remote;
    if (remote) appendFileSync(join(data, 'pg_hba.conf'), `host all ${ROLE} ${remote.network} scram-sha-256\n`);
    const port = await freePort();
    const listen = remote ? `127.0.0.1,${remote.address}` : '127.0.0.1';
    const settings = { listen_addresses: listen, unix_socket_directories: dir, ...options.settings };
    const fd = openSync(logFile, 'a');
    try {
      server = spawn(join(bin, 'postgres'), ['-D', data, '-p', String(port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
        { stdio: ['ignore', fd, fd], cwd: dir, ...user });
    } finally {
      closeSync(fd);
    }
    process.on('exit', killSync);
    // If this process is SIGKILLed (a test-runner timeout), end the server anyway.
    watchdog = spawn('sh', ['-c',
      'while kill -0 "$0" 2>/dev/null; do sleep 1; done; kill -INT "$1" 2>/dev/null; sleep 5; kill -KILL "$1" 2>/dev/null; rm -rf "$2"',
      String(process.pid), String(server.pid ?? 0), dir], { stdio: 'ignore', detached: true });
    watchdog.unref();

    const url = `postgres://${ROLE}@127.0.0.1:${port}/postgres`;
    await waitUntilAccepting(url, server, options.readyTimeoutMs ?? 30_000, log);
    if (remote) await withClient(url, (c) => c.query(`ALTER ROLE ${ROLE} PASSWORD ${c.escapeLiteral(remote.password)}`));
    const pid = server.pid!;
    return {
      url, port, pid, dir, log, stop,
      async createDatabase(name) {
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`database name ${JSON.stringify(name)}: lower-case letters, digits and _ only`);
        await withClient(url, (c) => c.query(`CREATE DATABASE ${name}`));
        return url.replace(/\/postgres$/, `/${name}`);
      },
    };
  } catch (e) {
    const err = new Error(`${(e as Error).message}\n--- postgres.log ---\n${log()}`);
    await stop().catch(() => undefined);
    throw err;
  }
}

async function waitUntilAccepting(url: string, server: ChildProcess, timeoutMs: number, log: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    if (exited(server)) throw new Error(`postgres exited (${server.exitCode ?? server.signalCode}) before accepting connections`);
    try {
      await withClient(url, (c) => c.query('SELECT 1'));
      return;
    } catch (e) {
      last = (e as Error).message; // "starting up", or nothing listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`postgres did not accept connections within ${timeoutMs} ms (last error: ${last})\n${log()}`);
}

export async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Runs a command to its end (as `user` in `cwd` when given: the postgres user may not enter ours). */
function run(cmd: string, args: readonly string[], user?: { uid: number; gid: number }, cwd?: string): Promise<{ status: number; output: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env, ...(cwd ? { cwd } : {}), ...user });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.on('error', (e) => resolve({ status: -1, output: `${output}${e.message}` }));
    child.on('close', (code, signal) => resolve({ status: code ?? (signal ? 128 : -1), output }));
  });
}
