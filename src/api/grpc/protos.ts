// The project's .proto files, loaded once with @grpc/proto-loader; servers and test clients
// are built from the same definitions.
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';

export const PROTO_DIR = fileURLToPath(new URL('../../../../proto/', import.meta.url));
export const PROTO_FILES = ['sibyl/v1/sibyl.proto', 'api/v1/beta1/api.proto', 'grpc/health/v1/health.proto'];

/** camelCase fields, int64 as numbers, enums as names, unset fields left out, oneof names set. */
export const LOADER_OPTIONS: protoLoader.Options = {
  includeDirs: [PROTO_DIR],
  keepCase: false,
  longs: Number,
  enums: String,
  defaults: false,
  oneofs: true,
};

type ServiceClientCtor = grpc.ServiceClientConstructor & { service: grpc.ServiceDefinition };

export interface Protos {
  readonly sibyl: { readonly Studies: ServiceClientCtor; readonly Trials: ServiceClientCtor };
  readonly katib: { readonly Suggestion: ServiceClientCtor; readonly DBManager: ServiceClientCtor; readonly EarlyStopping: ServiceClientCtor };
  readonly health: { readonly Health: ServiceClientCtor };
}

let cached: Protos | undefined;

export function loadProtos(): Protos {
  if (cached) return cached;
  const definition = protoLoader.loadSync(PROTO_FILES, LOADER_OPTIONS);
  const root = grpc.loadPackageDefinition(definition) as unknown as {
    sibyl: { v1: Protos['sibyl'] };
    api: { v1: { beta1: Protos['katib'] } };
    grpc: { health: { v1: Protos['health'] } };
  };
  cached = { sibyl: root.sibyl.v1, katib: root.api.v1.beta1, health: root.grpc.health.v1 };
  return cached;
}
