// One gRPC server carrying sibyl.v1, Katib's api.v1.beta1 services and grpc.health.v1.
import * as grpc from '@grpc/grpc-js';
import type { StudyService } from '../../service/study-service.js';
import { excerpt, LIMITS } from '../../model/limits.js';
import type { KatibService } from '../../service/katib.js';
import type { TokenCheck } from '../auth.js';
import { loadProtos } from './protos.js';
import { dbManagerHandlers, earlyStoppingHandlers, suggestionHandlers } from './katib.js';
import { studiesHandlers, trialsHandlers } from './sibyl.js';

/** Health answers for these names (Katib probes `manager.v1beta1.Suggestion`). */
const SERVED = ['', 'manager.v1beta1.Suggestion', 'sibyl.v1.Studies', 'sibyl.v1.Trials', 'api.v1.beta1.Suggestion', 'api.v1.beta1.DBManager', 'api.v1.beta1.EarlyStopping'];

export interface GrpcOptions {
  readonly service: StudyService;
  readonly katib: KatibService;
  readonly authorized: TokenCheck;
  readonly isReady: () => boolean;
  readonly log?: (err: Error) => void;
}

export function buildGrpcServer(options: GrpcOptions): grpc.Server {
  const protos = loadProtos();
  const server = new grpc.Server({
    'grpc.max_receive_message_length': LIMITS.maxBodyBytes,
    'grpc.max_send_message_length': 64 * 1024 * 1024,
  });
  const ctx = { check: options.authorized, ...(options.log ? { log: options.log } : {}) };
  server.addService(protos.sibyl.Studies.service, studiesHandlers(options.service, ctx));
  server.addService(protos.sibyl.Trials.service, trialsHandlers(options.service, ctx));
  server.addService(protos.katib.Suggestion.service, suggestionHandlers(options.katib, ctx));
  server.addService(protos.katib.EarlyStopping.service, earlyStoppingHandlers(options.katib, ctx));
  server.addService(protos.katib.DBManager.service, dbManagerHandlers(options.katib, ctx));
  server.addService(protos.health.Health.service, {
    check: (call: grpc.ServerUnaryCall<{ service?: string }, unknown>, callback: grpc.sendUnaryData<unknown>) => {
      const name = call.request.service ?? '';
      if (!SERVED.includes(name)) return callback({ code: grpc.status.NOT_FOUND, details: `service: unknown service ${JSON.stringify(excerpt(name))}` });
      callback(null, { status: options.isReady() ? 'SERVING' : 'NOT_SERVING' });
    },
  });
  return server;
}

/** Binds the server, with TLS when a certificate and its key are given (PEM). */
export function bindGrpc(server: grpc.Server, address: string, tls?: { readonly cert: Buffer; readonly key: Buffer }): Promise<number> {
  const credentials = tls ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: tls.cert, private_key: tls.key }], false) : grpc.ServerCredentials.createInsecure();
  return new Promise((resolve, reject) => server.bindAsync(address, credentials, (err, port) => (err ? reject(err) : resolve(port))));
}
