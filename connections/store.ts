import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../db/schema';
import { CONNECTION_KINDS, TlsMode, connectionCredentialPath } from '../domain';
import type {
  ConnectionCredential,
  ConnectionKind,
  ConnectionSpec,
  ConnectionTls,
} from '../domain';
import type { VaultKv } from '../vault';

type Row = Awaited<ReturnType<typeof selectAll>>[number];

function selectAll(db: Kysely<Database>) {
  return db
    .selectFrom('connections')
    .select(['name', 'kind', 'host', 'port', 'database', 'tls', 'region', 'endpoint', 'updated_at'])
    .execute();
}

function toSpec(row: Row): ConnectionSpec & { updatedAt: Date } {
  const tls = row.tls as Partial<ConnectionTls>;
  return {
    name: row.name,
    kind: (CONNECTION_KINDS as readonly string[]).includes(row.kind)
      ? (row.kind as ConnectionKind)
      : 'postgres',
    host: row.host,
    port: row.port,
    database: row.database,
    tls: {
      mode: tls.mode ?? TlsMode.Disable,
      ...(tls.caPem ? { caPem: tls.caPem } : {}),
      ...(tls.serverName ? { serverName: tls.serverName } : {}),
    },
    ...(row.kind === 'aws' && row.region
      ? { aws: { region: row.region, ...(row.endpoint ? { endpoint: row.endpoint } : {}) } }
      : {}),
    updatedAt: row.updated_at,
  };
}

/** A stored connection, or undefined. */
export async function findConnection(
  db: Kysely<Database>,
  name: string,
): Promise<(ConnectionSpec & { updatedAt: Date }) | undefined> {
  const row = await db
    .selectFrom('connections')
    .select(['name', 'kind', 'host', 'port', 'database', 'tls', 'region', 'endpoint', 'updated_at'])
    .where('name', '=', name)
    .executeTakeFirst();
  return row ? toSpec(row) : undefined;
}

export async function listConnections(
  db: Kysely<Database>,
): Promise<(ConnectionSpec & { updatedAt: Date })[]> {
  return (await selectAll(db)).map(toSpec).sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Creates or replaces a connection. The credential, when given, goes to Vault first (a new KV
 * version), so a row never names a server whose credential write failed; the row holds none.
 */
export async function saveConnection(
  db: Kysely<Database>,
  vault: VaultKv,
  spec: ConnectionSpec,
  credential: ConnectionCredential | undefined,
  by: string,
): Promise<{ created: boolean }> {
  if (credential) {
    const path = connectionCredentialPath(spec.name);
    const { latestVersion } = await vault.metadata(path);
    await vault.write(
      path,
      { username: credential.username, password: credential.password },
      latestVersion,
    );
  }
  const values = {
    kind: spec.kind,
    host: spec.host,
    port: spec.port,
    database: spec.database,
    tls: JSON.stringify(spec.tls),
    region: spec.aws?.region ?? null,
    endpoint: spec.aws?.endpoint ?? null,
  };
  const row = await db
    .insertInto('connections')
    .values({ name: spec.name, ...values, created_by: by })
    .onConflict((oc) => oc.column('name').doUpdateSet({ ...values, updated_at: sql`now()` }))
    .returning(sql<boolean>`(xmax = 0)`.as('created'))
    .executeTakeFirstOrThrow();
  return { created: row.created };
}

/** Removes the row and every version of the credential in Vault. */
export async function deleteConnection(
  db: Kysely<Database>,
  vault: VaultKv,
  name: string,
): Promise<boolean> {
  const deleted = await db.deleteFrom('connections').where('name', '=', name).executeTakeFirst();
  await vault.deleteAll(connectionCredentialPath(name));
  return (deleted.numDeletedRows ?? 0n) > 0n;
}

/** The credential Vault holds for a connection and its KV version, or undefined. */
export async function readConnectionCredential(
  vault: VaultKv,
  name: string,
): Promise<{ credential: ConnectionCredential; version: number } | undefined> {
  const read = await vault.read(connectionCredentialPath(name));
  const { username, password } = read?.data ?? {};
  if (!read || typeof username !== 'string' || typeof password !== 'string') return undefined;
  return { credential: { username, password }, version: read.version };
}
