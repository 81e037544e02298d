import { countBulkOutcomes as countOutcomes } from '../../reports';
import type { BulkOutcomes } from '../../reports';
import type { ActivityDeps } from '../deps';

export type { BulkOutcomes };

/**
 * Counts a bulk batch's rotations by outcome. Only batches run by code from before the batch
 * row (migration 0020) still call it; progress is now read by the API from the database.
 */
export function createCountBulkOutcomes({ db }: Pick<ActivityDeps, 'db'>) {
  return async function countBulkOutcomes(input: { batchId: string }): Promise<BulkOutcomes> {
    // Only the outcomes: the older batch assigns the answer onto the progress it reports.
    const { completed, failed, awaitingApproval, awaitingValue } = await countOutcomes(
      db,
      input.batchId,
    );
    return { completed, failed, awaitingApproval, awaitingValue };
  };
}

export interface BulkSignalled {
  batchId: string;
  tenantId: string | null;
  total: number;
  requestedBy: string;
  /** Secrets whose lifecycle took the rotate-now signal. */
  requested: number;
  /** Secrets whose lifecycle could not be signalled (retired or gone). */
  unreachable: number;
}

/**
 * Records that a batch has asked every secret, and how many it reached. An upsert: the API
 * writes the row when it starts the batch, but a batch begun by older code has none.
 */
export function createRecordBulkSignalled({ db }: Pick<ActivityDeps, 'db'>) {
  return async function recordBulkSignalled(input: BulkSignalled): Promise<void> {
    await db
      .insertInto('bulk_batches')
      .values({
        id: input.batchId,
        tenant_id: input.tenantId,
        total: input.total,
        requested: input.requested,
        unreachable: input.unreachable,
        requested_by: input.requestedBy,
      })
      .onConflict((oc) =>
        oc.column('id').doUpdateSet({ requested: input.requested, unreachable: input.unreachable }),
      )
      .execute();
  };
}
