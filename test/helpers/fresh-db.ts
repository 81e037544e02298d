import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb, migrateOrThrow } from '../../db';
import type { Database } from '../../db';
import type { Kysely } from 'kysely';
import '../setup/stack-info';

/**
 * Runs `fn` against a new, migrated engine database of its own, dropped afterwards: for tests
 * whose subject is "the first time" (bootstrap), which the run's shared database cannot promise.
 */
export async function withFreshDatabase(
  fn: (db: Kysely<Database>) => Promise<void>,
): Promise<void> {
  const name = `rotor_fresh_${randomUUID().replace(/-/g, '').slice(0, 12)}`;
  const admin = new pg.Client({ connectionString: inject('stack').postgresAdminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(inject('stack').postgresAdminUrl);
  url.pathname = `/${name}`;
  const db = createDb(url.toString(), { max: 2 });
  try {
    await migrateOrThrow(db);
    await fn(db);
  } finally {
    await db.destroy();
    await admin.query(`drop database ${name}`);
    await admin.end();
  }
}
