// `sibyl serve` as a library: store + scheduler + service + gRPC + HTTP in one process.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { FastifyInstance } from 'fastify';
import { bearerCheck } from '../api/auth.js';
import { bindGrpc, buildGrpcServer } from '../api/grpc/server.js';
import { buildRestServer } from '../api/rest/server.js';
import { runtimeFactory, type LaunchingRuntime } from '../runtimes/factory.js';
import { StudyService } from '../service/study-service.js';
import { lockDataDir, type DataDirLock } from '../store/lock.js';
import { Store, type RuntimeKind } from '../store/store.js';

export interface ServerOptions {
  readonly dataDir: string;
  readonly host: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly token?: string;
  readonly runtime: RuntimeKind;
  /** For the kubernetes runtime: a kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster). */
  readonly kubeconfig?: string;
  /** Where relative paths of local trial templates resolve (default: the working directory). */
  readonly baseDir?: string;
  readonly log?: (message: string) => void;
}

export interface RunningServer {
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly service: StudyService;
  close(): Promise<void>;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

export async function startServer(o: ServerOptions): Promise<RunningServer> {
  if (!LOOPBACK.test(o.host) && !o.token) {
    throw new ConfigError(`refusing to listen on ${o.host} without a token: set SIBYL_TOKEN (or --token), or listen on 127.0.0.1`);
  }
  const log = o.log ?? (() => {});
  const launchRuntime: LaunchingRuntime = o.runtime === 'kubernetes' ? 'kubernetes' : 'local';
  const dataDir = resolve(o.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const lock: DataDirLock = lockDataDir(dataDir);
  let store: Store | undefined;
  let grpcServer: grpc.Server | undefined;
  let http: FastifyInstance | undefined;
  let service: StudyService | undefined;
  let ready = false;
  try {
    store = Store.open(dataDir);
    const s = store;
    service = new StudyService({
      store: s,
      // External studies launch nothing; the others launch with the server's runtime.
      runtime: await runtimeFactory(launchRuntime, {
        dataDir,
        log,
        ...(o.kubeconfig ? { kubeconfig: o.kubeconfig } : {}),
      }),
      defaultRuntime: o.runtime,
      launchRuntime,
      baseDir: resolve(o.baseDir ?? process.cwd()),
      dataDir,
      onError: (e) => log(`error: ${e.message}`),
    });
    const authorized = bearerCheck(o.token);
    const logError = (e: Error) => log(`error: ${e.stack ?? e.message}`);
    grpcServer = buildGrpcServer({ service, authorized, isReady: () => ready, log: logError });
    const grpcPort = await bindGrpc(grpcServer, `${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.grpcPort}`);
    http = await buildRestServer({ service, authorized, isReady: () => ready, log: logError });
    await http.listen({ host: o.host, port: o.httpPort });
    const address = http.server.address();
    const httpPort = typeof address === 'object' && address ? address.port : o.httpPort;
    await service.start();
    ready = true;

    let closing: Promise<void> | undefined;
    const svc = service;
    const g = grpcServer;
    const h = http;
    return {
      grpcPort,
      httpPort,
      service: svc,
      close: () => (closing ??= (async () => {
        ready = false;
        // Stop accepting, let open calls finish, then stop trials (recovered on the next start).
        await Promise.all([
          shutdownGrpc(g, 3000),
          h.close(),
        ]);
        await svc.close();
        s.close();
        lock.release();
      })()),
    };
  } catch (err) {
    grpcServer?.forceShutdown();
    await http?.close();
    await service?.close().catch(() => {});
    store?.close();
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
