/**
 * Connections: how Rotor reaches a target server. The row (kind, host, port, database, TLS) is
 * plain configuration; Rotor's own credential for the server lives only in Vault, at
 * connectionCredentialPath(name), never in the engine database, workflow history or logs.
 */
export const ConnectionKind = {
  Postgres: 'postgres',
  Redis: 'redis',
  MariaDb: 'mariadb',
  /** An AWS account (or an AWS-compatible server): IAM and STS, with Rotor's own access key. */
  Aws: 'aws',
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
  /** An aws connection's region and endpoint; absent for every other kind. */
  aws?: AwsConnectionSettings;
}

/**
 * Where an aws connection sends IAM and STS requests. Without `endpoint`, AWS's own (IAM's global
 * endpoint, STS's regional one); with it, an AWS-compatible server (moto, LocalStack) for both.
 * Rotor's own credential is an access key: the id as the credential's username, the secret
 * access key as its password, both in Vault only.
 */
export interface AwsConnectionSettings {
  region: string;
  endpoint?: string;
}

/** AWS region names: us-east-1, eu-central-2, us-gov-west-1, cn-north-1, … */
export const AWS_REGION_PATTERN = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;

/** AWS access key ids: AKIA…/ASIA… and the like, upper-case letters and digits. */
export const AWS_ACCESS_KEY_ID_PATTERN = /^[A-Z0-9]{16,128}$/;

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
