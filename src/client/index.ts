// The package's entry point: `import { SibylClient } from 'sibyl'`. Only the client and the
// types of what it sends and receives: nothing of the server is loaded.
export { SibylClient, type SibylClientOptions, type CreateStudyOptions, type Budget, type ObservationInput, type CompleteRequest, type Observation, type TrialLog, type TrialState, type TrialFilter, type PageRequest } from './client.js';
export { Study, Trial, type Metrics, type Outcome } from './handles.js';
export { DEFAULT_RETRY, DEFAULT_TIMEOUT_MS, type RetryPolicy } from './transport.js';
export {
  SibylError, InvalidArgumentError, UnauthenticatedError, PermissionDeniedError, NotFoundError, ConflictError, AlreadyExistsError,
  FailedPreconditionError, ResourceExhaustedError, UnavailableError, ServerError, type SibylErrorDetails,
} from './errors.js';
export type { StudyShape, TrialShape, StudyEvent, MetricShape, ObservationShape } from '../service/shapes.js';
