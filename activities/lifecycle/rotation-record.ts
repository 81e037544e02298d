import type { Kysely } from 'kysely';
import { RotationStatus, withoutControlCharacters } from '../../domain';
import type { RequestOrigin } from '../../domain';
import { appendAudit } from '../../audit';
import type { Database } from '../../db/schema';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';
import { recordRotationStep } from './record-step';
import type { RotationStep } from './record-step';

export interface BeginRotationInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  reason: string;
  requestedBy: string;
  fromVersion: number | null;
  /** The bulk batch that asked for it, if any. */
  bulkId?: string;
  /** Where the API request that asked for it came from (rotate-now, break-glass, retry). */
  origin?: RequestOrigin;
}

export interface FinishRotationInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  status: RotationStatus;
  /** The secret's state after this rotation (ACTIVE, IN_GRACE, NEEDS_ATTENTION…). */
  secretState: string;
  toVersion?: number | null;
  errorType?: string | null;
  nextRotationAt?: string | null;
  actor: string;
  /** Where the API request that asked for this rotation came from (none for a scheduled one). */
  origin?: RequestOrigin;
  /**
   * The rotation's begin, when it was folded into its stage (`fold-begin-next-v1`): recorded
   * first if it is not yet (idempotent), so a failed or fallen-back rotation always has its row.
   */
  begin?: BeginRotationInput;
}

/**
 * What finishing a rotation writes: its final status and time, the secret's state and next
 * rotation, and the `rotation.<status>` audit row (once per rotation, by its idempotency key).
 * Recorded alone by finishRotation, or with the promote it follows (promoteVersion's `finish`).
 */
export function finishStep(input: FinishRotationInput, now: Date): RotationStep {
  return {
    rotationId: input.rotationId,
    secretId: input.secretId,
    tenantId: input.tenantId,
    status: input.status,
    rotation: {
      to_version: input.toVersion ?? null,
      error_type: input.errorType ?? null,
      completed_at: now,
    },
    secret: {
      state: input.secretState,
      last_error_type: input.errorType ?? null,
      next_rotation_at: input.nextRotationAt ?? null,
      updated_at: now,
    },
    audit: {
      actor: input.actor,
      action: `rotation.${input.status.toLowerCase()}`,
      outcome: input.errorType ? 'failure' : 'success',
      details: {
        toVersion: input.toVersion ?? null,
        errorType: input.errorType ?? null,
        state: input.secretState,
      },
      idempotencyKey: `${input.rotationId}:finished`,
      origin: input.origin,
    },
  };
}

/**
 * A rotation's row (REQUESTED) and its `rotation.requested` audit row. Idempotent by rotation id:
 * recorded by beginRotation, or by the stage it was folded into, or by a finish that finds it
 * missing.
 */
export async function recordBegin(db: Kysely<Database>, raw: BeginRotationInput): Promise<void> {
  const input = {
    ...raw,
    // PostgreSQL refuses NUL in text. The API and the workflow refuse control characters first;
    // this keeps an older request from failing forever.
    reason: withoutControlCharacters(raw.reason),
    requestedBy: withoutControlCharacters(raw.requestedBy),
  };
  await db
    .insertInto('rotations')
    .values({
      id: input.rotationId,
      secret_id: input.secretId,
      status: RotationStatus.Requested,
      reason: input.reason,
      requested_by: input.requestedBy,
      from_version: input.fromVersion,
      bulk_id: input.bulkId ?? null,
      started_at: new Date(),
    })
    .onConflict((oc) => oc.column('id').doNothing())
    .execute();
  await appendAudit(db, {
    tenantId: input.tenantId,
    secretId: input.secretId,
    rotationId: input.rotationId,
    actor: input.requestedBy,
    action: 'rotation.requested',
    outcome: 'info',
    details: { reason: input.reason, fromVersion: input.fromVersion },
    idempotencyKey: `${input.rotationId}:requested`,
    origin: input.origin,
  });
  activityLog().info('Rotation requested', {
    requestedBy: input.requestedBy,
    fromVersion: input.fromVersion,
  });
}

/** The rotation's row and audit trail. Both are idempotent by rotation id. */
export function createRotationRecords({ db }: Pick<ActivityDeps, 'db'>) {
  return {
    async beginRotation(input: BeginRotationInput): Promise<void> {
      await recordBegin(db, input);
    },

    async finishRotation(input: FinishRotationInput): Promise<void> {
      // A rotation whose begin was folded into a stage that never recorded it (the database was
      // down for every attempt) gets its row and `rotation.requested` first, in the usual order.
      if (input.begin) await recordBegin(db, input.begin);
      await recordRotationStep(db, finishStep(input, new Date()));
      activityLog()[input.errorType ? 'warn' : 'info']('Rotation finished', {
        status: input.status,
        secretState: input.secretState,
        toVersion: input.toVersion ?? null,
        errorType: input.errorType ?? null,
      });
    },
  };
}
