// Katib's wire API (api.v1.beta1): Suggestion, EarlyStopping and DBManager, each call handed as
// proto-loader's plain object to the service layer (src/service/katib.ts), which reads and
// checks every field.
import type * as grpc from '@grpc/grpc-js';
import type { KatibService } from '../../service/katib.js';
import { unary, type HandlerContext } from './handlers.js';

type Req = Record<string, any>;

export function suggestionHandlers(katib: KatibService, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    getSuggestions: unary(ctx, (r: Req) => katib.getSuggestions(r)),
    validateAlgorithmSettings: unary(ctx, (r: Req) => katib.validateAlgorithmSettings(r)),
  };
}

export function earlyStoppingHandlers(katib: KatibService, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    validateEarlyStoppingSettings: unary(ctx, (r: Req) => katib.validateEarlyStoppingSettings(r)),
    getEarlyStoppingRules: unary(ctx, (r: Req) => katib.getEarlyStoppingRules(r)),
    setTrialStatus: unary(ctx, (r: Req) => katib.setTrialStatus(r)),
  };
}

export function dbManagerHandlers(katib: KatibService, ctx: HandlerContext): grpc.UntypedServiceImplementation {
  return {
    reportObservationLog: unary(ctx, (r: Req) => katib.reportObservationLog(r)),
    getObservationLog: unary(ctx, (r: Req) => katib.getObservationLog(r)),
    deleteObservationLog: unary(ctx, (r: Req) => katib.deleteObservationLog(r)),
  };
}
