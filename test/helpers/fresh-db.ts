import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, migrateOrThrow } from '../../db';
import type { Database } from '../../db';
import type { Kysely } from 'kysely';
import '../setup/stack-info';

export interface FreshDatabase {
  /** A connection URL for the new database. */
  url: string;
  /** Drops it (closing any connection still open). */
  drop(): Promise<void>;
}

/**
 * A new, migrated engine database on the run's PostgreSQL server, for tests that must not see or
 * touch other test files' rows: "the first time" (bootstrap), or a fuzzer let loose as admin.
 */
export async function createFreshDatabase(): Promise<FreshDatabase> {
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
  const fresh = await createFreshDatabase();
  const db = createDb(fresh.url, { max: 2 });
  try {
    await fn(db);
  } finally {
    await db.destroy();
    await fresh.drop();
  }
}
