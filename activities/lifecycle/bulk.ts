import { sql } from 'kysely';
import type { ActivityDeps } from '../deps';

/** Counts a bulk batch's rotations by outcome, from the rotation rows tagged with its id. */
export function createCountBulkOutcomes({ db }: Pick<ActivityDeps, 'db'>) {
  return async function countBulkOutcomes(input: {
    batchId: string;
  }): Promise<{ completed: number; failed: number; awaitingApproval: number }> {
    const rows = await db
      .selectFrom('rotations')
      .select(['status', sql<string>`count(*)`.as('n')])
      .where('reason', 'like', `% (bulk ${input.batchId})`)
      .groupBy('status')
      .execute();
    const count = (...statuses: string[]): number =>
      rows.filter((r) => statuses.includes(r.status)).reduce((sum, r) => sum + Number(r.n), 0);
    return {
      completed: count('COMPLETED'),
      failed: count('FAILED', 'COMPENSATED', 'REJECTED', 'APPROVAL_EXPIRED'),
      awaitingApproval: count('AWAITING_APPROVAL'),
    };
  };
}
