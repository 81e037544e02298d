import { ApplicationFailure } from '@temporalio/common';
import { temporalOutage } from '../control';
import { ErrorType } from '../domain';

/** A service the API cannot answer without; a small fixed set, so it can be a metric label. */
export const Dependency = {
  Vault: 'vault',
  Database: 'database',
  Temporal: 'temporal',
} as const;
export type Dependency = (typeof Dependency)[keyof typeof Dependency];

/** How each dependency is named to a client. */
const NAMES: Record<Dependency, string> = {
  vault: 'Vault',
  database: 'The engine database',
  temporal: 'Temporal',
};

/** Seconds a client is told to wait before retrying (the Retry-After header). */
export const DEPENDENCY_RETRY_AFTER_SECONDS = 5;

export const DEPENDENCY_UNAVAILABLE_CODE = 'ROT_ERR_DEPENDENCY_UNAVAILABLE';

export interface DependencyOutage {
  dependency: Dependency;
  /** What kind of failure it was (an error type, errno or gRPC status), for the log line only. */
  kind: string;
}

/** Socket errors: the peer refused, dropped or never answered the connection. */
const SOCKET_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH']);
/** SQLSTATE class 08, connection exception (08000, 08003, 08006…). */
const PG_CONNECTION_EXCEPTION = /^08[0-9A-Z]{3}$/;
/** PostgreSQL's "the server is going away" states: admin, crash and cannot-connect-now shutdown. */
const PG_SHUTDOWN = new Set(['57P01', '57P02', '57P03']);
/** pg's own messages for a connection it lost or could not open in time (they carry no code). */
const PG_LOST =
  /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/;
/** The error and its causes, outermost first (bounded, in case of a cycle). */
function chain(err: unknown): Error[] {
  const out: Error[] = [];
  for (let e = err; e instanceof Error && out.length < 8; e = e.cause) out.push(e);
  return out;
}

/**
 * Which dependency an error says is unavailable, or null when it is something else (a bug, a
 * refusal). Only the error's type is looked at and returned, never its message to a client.
 *
 * Vault errors arrive as the VaultKv adapter's ApplicationFailure (VaultUnavailable); Temporal's
 * as the client's ServiceError around a gRPC UNAVAILABLE or DEADLINE_EXCEEDED status. A bare
 * socket error or a pg connection error is the engine database's: in the API process it is the
 * only client whose errors reach the error handler unwrapped (Vault and Temporal wrap theirs,
 * target probes report theirs in their answer).
 */
export function dependencyOutage(err: unknown): DependencyOutage | null {
  for (const e of chain(err)) {
    if (e instanceof ApplicationFailure) {
      if (e.type === ErrorType.VaultUnavailable)
        return { dependency: Dependency.Vault, kind: e.type };
      if (e.type === ErrorType.DatabaseUnavailable)
        return { dependency: Dependency.Database, kind: e.type };
      continue;
    }
    const temporal = temporalOutage(e);
    if (temporal === 'answered') continue;
    if (temporal) return { dependency: Dependency.Temporal, kind: temporal };
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') {
      if (SOCKET_CODES.has(code) || PG_CONNECTION_EXCEPTION.test(code) || PG_SHUTDOWN.has(code))
        return { dependency: Dependency.Database, kind: code };
    }
    if (PG_LOST.test(e.message))
      return { dependency: Dependency.Database, kind: 'connection lost' };
  }
  return null;
}

/** The client's message: which dependency, and to retry; nothing from the error itself. */
export function dependencyMessage(outage: DependencyOutage): string {
  const retry = `retry in ${DEPENDENCY_RETRY_AFTER_SECONDS} seconds`;
  // A deadline can also be a lifecycle whose worker is not answering: say both, not just one.
  if (outage.dependency === Dependency.Temporal && outage.kind === 'DEADLINE_EXCEEDED')
    return `Temporal (or the worker running this secret) did not answer in time; ${retry}`;
  return `${NAMES[outage.dependency]} is not reachable right now; ${retry}`;
}
