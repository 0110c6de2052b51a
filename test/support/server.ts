// A real `sibyl serve` (in-process) on 127.0.0.1 with free ports, and clients for it:
// HTTP with fetch, gRPC with clients built from the project's .proto files.
import * as grpc from '@grpc/grpc-js';
import { join } from 'node:path';
import { loadProtos } from '../../src/api/grpc/protos.js';
import { startServer, type RunningServer, type ServerOptions } from '../../src/server/app.js';
import { tempDir } from './study.js';

export interface TestServer {
  readonly running: RunningServer;
  readonly base: string;
  readonly grpcAddress: string;
  readonly dataDir: string;
  http(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<{ status: number; body: any; headers: Headers }>;
  /** A gRPC client; pass auth per call with bearer(). */
  client(name: 'Studies' | 'Trials' | 'Suggestion' | 'DBManager' | 'EarlyStopping' | 'Health'): any;
  close(): Promise<void>;
}

export type TestServerOptions = Partial<Omit<ServerOptions, 'runtime'>> & { runtime?: 'local' | 'external' };

export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const dataDir = options.dataDir ?? join(tempDir(), 'data');
  const running = await startServer({
    host: '127.0.0.1',
    grpcPort: 0,
    httpPort: 0,
    ...options,
    dataDir,
    runtime: options.runtime ?? 'external',
  });
  const base = `http://127.0.0.1:${running.httpPort}`;
  const grpcAddress = `127.0.0.1:${running.grpcPort}`;
  const protos = loadProtos();
  const clients: grpc.Client[] = [];
  const ctor = (name: string) => {
    switch (name) {
      case 'Studies': return protos.sibyl.Studies;
      case 'Trials': return protos.sibyl.Trials;
      case 'Health': return protos.health.Health;
      default: return protos.katib[name as 'Suggestion' | 'DBManager' | 'EarlyStopping'];
    }
  };
  return {
    running,
    base,
    grpcAddress,
    dataDir,
    async http(method, path, body, headers = {}) {
      const res = await fetch(`${base}${path}`, {
        method,
        headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
        ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
      });
      const text = await res.text();
      let parsed: unknown = text;
      try {
        parsed = text ? JSON.parse(text) : undefined;
      } catch {
        // not JSON
      }
      return { status: res.status, body: parsed, headers: res.headers };
    },
    client(name) {
      const client = new (ctor(name))(grpcAddress, grpc.credentials.createInsecure());
      clients.push(client);
      return client;
    },
    async close() {
      for (const c of clients) c.close();
      await running.close();
    },
  };
}

/** Promisifies a unary call of a proto-loader client. */
export function call<T = any>(client: any, method: string, request: unknown, metadata?: grpc.Metadata): Promise<T> {
  return new Promise((resolve, reject) => {
    const cb = (err: grpc.ServiceError | null, res: T) => (err ? reject(err) : resolve(res));
    if (metadata) client[method](request, metadata, cb);
    else client[method](request, cb);
  });
}

export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

/** A JSON document as a google.protobuf.Struct, the form proto-loader takes it in. */
export function toStruct(doc: Record<string, unknown>): unknown {
  const value = (v: unknown): unknown => {
    if (v === null || v === undefined) return { nullValue: 'NULL_VALUE' };
    if (Array.isArray(v)) return { listValue: { values: v.map(value) } };
    if (typeof v === 'object') return { structValue: toStruct(v as Record<string, unknown>) };
    if (typeof v === 'number') return { numberValue: v };
    if (typeof v === 'boolean') return { boolValue: v };
    return { stringValue: String(v) };
  };
  return { fields: Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, value(v)])) };
}
