import { sql } from 'kysely';
import { RotationStatus, SecretState } from '../../domain';
import type { ActivityDeps } from '../deps';

export interface BulkOutcomes {
  completed: number;
  failed: number;
  awaitingApproval: number;
  /** Supplied types waiting for their owner's value (OAuth secrets, certificates). */
  awaitingValue: number;
}

const FAILED: readonly string[] = [
  RotationStatus.Failed,
  RotationStatus.Compensated,
  RotationStatus.Rejected,
  RotationStatus.ApprovalExpired,
];

/** Counts a bulk batch's rotations by outcome, from the rotation rows carrying its id. */
export function createCountBulkOutcomes({ db }: Pick<ActivityDeps, 'db'>) {
  return async function countBulkOutcomes(input: { batchId: string }): Promise<BulkOutcomes> {
    const rows = await db
      .selectFrom('rotations as r')
      .innerJoin('secrets as s', 's.id', 'r.secret_id')
      .select(['r.status', 's.state', sql<string>`count(*)`.as('n')])
      .where('r.bulk_id', '=', input.batchId)
      .groupBy(['r.status', 's.state'])
      .execute();
    const count = (accept: (status: string, state: string) => boolean): number =>
      rows.filter((r) => accept(r.status, r.state)).reduce((sum, r) => sum + Number(r.n), 0);
    return {
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
  };
}
