import type { Kysely, Updateable } from 'kysely';
import type { RotationStatus } from '../../domain';
import type { AuditEntry } from '../../audit';
import { appendAudit } from '../../audit';
import type { Database, RotationsTable, SecretUpdate } from '../../db/schema';

/** The audit row of a step; the actor is Rotor itself unless named. */
export type StepAudit = Pick<
  AuditEntry,
  'action' | 'outcome' | 'details' | 'idempotencyKey' | 'origin'
> & {
  actor?: string;
};

export interface RotationStep {
  rotationId: string;
  secretId: string;
  tenantId: string;
  /** The rotation's new status; its row is left alone when absent. */
  status?: RotationStatus;
  /** Other columns of the rotation's row set with the status (to_version, error_type…). */
  rotation?: Omit<Updateable<RotationsTable>, 'status'>;
  /** Columns to set on the secret's row; its row is left alone when absent. */
  secret?: SecretUpdate;
  /** Only touch the secret's row while this column still holds this version. */
  secretIf?: { column: 'pending_version' | 'previous_version'; equals: number };
  /** The audit row, appended to the tenant's chain (none when absent). */
  audit?: StepAudit;
}

/**
 * Records one step of a rotation in the engine database: the rotation's status, the secret's
 * columns and the audit row, in one transaction, so a crash leaves all of them or none. Callers do
 * their Vault and target I/O first and call this last. Idempotent as each write is: the updates
 * set fixed values, and the audit row is written once per idempotency key.
 */
export async function recordRotationStep(db: Kysely<Database>, step: RotationStep): Promise<void> {
  await recordRotationSteps(db, [step]);
}

/**
 * Records consecutive steps of one rotation (promoted, then finished) in one transaction, as if
 * each were recorded in turn: later columns win, and the audit rows follow in the steps' order.
 */
export async function recordRotationSteps(
  db: Kysely<Database>,
  steps: RotationStep[],
  /**
   * More written in the same transaction (promote's "rotation completed" outbox row), before the
   * audit rows: the chain's lock is taken last, and held no longer than it was.
   */
  also?: (trx: Kysely<Database>) => Promise<void>,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    // Rotation, then secret, then the chain's lock: the order every recording transaction uses.
    for (const step of steps) {
      if (step.status === undefined) continue;
      await trx
        .updateTable('rotations')
        .set({ ...step.rotation, status: step.status })
        .where('id', '=', step.rotationId)
        .execute();
    }
    for (const step of steps) {
      if (!step.secret) continue;
      let update = trx.updateTable('secrets').set(step.secret).where('id', '=', step.secretId);
      if (step.secretIf) update = update.where(step.secretIf.column, '=', step.secretIf.equals);
      await update.execute();
    }
    await also?.(trx);
    for (const step of steps) {
      if (!step.audit) continue;
      const { actor, ...audit } = step.audit;
      await appendAudit(trx, {
        tenantId: step.tenantId,
        secretId: step.secretId,
        rotationId: step.rotationId,
        actor: actor ?? 'rotor',
        ...audit,
      });
    }
  });
}
