import { randomUUID } from 'node:crypto';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { createDb } from '../../db';
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
