// `sibyl serve` as a library: store + scheduler + service + gRPC + HTTP in one process.
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { AlgorithmPool } from '../algorithms/pool.js';
import { Auth, checkToken } from '../api/auth.js';
import { HostAllowList } from '../api/hosts.js';
import { KatibService } from '../service/katib.js';
import { KatibDbClients } from '../api/grpc/katib-db-client.js';
import type { RetryPolicy } from '../scheduler/scheduler.js';
import { bindGrpc, buildGrpcServer } from '../api/grpc/server.js';
import { buildRestServer } from '../api/rest/server.js';
import { launchCheck, runtimeFactory, trialTemplateSource, type LaunchingRuntime, type RuntimeOptions } from '../runtimes/factory.js';
import { StudyService } from '../service/study-service.js';
import type { ExperimentController, ExperimentGroup } from '../controller/experiment-controller.js';
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Elector, LeaderCallbacks, LeaderElectionConfig } from './leader.js';
import { leaderOnlyRuntime } from './leader-only.js';
import { lockDataDir, type DataDirLock } from '../store/lock.js';
import { type Store, type RuntimeKind } from '../store/store.js';
import { openStore } from '../store/open.js';
import { PostgresStore } from '../store/postgres.js';
import type { StudyEventBus } from '../service/event-bus.js';
import type { CheckpointVolume } from '../runtimes/kubernetes/checkpoint-volume.js';

export interface ServerOptions {
  /** Trial logs and checkpoints; also the SQLite store unless `storeUrl` names a PostgreSQL one. */
  readonly dataDir: string;
  /** A PostgreSQL URL: the store several replicas share (default: SQLite in the data directory). */
  readonly storeUrl?: string;
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly token?: string;
  /** Comma-separated Host patterns the HTTP server answers (default: loopback names and the listen address). */
  readonly allowedHosts?: string;
  /** PEM files: serve HTTPS and gRPC over TLS. */
  readonly tlsCert?: string;
  readonly tlsKey?: string;
  /** Time limit of one suggestion (default 60 s), and the worker module (tests give a stand-in). */
  readonly algorithmTimeoutMs?: number;
  readonly algorithmWorker?: URL;
  readonly algorithmRetry?: Partial<RetryPolicy>;
  /**
   * The root URL trials push metrics to (SIBYL_PUSH_ENDPOINT), each with a credential of its own
   * (SIBYL_PUSH_TOKEN); default in a pod (POD_IP set): http://<pod IP>:<HTTP port>.
   */
  readonly pushUrl?: string;
  /** Kubernetes: how long a trial's pods may stay Pending before it fails (default 5 min). */
  readonly pendingTimeoutMs?: number;
  /** Kubernetes: the claim trials keep checkpoint folders on (pbt) and where this process sees it (readCheckpointVolume). */
  readonly checkpointVolume?: CheckpointVolume;
  readonly runtime: RuntimeKind;
  /** For the kubernetes runtime: a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfig?: string;
  /** Where relative paths of local trial templates resolve (default: the working directory). */
  readonly baseDir?: string;
  /** Katib's suggestion volume, for the checkpoint folders of pbt trials Katib asks for (KatibServiceOptions). */
  readonly katibDataDir?: string;
  /**
   * Serving as Katib's early-stopping service: the namespace of Katib's Trials, which get the
   * EarlyStopped condition when their metrics collector stops them (src/service/katib-trials.ts).
   */
  readonly katibTrialNamespace?: string;
  /** The DB managers GetEarlyStoppingRules may read logs from (host:port; default Katib's, KATIB_DB_MANAGERS). */
  readonly katibDbManagers?: readonly string[];
  readonly log?: (message: string) => void;
  /**
   * Leader election on a coordination.k8s.io Lease (src/server/leader.ts): only the leader runs
   * `service.start()` and launches; a follower serves reads and is ready, but launches nothing.
   * A leader that loses the Lease stops scheduling (trial objects keep running) and resolves
   * `leaderLost`; it does not campaign again (restart the process).
   *
   * Without it, a PostgreSQL store elects its leader with an advisory lock on that database
   * (src/store/pg-leader.ts), the same way; SQLite has one process, which leads.
   */
  readonly leaderElection?: LeaderElectionConfig;
  /** The PostgreSQL lock's timing (tests): how often candidates try, and the leader's deadline. */
  readonly leaderLock?: { readonly retryPeriodMs?: number; readonly renewDeadlineMs?: number };
  /**
   * Kubernetes: act as the controller of Experiment objects in these namespaces
   * (src/controller/experiment-controller.ts). Runs only while this process leads.
   */
  readonly experiments?: { readonly namespaces: readonly string[]; readonly group: ExperimentGroup; readonly instance: string };
}

export interface RunningServer {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly service: StudyService;
  /** With leader election: whether this process leads now (always true without). */
  isLeader(): boolean;
  /** With leader election: resolves when this process lost the Lease (never without). */
  readonly leaderLost: Promise<void>;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  if (o.token !== undefined) {
    const why = checkToken(o.token);
    if (why) throw new ConfigError(`refusing the token: ${why}`);
  }
  if (!LOOPBACK.test(o.host) && !o.token) {
    throw new ConfigError(`refusing to listen on ${o.host} without a token: set SIBYL_TOKEN (or --token), or listen on 127.0.0.1`);
  }
  if ((o.tlsCert === undefined) !== (o.tlsKey === undefined)) throw new ConfigError('--tls-cert and --tls-key go together');
  if (o.experiments && o.runtime !== 'kubernetes') throw new ConfigError('watching Experiment objects needs the kubernetes runtime (--runtime kubernetes)');
  if (o.checkpointVolume && o.runtime !== 'kubernetes') throw new ConfigError('a checkpoint volume is for the kubernetes runtime (--runtime kubernetes); local trials keep theirs in the data directory');
  const tls = o.tlsCert && o.tlsKey ? { cert: readPem(o.tlsCert, '--tls-cert'), key: readPem(o.tlsKey, '--tls-key') } : undefined;
  const allowedHosts = o.allowedHosts ? HostAllowList.parse(o.allowedHosts) : HostAllowList.defaults(o.host);
  const log = o.log ?? (() => {});
  const launchRuntime: LaunchingRuntime = o.runtime === 'kubernetes' ? 'kubernetes' : 'local';
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const lock: DataDirLock = lockDataDir(dataDir);
  let store: Store | undefined;
  let grpcServer: grpc.Server | undefined;
  let http: FastifyInstance | undefined;
  let service: StudyService | undefined;
  let pool: AlgorithmPool | undefined;
  let ready = false;
  let elector: Elector | undefined;
  let controller: ExperimentController | undefined;
  let bus: StudyEventBus | undefined;
  const shared = o.storeUrl !== undefined;
  const elected = Boolean(o.leaderElection) || shared;
  let leading = !elected;
  let lost: () => void = () => {};
  const leaderLost = new Promise<void>((r) => { lost = r; });
  try {
    store = await openStore(o.storeUrl ?? dataDir);
    const s = store;
    // Replicas of one store: events reach every replica's watchers, and one tag marks the trial
    // processes of all of them, so a new leader ends those its dead predecessor left running.
    const owner = s instanceof PostgresStore ? await s.identity() : undefined;
    if (o.storeUrl && s instanceof PostgresStore) {
      const { PostgresEventBus } = await import('../store/pg-event-bus.js');
      bus = new PostgresEventBus(o.storeUrl, log);
    }
    // External studies launch nothing; the others launch with the server's runtime.
    const auth = new Auth(o.token);
    const podIp = process.env['POD_IP'];
    const pushUrl = o.pushUrl ?? (podIp && o.httpPort !== 0 ? `http://${podIp.includes(':') ? `[${podIp}]` : podIp}:${o.httpPort}` : undefined);
    const runtimeOptions: RuntimeOptions = {
      dataDir,
      ...(owner ? { owner } : {}),
      log,
      ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
      ...(pushUrl ? { pushEndpoint: pushUrl.replace(/\/+$/, ''), pushToken: (name: string) => auth.trialToken(name) } : {}),
      ...(o.pendingTimeoutMs !== undefined ? { pendingTimeoutMs: o.pendingTimeoutMs } : {}),
      ...(o.checkpointVolume ? { checkpointVolume: o.checkpointVolume } : {}),
    };
    const runtime = await runtimeFactory(launchRuntime, runtimeOptions);
    const trialTemplates = await trialTemplateSource(launchRuntime, o.kubeconfig);
    const checkLaunch = await launchCheck(launchRuntime, runtimeOptions);
    const algorithms = new AlgorithmPool({
      ...(o.algorithmTimeoutMs ? { timeoutMs: o.algorithmTimeoutMs } : {}),
      ...(o.algorithmWorker ? { worker: o.algorithmWorker } : {}),
    });
    pool = algorithms;
    service = new StudyService({
      algorithms,
      ...(o.algorithmRetry ? { retry: o.algorithmRetry } : {}),
      store: s,
      runtime: elected ? leaderOnlyRuntime(runtime, () => leading) : runtime,
      leads: () => leading,
      ...(bus ? { events: bus } : {}),
      defaultRuntime: o.runtime,
      launchRuntime,
      baseDir: resolve(o.baseDir ?? process.cwd()),
      dataDir,
      ...(o.checkpointVolume ? { checkpointVolume: o.checkpointVolume } : {}),
      onError: (e) => log(`error: ${e.message}`),
      ...(trialTemplates ? { trialTemplates } : {}),
      launchCheck: checkLaunch,
    });
    await bus?.start(service.remote);
    const logError = (e: Error) => log(`error: ${e.stack ?? e.message}`);
    const scheduler = service.scheduler;
    const kubeConfig = async () => {
      const { KubeConfig } = await import('@kubernetes/client-node');
      const kc = new KubeConfig();
      if (o.kubeconfig) kc.loadFromFile(o.kubeconfig);
      else kc.loadFromDefault();
      return kc;
    };
    const katibTrials = o.katibTrialNamespace
      ? new (await import('../service/katib-trials.js')).KatibTrialConditions(await kubeConfig(), o.katibTrialNamespace)
      : undefined;
    const katibDb = new KatibDbClients();
    const katib = new KatibService(s, algorithms, (trial, rows) => scheduler.observed(trial, rows), (trial) => scheduler.trialStoppedByRules(trial), {
      ...(o.katibDataDir ? { katibDataDir: resolve(o.katibDataDir) } : {}),
      ...(katibTrials ? { katibTrials } : {}),
      remoteMetricValues: (address, trial, metric, deadline) => katibDb.metricValues(address, trial, metric, deadline),
      ...(o.katibDbManagers ? { dbManagerAddresses: o.katibDbManagers } : {}),
    });
    grpcServer = buildGrpcServer({ service, katib, authorized: auth.bearer, isReady: () => ready, log: logError });
    const grpcPort = await bindGrpc(grpcServer, `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.grpcPort}`, tls);
    http = await buildRestServer({ service, auth, allowedHosts, isReady: () => ready, isLeader: () => leading, log: logError, ...(tls ? { tls } : {}) });
    await http.listen({ host: o.host, port: o.httpPort });
    const address = http.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : o.httpPort;
    const svc = service;
    // The Experiment controller writes objects: only the process that schedules runs it.
    const startController = async () => {
      if (!o.experiments) return;
      const { ExperimentController } = await import('../controller/experiment-controller.js');
      controller = new ExperimentController({ kubeConfig: await kubeConfig(), service: svc, log, ...o.experiments });
      await controller.start();
    };
    if (elected) {
      const callbacks: LeaderCallbacks = {
        log,
        onStartedLeading: async () => {
          leading = true;
          await svc.start();
          await startController();
        },
        onStoppedLeading: async () => {
          // Stop scheduling: the loops end and the runtime detaches (trial objects keep running
          // for the next leader to re-adopt).
          leading = false;
          await controller?.stop();
          await svc.scheduler.close('LeadershipLost');
          lost();
        },
      };
      if (o.leaderElection) {
        const { LeaderElector } = await import('./leader.js');
        elector = new LeaderElector(await kubeConfig(), o.leaderElection, callbacks);
      } else {
        const { PostgresLeaderElector } = await import('../store/pg-leader.js');
        const identity = `${process.env['POD_NAME'] || hostname()}_${process.pid}_${randomBytes(3).toString('hex')}`;
        elector = new PostgresLeaderElector(o.storeUrl!, { identity, ...o.leaderLock }, callbacks);
      }
      elector.start();
    } else {
      await service.start();
      await startController();
    }
    ready = true;

    let closing: Promise<void> | undefined;
    const el = elector;
    const g = grpcServer;
    const h = http;
    return {
      grpcPort,
      httpPort,
      service: svc,
      isLeader: () => leading,
      leaderLost,
      close: () => (closing ??= (async () => {
        ready = false;
        await el?.halt(); // no leadership change while closing; a held Lease is kept until released below
        await controller?.stop();
        // Stop accepting, let open calls finish, then stop trials (recovered on the next start).
        await Promise.all([
          shutdownGrpc(g, 3000),
          h.close(),
        ]);
        katibDb.close();
        await svc.close();
        await pool?.close();
        // Released only once nothing is launched here any more.
        await el?.stop();
        await s.close();
        lock.release();
      })()),
    };
  } catch (err) {
    await controller?.stop();
    await elector?.stop();
    grpcServer?.forceShutdown();
    await http?.close();
    await (service ? service.close() : bus?.close())?.catch(() => {});
    await pool?.close();
    await store?.close().catch(() => {});
    lock.release();
    throw err;
  }
}

/** Lets open calls finish for a while; watch streams never do, so they are cut after that. */
function shutdownGrpc(server: grpc.Server, graceMs: number): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(() => {
      server.forceShutdown();
      done();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      done();
    });
  });
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (e) {
    throw new ConfigError(`${flag}: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}
