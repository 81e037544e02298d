import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recordRotationStep, recordRotationSteps } from '../../activities/lifecycle/record-step';
import { createRotationRecords } from '../../activities/lifecycle/rotation-record';
import { migrateOrThrow } from '../../db';
import { RotationStatus, SecretState } from '../../domain';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { uniqueName } from '../helpers/stack';

describe('the rotation-step recorder', () => {
  let fresh: FreshDatabase;
  beforeAll(async () => {
    fresh = await createFreshDatabase('rotor_step');
    await migrateOrThrow(fresh.db);
  });
  afterAll(async () => fresh?.drop());

  /** A tenant with one secret (pending version 3) and one requested rotation. */
  async function rotation() {
    const tenantId = uniqueName('step');
    await fresh.db.insertInto('tenants').values({ id: tenantId, name: tenantId }).execute();
    const { id: secretId } = await fresh.db
      .insertInto('secrets')
      .values({
        tenant_id: tenantId,
        name: 'key',
        type: 'api-key',
        policy: JSON.stringify({}),
        state: SecretState.Rotating,
        workflow_id: `secret/${tenantId}/key`,
        vault_path: `rotor/${tenantId}/key`,
        pending_version: 3,
        updated_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const rotationId = randomUUID();
    await fresh.db
      .insertInto('rotations')
      .values({
        id: rotationId,
        secret_id: secretId,
        status: RotationStatus.Requested,
        reason: 'test',
        requested_by: 'alice@example.com',
        from_version: 2,
      })
      .execute();
    return { tenantId, secretId, rotationId };
  }

  const rows = async (ids: { secretId: string; rotationId: string }) => ({
    rotation: await fresh.db
      .selectFrom('rotations')
      .select(['status', 'to_version'])
      .where('id', '=', ids.rotationId)
      .executeTakeFirstOrThrow(),
    secret: await fresh.db
      .selectFrom('secrets')
      .select(['pending_version', 'state'])
      .where('id', '=', ids.secretId)
      .executeTakeFirstOrThrow(),
    audit: await fresh.db
      .selectFrom('audit_events')
      .select(['actor', 'action', 'outcome', 'details', 'idempotency_key'])
      .where('rotation_id', '=', ids.rotationId)
      .execute(),
  });

  it('writes the status, the secret columns and one audit row, once however often it is retried', async () => {
    const ids = await rotation();
    const step = {
      ...ids,
      status: RotationStatus.Staged,
      rotation: { to_version: 3 },
      secret: { state: SecretState.InGrace },
      audit: {
        action: 'rotation.staged',
        outcome: 'success' as const,
        details: { version: 3 },
        idempotencyKey: `${ids.rotationId}:staged`,
      },
    };
    await recordRotationStep(fresh.db, step);
    await recordRotationStep(fresh.db, step);
    expect(await rows(ids)).toEqual({
      rotation: { status: 'STAGED', to_version: 3 },
      secret: { pending_version: 3, state: 'IN_GRACE' },
      audit: [
        {
          actor: 'rotor',
          action: 'rotation.staged',
          outcome: 'success',
          details: { version: 3 },
          idempotency_key: `${ids.rotationId}:staged`,
        },
      ],
    });
  });

  it('leaves the secret row alone while its guarded column holds another version', async () => {
    const ids = await rotation();
    const discard = (version: number) =>
      recordRotationStep(fresh.db, {
        ...ids,
        secret: { pending_version: null },
        secretIf: { column: 'pending_version', equals: version },
      });
    await discard(4);
    expect((await rows(ids)).secret.pending_version).toBe(3);
    await discard(3);
    expect((await rows(ids)).secret.pending_version).toBeNull();
  });

  it('writes nothing when any part fails: the status change is rolled back with the rest', async () => {
    const ids = await rotation();
    await expect(
      recordRotationStep(fresh.db, {
        ...ids,
        status: RotationStatus.Applied,
        // state is NOT NULL: the secret's update fails after the rotation's has run.
        secret: { state: null as unknown as string },
        audit: {
          action: 'rotation.applied',
          outcome: 'success',
          idempotencyKey: `${ids.rotationId}:applied`,
        },
      }),
    ).rejects.toThrow();
    expect(await rows(ids)).toEqual({
      rotation: { status: 'REQUESTED', to_version: null },
      secret: { pending_version: 3, state: 'ROTATING' },
      audit: [],
    });
  });

  /** Promote, then finish: the two steps promoteVersion records together with `finish`. */
  const promoteAndFinish = (ids: { tenantId: string; secretId: string; rotationId: string }) => [
    {
      ...ids,
      status: RotationStatus.Promoted,
      secret: { pending_version: null },
      audit: {
        action: 'rotation.promoted',
        outcome: 'success' as const,
        idempotencyKey: `${ids.rotationId}:promoted`,
      },
    },
    {
      ...ids,
      status: RotationStatus.Completed,
      rotation: { to_version: 3 },
      secret: { state: SecretState.InGrace },
      audit: {
        actor: 'alice@example.com',
        action: 'rotation.completed',
        outcome: 'success' as const,
        idempotencyKey: `${ids.rotationId}:finished`,
      },
    },
  ];

  it('records two steps as if one after the other: later columns win, audit rows in order, once', async () => {
    const ids = await rotation();
    await recordRotationSteps(fresh.db, promoteAndFinish(ids));
    await recordRotationSteps(fresh.db, promoteAndFinish(ids));
    const after = await rows(ids);
    expect(after.rotation).toEqual({ status: 'COMPLETED', to_version: 3 });
    expect(after.secret).toEqual({ pending_version: null, state: 'IN_GRACE' });
    expect(after.audit.map((a) => [a.action, a.actor])).toEqual([
      ['rotation.promoted', 'rotor'],
      ['rotation.completed', 'alice@example.com'],
    ]);
  });

  it('writes neither step when the second fails: the promote is rolled back with the finish', async () => {
    const ids = await rotation();
    const [promote, finish] = promoteAndFinish(ids);
    await expect(
      recordRotationSteps(fresh.db, [
        promote!,
        { ...finish!, secret: { state: null as unknown as string } },
      ]),
    ).rejects.toThrow();
    expect(await rows(ids)).toEqual({
      rotation: { status: 'REQUESTED', to_version: null },
      secret: { pending_version: 3, state: 'ROTATING' },
      audit: [],
    });
  });

  it('has a finish that finds no begun rotation record its request first, then its end, once however often it runs', async () => {
    const ids = await rotation();
    // A rotation whose begin was folded into a stage that never got to record it.
    await fresh.db.deleteFrom('rotations').where('id', '=', ids.rotationId).execute();
    const records = createRotationRecords({ db: fresh.db });
    const finish = {
      ...ids,
      status: RotationStatus.Failed,
      secretState: SecretState.NeedsAttention,
      errorType: 'VaultUnavailable',
      nextRotationAt: null,
      actor: 'alice@example.com',
      begin: { ...ids, reason: 'leaked', requestedBy: 'alice@example.com', fromVersion: 2 },
    };
    await records.finishRotation(finish);
    await records.finishRotation(finish);
    const row = await fresh.db
      .selectFrom('rotations')
      .select(['status', 'reason', 'requested_by', 'error_type'])
      .where('id', '=', ids.rotationId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({
      status: RotationStatus.Failed,
      reason: 'leaked',
      requested_by: 'alice@example.com',
      error_type: 'VaultUnavailable',
    });
    const audit = await fresh.db
      .selectFrom('audit_events')
      .select('action')
      .where('rotation_id', '=', ids.rotationId)
      .orderBy('chain_seq')
      .execute();
    expect(audit.map((a) => a.action)).toEqual(['rotation.requested', 'rotation.failed']);
  });
});
