import { ServiceError, isGrpcServiceError } from '@temporalio/client';

/** gRPC statuses meaning Temporal did not take or answer the call. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * Whether one error (not its causes) says the Temporal server could not be reached or did not
 * answer in time, and how: a gRPC UNAVAILABLE or DEADLINE_EXCEEDED status, or the client's
 * ServiceError for a connection that never came up. Here in control/, the API's one road to
 * Temporal, so api/ needs the client's classes only through this.
 */
export function temporalUnavailable(
  err: Error,
): 'UNAVAILABLE' | 'DEADLINE_EXCEEDED' | 'ServiceError' | null {
  if (isGrpcServiceError(err)) {
    const status: number = err.code;
    if (status === GRPC_UNAVAILABLE) return 'UNAVAILABLE';
    if (status === GRPC_DEADLINE_EXCEEDED) return 'DEADLINE_EXCEEDED';
    return null;
  }
  if (err instanceof ServiceError && err.message === 'Failed to connect to Temporal server')
    return 'ServiceError';
  return null;
}

/** Whether the error is a gRPC status error at all (then no other dependency's classification applies). */
export function isTemporalStatusError(err: Error): boolean {
  return isGrpcServiceError(err);
}
