// `npm run migrate`: applies pending migrations to DATABASE_URL and exits non-zero on error.
import { createDb, migrateToLatest } from '../db';

async function main(): Promise<number> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    process.stderr.write('DATABASE_URL is required but not set (see .env.example)\n');
    return 78;
  }
  const db = createDb(url, { max: 1 });
  try {
    const { error, results } = await migrateToLatest(db);
    for (const r of results ?? []) {
      process.stdout.write(
        `${r.status === 'Success' ? 'applied' : r.status}: ${r.migrationName}\n`,
      );
    }
    if (error) {
      process.stderr.write(
        `migration failed: ${error instanceof Error ? error.message : JSON.stringify(error)}\n`,
      );
      return 1;
    }
    if (!results?.length) process.stdout.write('database is up to date\n');
    return 0;
  } finally {
    await db.destroy();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`migration failed: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
