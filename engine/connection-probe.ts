import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  IAMClient,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import mysql from 'mysql2/promise';
import pg from 'pg';
import { ConnectionKind } from '../domain';
import type { ConnectionCredential, ConnectionSpec } from '../domain';
import { awsClientConfig, tlsOptions, withRedisSession } from './connections';

/** One thing `rotor connections test` checked; `detail` never carries a credential. */
export interface ProbeCheck {
  check: 'reach' | 'login' | 'privilege';
  ok: boolean;
  detail: string;
}

export interface ProbeResult {
  ok: boolean;
  checks: ProbeCheck[];
  /** The privilege the credential lacks, named as the server grants it, when that is the problem. */
  missingPrivilege?: string;
}

const CONNECT_TIMEOUT_MS = 5_000;
const codeOf = (err: unknown): string =>
  (err as { code?: string }).code ??
  /^[A-Z]{2,}\b/.exec(err instanceof Error ? err.message : '')?.[0] ??
  'error';

/**
 * Tests a connection without rotating anything: reaches the server, logs in with Rotor's
 * credential, and checks the privileges rotation needs. Read-only, except that on Redis the
 * rotator runs `ACL SETUSER <itself>` with no rules, which changes nothing but needs the grant.
 */
export async function probeConnection(
  spec: Pick<ConnectionSpec, 'kind' | 'host' | 'port' | 'database' | 'tls' | 'aws'>,
  credential: ConnectionCredential,
): Promise<ProbeResult> {
  if (spec.kind === ConnectionKind.Aws) return probeAws(spec, credential);
  if (spec.kind === ConnectionKind.Redis) return probeRedis(spec, credential);
  if (spec.kind === ConnectionKind.MariaDb) return probeMariaDb(spec, credential);
  return probePostgres(spec, credential);
}

/** MariaDB's and MySQL's "access denied" and "account locked" login refusals. */
const MARIADB_LOGIN_REFUSED = new Set([1045, 4151, 3118]);

/**
 * MariaDB / MySQL: ALTER USER needs the global CREATE USER privilege. USER_PRIVILEGES lists the
 * logged-in account's global privileges (each one of ALL PRIVILEGES separately), nobody else's.
 */
async function probeMariaDb(
  spec: Pick<ConnectionSpec, 'host' | 'port' | 'tls'>,
  credential: ConnectionCredential,
): Promise<ProbeResult> {
  const where = `${spec.host}:${spec.port}`;
  const checks: ProbeCheck[] = [];
  const tls = tlsOptions(spec.tls, spec.host);
  let connection: mysql.Connection | undefined;
  try {
    try {
      connection = await mysql.createConnection({
        host: spec.host,
        port: spec.port,
        ...(tls ? { ssl: tls } : {}),
        user: credential.username,
        password: credential.password,
        connectTimeout: CONNECT_TIMEOUT_MS,
      });
    } catch (err) {
      const errno = (err as { errno?: number }).errno;
      if (errno !== undefined && MARIADB_LOGIN_REFUSED.has(errno)) {
        checks.push({ check: 'reach', ok: true, detail: `reached ${where}` });
        checks.push({
          check: 'login',
          ok: false,
          detail: `the server refused ${credential.username}'s login (${codeOf(err)})`,
        });
      } else {
        checks.push({
          check: 'reach',
          ok: false,
          detail: `could not reach ${where} (${codeOf(err)})`,
        });
      }
      return { ok: false, checks };
    }
    checks.push({ check: 'reach', ok: true, detail: `reached ${where}` });
    checks.push({ check: 'login', ok: true, detail: `logged in as ${credential.username}` });
    let rows: mysql.RowDataPacket[];
    try {
      [rows] = await connection.query<mysql.RowDataPacket[]>(
        "SELECT 1 FROM information_schema.USER_PRIVILEGES WHERE PRIVILEGE_TYPE = 'CREATE USER'",
      );
    } catch (err) {
      checks.push({ check: 'privilege', ok: false, detail: `the server answered ${codeOf(err)}` });
      return { ok: false, checks };
    }
    if (rows.length > 0) {
      checks.push({ check: 'privilege', ok: true, detail: 'has CREATE USER' });
      return { ok: true, checks };
    }
    checks.push({
      check: 'privilege',
      ok: false,
      detail: `${credential.username} lacks the global CREATE USER privilege (ALTER USER needs it: GRANT CREATE USER ON *.*)`,
    });
    return { ok: false, checks, missingPrivilege: 'CREATE USER' };
  } finally {
    await connection?.end().catch(() => undefined);
  }
}

async function probePostgres(
  spec: Pick<ConnectionSpec, 'host' | 'port' | 'database' | 'tls'>,
  credential: ConnectionCredential,
): Promise<ProbeResult> {
  const where = `${spec.host}:${spec.port}/${spec.database ?? 'postgres'}`;
  const client = new pg.Client({
    host: spec.host,
    port: spec.port,
    database: spec.database ?? 'postgres',
    ssl: tlsOptions(spec.tls, spec.host),
    user: credential.username,
    password: credential.password,
    connectionTimeoutMillis: CONNECT_TIMEOUT_MS,
  });
  client.on('error', () => undefined);
  const checks: ProbeCheck[] = [];
  try {
    try {
      await client.connect();
    } catch (err) {
      const code = codeOf(err);
      // 28P01/28000: the server answered, and refused the login.
      if (code === '28P01' || code === '28000') {
        checks.push({ check: 'reach', ok: true, detail: `reached ${where}` });
        checks.push({
          check: 'login',
          ok: false,
          detail: `the server refused ${credential.username}'s login (${code})`,
        });
      } else {
        checks.push({ check: 'reach', ok: false, detail: `could not reach ${where} (${code})` });
      }
      return { ok: false, checks };
    }
    checks.push({ check: 'reach', ok: true, detail: `reached ${where}` });
    checks.push({ check: 'login', ok: true, detail: `logged in as ${credential.username}` });
    const { rows } = await client.query<{ rolcreaterole: boolean; rolsuper: boolean }>(
      'select rolcreaterole, rolsuper from pg_roles where rolname = current_user',
    );
    const row = rows[0];
    if (row?.rolcreaterole || row?.rolsuper) {
      checks.push({ check: 'privilege', ok: true, detail: 'has CREATEROLE' });
      return { ok: true, checks };
    }
    checks.push({
      check: 'privilege',
      ok: false,
      detail: `${credential.username} lacks CREATEROLE (ALTER ROLE … PASSWORD needs it, with ADMIN OPTION on each managed role)`,
    });
    return { ok: false, checks, missingPrivilege: 'CREATEROLE' };
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function probeRedis(
  spec: Pick<ConnectionSpec, 'host' | 'port' | 'tls'>,
  credential: ConnectionCredential,
): Promise<ProbeResult> {
  const where = `${spec.host}:${spec.port}`;
  const checks: ProbeCheck[] = [];
  let stage: 'reach' | 'login' = 'reach';
  try {
    return await withRedisSession(
      spec,
      {
        username: credential.username,
        password: credential.password,
      },
      async (client) => {
        stage = 'login';
        checks.push({ check: 'reach', ok: true, detail: `reached ${where}` });
        checks.push({ check: 'login', ok: true, detail: `logged in as ${credential.username}` });
        const needed: [string, string[]][] = [
          ['acl|getuser', ['GETUSER', credential.username]],
          ['acl|setuser', ['SETUSER', credential.username]],
        ];
        for (const [privilege, args] of needed) {
          try {
            await client.call('ACL', ...args);
          } catch (err) {
            if (codeOf(err) !== 'NOPERM') throw err;
            checks.push({
              check: 'privilege',
              ok: false,
              detail: `${credential.username} may not run ${privilege.replace('|', ' ').toUpperCase()} (grant +${privilege})`,
            });
            return { ok: false, checks, missingPrivilege: `+${privilege}` };
          }
        }
        checks.push({
          check: 'privilege',
          ok: true,
          detail: 'may run ACL GETUSER and ACL SETUSER',
        });
        return { ok: true, checks };
      },
    );
  } catch (err) {
    const code = codeOf(err);
    // withRedisSession connects, then AUTHs: an error reply to AUTH means the server was reached.
    if (stage === 'reach' && (code === 'WRONGPASS' || code === 'ERR' || code === 'NOAUTH')) {
      checks.push({ check: 'reach', ok: true, detail: `reached ${where}` });
      checks.push({
        check: 'login',
        ok: false,
        detail: `the server refused ${credential.username}'s login (${code})`,
      });
    } else if (stage === 'reach') {
      checks.push({ check: 'reach', ok: false, detail: `could not reach ${where} (${code})` });
    } else {
      checks.push({ check: 'privilege', ok: false, detail: `the server answered ${code}` });
    }
    return { ok: false, checks };
  }
}

/**
 * A user name IAM accepts in a request (1-128 characters) but no user can have (at most 64): the
 * probe's write actions are authorised against it, and can never change anything.
 */
const PROBE_USER = `rotor-connection-probe-${'x'.repeat(48)}`;

/** The IAM actions a rotation needs, in the order it needs them, with a harmless probe each. */
const AWS_ACTIONS: [string, () => object][] = [
  ['iam:ListAccessKeys', () => new ListAccessKeysCommand({ UserName: PROBE_USER })],
  ['iam:CreateAccessKey', () => new CreateAccessKeyCommand({ UserName: PROBE_USER })],
  [
    'iam:UpdateAccessKey',
    () =>
      new UpdateAccessKeyCommand({
        UserName: PROBE_USER,
        AccessKeyId: 'AKIAROTORPROBE000000',
        Status: 'Inactive',
      }),
  ],
  [
    'iam:DeleteAccessKey',
    () => new DeleteAccessKeyCommand({ UserName: PROBE_USER, AccessKeyId: 'AKIAROTORPROBE000000' }),
  ],
];

const AWS_LOGIN_REFUSED = new Set([
  'InvalidClientTokenId',
  'SignatureDoesNotMatch',
  'UnrecognizedClientException',
  'ExpiredToken',
]);
const AWS_DENIED = new Set(['AccessDenied', 'AccessDeniedException']);

/** An AWS SDK error's code, and whether the server answered at all (a network error has no status). */
function awsOutcome(err: unknown): { code: string; answered: boolean } {
  const e = err as { name?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const answered = typeof e.$metadata?.httpStatusCode === 'number';
  return { code: (answered ? e.name : (e.code ?? e.name)) ?? 'error', answered };
}

/**
 * AWS (or an AWS-compatible server): STS GetCallerIdentity with Rotor's access key proves the
 * endpoint answers and the key authenticates; then each IAM action a rotation needs is asked for
 * a user that cannot exist, so AWS authorises it (AccessDenied names a missing permission) and then
 * finds no such user: nothing is read or changed. A policy limited to a path of users denies that
 * user too; the first rotation then names any missing action on the real one.
 */
async function probeAws(
  spec: Pick<ConnectionSpec, 'host' | 'port' | 'aws'>,
  credential: ConnectionCredential,
): Promise<ProbeResult> {
  const where = spec.aws?.endpoint ?? `AWS (${spec.aws?.region ?? 'no region'})`;
  const key = { accessKeyId: credential.username, secretAccessKey: credential.password };
  const checks: ProbeCheck[] = [];
  const sts = new STSClient(awsClientConfig(spec, key));
  const iam = new IAMClient(awsClientConfig(spec, key));
  try {
    let arn: string | undefined;
    try {
      arn = (await sts.send(new GetCallerIdentityCommand({}))).Arn;
    } catch (err) {
      const { code, answered } = awsOutcome(err);
      if (!answered) {
        checks.push({ check: 'reach', ok: false, detail: `could not reach ${where} (${code})` });
        return { ok: false, checks };
      }
      checks.push({ check: 'reach', ok: true, detail: `reached ${where}` });
      checks.push({
        check: 'login',
        ok: false,
        detail: AWS_LOGIN_REFUSED.has(code)
          ? `AWS refused access key ${credential.username} (${code})`
          : `sts:GetCallerIdentity with access key ${credential.username} failed (${code})`,
      });
      return { ok: false, checks };
    }
    checks.push({ check: 'reach', ok: true, detail: `reached ${where}` });
    checks.push({
      check: 'login',
      ok: true,
      detail: `access key ${credential.username} is ${arn ?? 'an unnamed principal'}`,
    });
    for (const [action, command] of AWS_ACTIONS) {
      try {
        await iam.send(command() as never);
      } catch (err) {
        const { code } = awsOutcome(err);
        if (code === 'NoSuchEntity' || code === 'NoSuchEntityException') continue;
        if (AWS_DENIED.has(code)) {
          checks.push({
            check: 'privilege',
            ok: false,
            detail: `${arn ?? credential.username} may not call ${action} (grant it in Rotor's IAM policy; see the README)`,
          });
          return { ok: false, checks, missingPrivilege: action };
        }
        checks.push({ check: 'privilege', ok: false, detail: `${action} answered ${code}` });
        return { ok: false, checks };
      }
    }
    checks.push({
      check: 'privilege',
      ok: true,
      detail: `may call ${AWS_ACTIONS.map(([a]) => a).join(', ')}`,
    });
    return { ok: true, checks };
  } finally {
    sts.destroy();
    iam.destroy();
  }
}
