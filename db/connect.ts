import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { Database } from './schema';

// bigserial ids arrive as strings by default; keep them strings (they can exceed 2^53).
export function createDb(databaseUrl: string, options: { max?: number } = {}): Kysely<Database> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
  // A client losing its server must not crash the process, idle (the pool's event) or checked out
  // between two queries of a transaction (the client's own event); the next query reports it.
  pool.on('error', () => undefined);
  pool.on('connect', (client) => client.on('error', () => undefined));
  return new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
}
