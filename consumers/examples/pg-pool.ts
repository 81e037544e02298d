// A pg.Pool whose credentials follow Rotor's rotations. Copy it next to the library and adapt.
//
//   const db = createRotatingPool({
//     reader: createRotorReader({ vaultAddr: process.env.VAULT_ADDR!, token: process.env.VAULT_TOKEN! }),
//     tenant: 'acme',
//     name: 'orders-db',
//     pool: { host: 'db.internal', database: 'orders', max: 10 },
//   });
//   const { rows } = await db.query('select 1');
//
// How it follows a rotation: every query takes the current credential (from the reader's cache).
// A new version gets a new pool, and the old one is drained (its open connections stay valid:
// PostgreSQL checks a password only at login). If a login is refused with SQLSTATE 28P01, the
// reader re-reads Vault and the query is retried with what is current now, waiting up to 0.8 s for
// a rotation that is being promoted (the single-role strategy's short window). With the alternating
// strategy the previous role keeps working through grace, so no query waits.
import pg from 'pg';
import type { Credential, FreshCredentialOptions, RotorReader } from '../index';

export interface RotatingPoolOptions {
  reader: RotorReader;
  tenant: string;
  name: string;
  /** Everything but user and password, which come from Rotor. */
  pool: Omit<pg.PoolConfig, 'user' | 'password'>;
  onRetry?: FreshCredentialOptions['onRetry'];
}

export interface RotatingPool {
  query<R extends pg.QueryResultRow = pg.QueryResultRow>(
    text: string,
    values?: unknown[],
  ): Promise<pg.QueryResult<R>>;
  end(): Promise<void>;
}

export function createRotatingPool(options: RotatingPoolOptions): RotatingPool {
  const { reader, tenant, name } = options;
  let current: { version: number; pool: pg.Pool } | undefined;
  const draining = new Set<Promise<void>>();

  const poolFor = (credential: Credential): pg.Pool => {
    if (current?.version === credential.version) return current.pool;
    const old = current;
    const pool = new pg.Pool({
      ...options.pool,
      ...(credential.username === undefined ? {} : { user: credential.username }),
      password: credential.value,
    });
    // An idle client that dies (server restart) must not crash the process.
    pool.on('error', () => undefined);
    current = { version: credential.version, pool };
    if (old) {
      const ending = old.pool.end().catch(() => undefined);
      draining.add(ending);
      void ending.finally(() => draining.delete(ending));
    }
    return pool;
  };

  return {
    query<R extends pg.QueryResultRow>(text: string, values?: unknown[]) {
      return reader.withFreshCredential(
        tenant,
        name,
        (credential) => poolFor(credential).query<R>(text, values),
        // pg reports a refused password as SQLSTATE 28P01 (invalid_password).
        {
          isAuthFailure: (err) => (err as { code?: unknown }).code === '28P01',
          ...(options.onRetry ? { onRetry: options.onRetry } : {}),
        },
      );
    },
    async end() {
      const last = current;
      current = undefined;
      await Promise.all([last?.pool.end(), ...draining]);
    },
  };
}
