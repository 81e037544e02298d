import { sql } from 'kysely';
import type { Kysely } from 'kysely';
import type { Database } from '../db';
import { RotationStatus, SecretState } from '../domain';

export interface BulkOutcomes {
  completed: number;
  failed: number;
  awaitingApproval: number;
  /** Supplied types waiting for their owner's value (OAuth secrets, certificates). */
  awaitingValue: number;
}

/** The outcomes, and how many of the batch's rotations have begun at all (have a row). */
export interface BulkCounts extends BulkOutcomes {
  begun: number;
}

const FAILED: readonly string[] = [
  RotationStatus.Failed,
  RotationStatus.Compensated,
  RotationStatus.Rejected,
  RotationStatus.ApprovalExpired,
];

/**
 * What a bulk batch's rotations have come to, by outcome, from the rotation rows carrying its
 * id: one indexed query, read by the API for progress and by batches run by older code.
 */
export async function countBulkOutcomes(
  db: Kysely<Database>,
  batchId: string,
): Promise<BulkCounts> {
  const rows = await db
    .selectFrom('rotations as r')
    .innerJoin('secrets as s', 's.id', 'r.secret_id')
    .select(['r.status', 's.state', sql<string>`count(*)`.as('n')])
    .where('r.bulk_id', '=', batchId)
    .groupBy(['r.status', 's.state'])
    .execute();
  const count = (accept: (status: string, state: string) => boolean): number =>
    rows.filter((r) => accept(r.status, r.state)).reduce((sum, r) => sum + Number(r.n), 0);
  return {
    begun: count(() => true),
    completed: count((status) => status === RotationStatus.Completed),
    failed: count((status) => FAILED.includes(status)),
    awaitingApproval: count((status) => status === RotationStatus.AwaitingApproval),
    // A supplied type's rotation stays REQUESTED while its secret waits for the value.
    awaitingValue: count(
      (status, state) =>
        status === RotationStatus.Requested &&
        (state === SecretState.AwaitingValue || state === SecretState.Overdue),
    ),
  };
}
