import { ServiceError, isGrpcServiceError } from '@temporalio/client';

/** gRPC statuses meaning Temporal did not take or answer the call. */
const GRPC_UNAVAILABLE = 14;
const GRPC_DEADLINE_EXCEEDED = 4;

/**
 * What one error (not its causes) says about the Temporal server: unreachable or too slow (a
 * gRPC UNAVAILABLE or DEADLINE_EXCEEDED status, or the client's ServiceError for a connection
 * that never came up); `answered` for any other gRPC status (the server is up, so no other
 * dependency's reading applies); null for an error that is not the Temporal client's. Here in
 * control/, the API's one road to Temporal, so api/ needs the client's classes only through this.
 */
export function temporalOutage(
  err: Error,
): 'UNAVAILABLE' | 'DEADLINE_EXCEEDED' | 'ServiceError' | 'answered' | null {
  if (isGrpcServiceError(err)) {
    const status: number = err.code;
    if (status === GRPC_UNAVAILABLE) return 'UNAVAILABLE';
    if (status === GRPC_DEADLINE_EXCEEDED) return 'DEADLINE_EXCEEDED';
    return 'answered';
  }
  if (err instanceof ServiceError && err.message === 'Failed to connect to Temporal server')
    return 'ServiceError';
  return null;
}
