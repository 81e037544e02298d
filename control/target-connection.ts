import { ConnectionKind, DEFAULT_CONNECTION, TargetKind, targetConnectionOf } from '../domain';
import type { TargetSpec } from '../domain';
import { ValidationError } from './errors';

/** The kind of the connection with this name, or null if there is none. */
export type ConnectionLookup = (name: string) => Promise<ConnectionKind | null>;

/** The connection kind each target reaches its server through; none for Rotor's own registry. */
const CONNECTION_KIND: Record<TargetKind, ConnectionKind | null> = {
  [TargetKind.PostgresRole]: ConnectionKind.Postgres,
  [TargetKind.RedisAcl]: ConnectionKind.Redis,
  [TargetKind.MariaDbUser]: ConnectionKind.MariaDb,
  [TargetKind.AwsIamAccessKey]: ConnectionKind.Aws,
  [TargetKind.TenantApiKey]: null,
};

/**
 * Refuses, before anything starts, a target naming a connection that does not exist or is of
 * another kind: otherwise it would show only at the first rotation, as NEEDS_ATTENTION. The
 * default PostgreSQL connection (ROTOR_TARGET_DATABASE_URL) is not a row; it is checked when used.
 */
export async function checkTargetConnection(
  target: TargetSpec | undefined,
  lookup: ConnectionLookup,
): Promise<void> {
  if (!target) return;
  const wanted = CONNECTION_KIND[target.kind];
  const name = targetConnectionOf(target);
  if (!wanted || name === undefined) return;
  if (wanted === ConnectionKind.Postgres && name === DEFAULT_CONNECTION) return;
  const kind = await lookup(name);
  if (kind === null) {
    throw new ValidationError([
      {
        field: 'target.connection',
        message: 'names no connection (add it first: PUT /api/v1/connections/{name})',
      },
    ]);
  }
  if (kind !== wanted) {
    throw new ValidationError([
      {
        field: 'target.connection',
        message: `names a ${kind} connection; a ${target.kind} target needs a ${wanted} connection`,
      },
    ]);
  }
}
