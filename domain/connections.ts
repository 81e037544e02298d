/**
 * Connections: how Rotor reaches a target server. The row (kind, host, port, database, TLS) is
 * plain configuration; Rotor's own credential for the server lives only in Vault, at
 * connectionCredentialPath(name), never in the engine database, workflow history or logs.
 */
export const ConnectionKind = {
  Postgres: 'postgres',
  Redis: 'redis',
  MariaDb: 'mariadb',
} as const;
export type ConnectionKind = (typeof ConnectionKind)[keyof typeof ConnectionKind];
export const CONNECTION_KINDS: readonly ConnectionKind[] = Object.values(ConnectionKind);

/**
 * The PostgreSQL connection built from ROTOR_TARGET_DATABASE_URL. Targets that name no connection
 * (every secret created before connections existed, and their recorded histories) use it.
 */
export const DEFAULT_CONNECTION = 'default';

/** disable: plain TCP; require: TLS without checking the certificate; verify-full: TLS, checked. */
export const TlsMode = {
  Disable: 'disable',
  Require: 'require',
  VerifyFull: 'verify-full',
} as const;
export type TlsMode = (typeof TlsMode)[keyof typeof TlsMode];

export interface ConnectionTls {
  mode: TlsMode;
  /** PEM of the CA that signs the server's certificate (verify-full); not secret. */
  caPem?: string;
  /** The name the server's certificate must carry, when it differs from host. */
  serverName?: string;
}

/** A connection as stored: nothing secret. */
export interface ConnectionSpec {
  name: string;
  kind: ConnectionKind;
  host: string;
  port: number;
  /** The database to log in to (PostgreSQL); Redis and MariaDB ignore it. */
  database: string | null;
  tls: ConnectionTls;
}

/** Rotor's own login on the target server, as kept in Vault. */
export interface ConnectionCredential {
  username: string;
  password: string;
}

/** Where a connection's credential lives in Vault's KV mount; apart from every tenant's path. */
export function connectionCredentialPath(name: string): string {
  return `rotor-connections/${name}`;
}

/** Host names and addresses a connection may name: no URL syntax, no spaces, no control bytes. */
export const HOST_PATTERN =
  /^[A-Za-z0-9]([A-Za-z0-9.-]{0,252}[A-Za-z0-9])?$|^\[?[0-9A-Fa-f:.]{2,45}\]?$/;
