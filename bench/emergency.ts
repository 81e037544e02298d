import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../db';
import { RotationStatus } from '../domain';
import { progress } from './report';

async function promotedInBatch(db: Kysely<Database>, batchId: string): Promise<number> {
  const row = await db
    .selectFrom('rotations')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('bulk_id', '=', batchId)
    .where('status', 'in', [RotationStatus.Promoted, RotationStatus.Completed])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/**
 * Emergency: one bulk request to the API (`POST /api/v1/rotations/bulk` for the tenant), then
 * the time until every secret of the batch is promoted, taken from the last promotion's audit
 * row. Progress every 5 seconds: the API's own batch progress and the promotions counted.
 */
export async function bulkRotateViaApi(options: {
  apiUrl: string;
  adminToken: string;
  db: Kysely<Database>;
  tenantId: string;
  expected: number;
}): Promise<{ seconds: number; total: number }> {
  const headers = {
    authorization: `Bearer ${options.adminToken}`,
    'content-type': 'application/json',
  };
  const started = Date.now();
  const res = await fetch(`${options.apiUrl}/api/v1/rotations/bulk`, {
    method: 'POST',
    headers,
    body: JSON.stringify({ tenantId: options.tenantId, reason: 'bench emergency' }),
  });
  if (res.status !== 202)
    throw new Error(`bulk request answered ${res.status}: ${await res.text()}`);
  const { batchId, total } = (await res.json()) as { batchId: string; total: number };
  if (total !== options.expected) {
    throw new Error(`the bulk request covered ${total} secrets, expected ${options.expected}`);
  }
  let lastReport = started;
  for (;;) {
    const promoted = await promotedInBatch(options.db, batchId);
    if (promoted >= total) break;
    if (Date.now() - lastReport >= 5000) {
      lastReport = Date.now();
      const api = await fetch(`${options.apiUrl}/api/v1/rotations/bulk/${batchId}`, { headers })
        .then((r) => r.json() as Promise<{ requested?: number; completed?: number }>)
        .catch(() => ({ requested: undefined, completed: undefined }));
      const elapsed = (lastReport - started) / 1000;
      progress(
        `emergency: ${promoted}/${total} promoted after ${elapsed.toFixed(0)} s` +
          ` (${(promoted / elapsed).toFixed(1)}/s; the API reports ${api.requested ?? '?'} requested, ${api.completed ?? '?'} completed)`,
      );
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  // The exact end: the newest promotion's audit row, found through the unique idempotency key.
  const last = await sql<{ at: Date }>`
    select max(a.occurred_at) as at from rotations r
    join audit_events a on a.idempotency_key = r.id || ':promoted'
    where r.bulk_id = ${batchId}`.execute(options.db);
  const end = last.rows[0]?.at.getTime() ?? Date.now();
  return { seconds: (end - started) / 1000, total };
}
