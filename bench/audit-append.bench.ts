// `node --import tsx bench/audit-append.bench.ts [--appends N] [--concurrency C] [--fast]`:
// appends N audit rows for ONE tenant, C at a time, against a fresh PostgreSQL (durable by
// default: fsync on, as in production; --fast turns fsync off as the tests do), then verifies
// the chain. Prints appends/s; nothing is asserted.
import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { appendAudit, verifyAuditTrail } from '../audit';
import { createDb, migrateOrThrow } from '../db';
import { freePort } from '../devstack';
import { startPostgres } from '../devstack/postgres';

const arg = (name: string, fallback: number): number =>
  Number(new RegExp(`--${name}[= ](\\d+)`).exec(process.argv.join(' '))?.[1] ?? fallback);
const N = arg('appends', 2000);
const CONCURRENCY = arg('concurrency', 200);
const FAST = process.argv.includes('--fast');

/** One transaction per append, as the lifecycle's recording steps do (a row update, then audit). */
async function main(): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'rotor-audit-bench-'));
  await chmod(dir, 0o711);
  const server = await startPostgres({
    port: await freePort(),
    dataDir: path.join(dir, 'postgres'),
    logFile: path.join(dir, 'postgres.log'),
    databases: ['rotor_bench'],
    fast: FAST,
  });
  const db = createDb(server.urlFor('rotor_bench'), { max: Math.min(CONCURRENCY, 50) });
  try {
    await migrateOrThrow(db);
    const tenant = `bench-${randomUUID().slice(0, 8)}`;
    const run = async (label: string, inTransaction: boolean): Promise<void> => {
      let next = 0;
      const started = performance.now();
      await Promise.all(
        Array.from({ length: CONCURRENCY }, async () => {
          while (next < N) {
            next += 1;
            const entry = {
              tenantId: tenant,
              actor: 'bench',
              action: 'bench.append',
              outcome: 'info' as const,
              details: { n: next },
              idempotencyKey: randomUUID(),
            };
            if (inTransaction)
              await db.transaction().execute(async (trx) => {
                await trx.selectFrom('tenants').select('id').where('id', '=', tenant).execute();
                await appendAudit(trx, entry);
              });
            else await appendAudit(db, entry);
          }
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      process.stdout.write(
        `audit ${label.padEnd(34)} ${N} appends, ${CONCURRENCY} concurrent, one tenant: ${(N / seconds).toFixed(0)}/s (${seconds.toFixed(1)} s)\n`,
      );
    };
    await run('appendAudit(db)', false);
    await run('appendAudit(trx) in a transaction', true);
    const report = await verifyAuditTrail(db, { tenantId: tenant });
    process.stdout.write(
      `audit verify: ${report.ok ? 'ok' : 'BROKEN'}, ${report.chains[0]?.rows ?? 0} rows (${FAST ? 'fsync off' : 'fsync on'})\n`,
    );
  } finally {
    await db.destroy();
    await server.stop();
    await rm(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
