import { ApplicationFailure } from '@temporalio/common';
import type { Kysely } from 'kysely';
import { ErrorType } from '../../domain';
import type { Database } from '../../db/schema';
import { AuditChainBrokenError, archiveAuditEvents } from '../../audit';

export interface RetentionInput {
  /** Audit rows older than this move to the archive, behind a checkpoint. */
  olderThanSeconds: number;
}

/**
 * The retention policy's one step, run by a Temporal Schedule: archive what is older than the
 * retention period. A chain that does not verify is not archived (that would bury the
 * tampering in a checkpoint); the run fails for good and says which chain.
 */
export function createRetentionActivities({ db }: { db: Kysely<Database> }) {
  return {
    async archiveExpiredAudit(input: RetentionInput): Promise<{ rows: number; chains: number }> {
      try {
        const result = await archiveAuditEvents(db, {
          before: new Date(Date.now() - input.olderThanSeconds * 1000),
          actor: 'rotor-retention',
        });
        return { rows: result.rows, chains: result.chains.length };
      } catch (err) {
        if (err instanceof AuditChainBrokenError)
          throw ApplicationFailure.nonRetryable(err.message, ErrorType.AuditChainBroken);
        throw err;
      }
    },
  };
}
