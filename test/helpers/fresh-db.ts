import { randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, migrateOrThrow } from '../../db';
import type { Database } from '../../db';
import '../setup/stack-info';

/** A database of the run's PostgreSQL that only the caller uses, dropped by `drop()`. */
export interface FreshDatabase {
  url: string;
  db: Kysely<Database>;
  /** Runs `statements` as superuser with triggers off: how an attacker with the keys would edit. */
  tamper(statements: (trx: Kysely<Database>) => Promise<unknown>): Promise<void>;
  drop(): Promise<void>;
}

export async function createFreshDatabase(prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const adminUrl = inject('stack').postgresAdminUrl;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), { max: 10 });
  const superuser = new Kysely<Database>({
    dialect: new PostgresDialect({
      pool: new pg.Pool({ connectionString: url.toString(), max: 1 }),
    }),
  });
  return {
    url: url.toString(),
    db,
    async tamper(statements) {
      await superuser.transaction().execute(async (trx) => {
        // Superuser only: ordinary triggers (the append-only guard among them) do not fire.
        await sql`set local session_replication_role = replica`.execute(trx);
        await statements(trx);
      });
    },
    async drop() {
      await db.destroy();
      await superuser.destroy();
      const again = new pg.Client({ connectionString: adminUrl });
      await again.connect();
      await again.query(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}

export interface MigratedDatabase {
  /** A connection URL for the new database. */
  url: string;
  /** Drops it (closing any connection still open). */
  drop(): Promise<void>;
}

/**
 * A new, migrated engine database on the run's PostgreSQL server, for tests that must not see or
 * touch other test files' rows: "the first time" (bootstrap), or a fuzzer let loose as admin.
 */
export async function createMigratedDatabase(): Promise<MigratedDatabase> {
  const name = `rotor_fresh_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const adminUrl = inject('stack').postgresAdminUrl;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), { max: 1 });
  try {
    await migrateOrThrow(db);
  } finally {
    await db.destroy();
  }
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: adminUrl });
      await client.connect();
      try {
        await client.query(`drop database if exists ${name} with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** Runs `fn` against a fresh engine database, dropped afterwards. */
export async function withFreshDatabase(
  fn: (db: Kysely<Database>) => Promise<void>,
): Promise<void> {
  const fresh = await createMigratedDatabase();
  const db = createDb(fresh.url, { max: 2 });
  try {
    await fn(db);
  } finally {
    await db.destroy();
    await fresh.drop();
  }
}
