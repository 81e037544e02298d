import { Migrator, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrations } from '../../migrations';
import { migrateOrThrow } from '../../db';
import { rotateNowSignal } from '../../workflows';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { createFreshDatabase } from '../helpers/fresh-db';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const SUBJECT = /^sam#[0-9a-f]{8}$/;

interface Created {
  token: string;
  subject: string;
}

describe('identity is a token’s unique subject, not its name', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let t = '';
  /** Three tokens, all named "sam": an operator and two security officers. */
  const sam: Record<'operator' | 'security1' | 'security2', Created> = {
    operator: { token: '', subject: '' },
    security1: { token: '', subject: '' },
    security2: { token: '', subject: '' },
  };
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    api = await createTestApi(rotor);
    t = api.tenantA;
    for (const [key, role] of [
      ['operator', 'operator'],
      ['security1', 'security'],
      ['security2', 'security'],
    ] as const) {
      const res = await api.call(api.tokens.admin, 'POST', '/api/v1/tokens', { name: 'sam', role });
      expect(res.statusCode, res.body).toBe(201);
      sam[key] = res.json<Created>();
    }
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  /** A secret needing `quorum` approvals, and a rotation of it waiting for them. */
  async function pendingRotation(name: string, quorum: number, request: () => Promise<unknown>) {
    const created = await api.call(api.tokens.admin, 'POST', '/api/v1/secrets', {
      tenantId: t,
      name,
      type: 'api_key',
      policy: { requiresApproval: true, graceSeconds: 1, approval: { quorum } },
    });
    expect(created.statusCode, created.body).toBe(201);
    const workflowId = `secret/${t}/${name}`;
    // Settled: the provisioning rotation has finished, so a request starts a new one.
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'ACTIVE' && !s.rotationId);
    await request();
    const status = await waitForStatus(
      rotor.client,
      workflowId,
      (s) => s.state === 'AWAITING_APPROVAL',
    );
    return { workflowId, rotationId: status.pendingApproval?.rotationId ?? '' };
  }
  const approve = (token: string, name: string, rotationId: string) =>
    api.call(token, 'POST', `/api/v1/secrets/${t}/${name}/approve`, { rotationId });

  it('gives every token a unique subject, even when names repeat', () => {
    const subjects = Object.values(sam).map((s) => s.subject);
    for (const subject of subjects) expect(subject).toMatch(SUBJECT);
    expect(new Set(subjects).size).toBe(3);
  });

  it('counts two same-named approvers as two people, and one of them twice as one', async () => {
    const { workflowId, rotationId } = await pendingRotation('quorum', 2, async () => {
      const res = await api.call(sam.operator.token, 'POST', `/api/v1/secrets/${t}/quorum/rotate`, {
        reason: 'quarterly',
      });
      expect(res.statusCode, res.body).toBe(202);
      expect(res.json(), res.body).toMatchObject({ status: 'started' });
    });
    const pending = await waitForStatus(rotor.client, workflowId, () => true);
    expect(pending.pendingApproval?.requestedBy).toBe(sam.operator.subject);

    // The operator is also called "sam", but is someone else: no separation-of-duties refusal.
    const first = await approve(sam.security1.token, 'quorum', rotationId);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({ approvals: [sam.security1.subject] });
    const twice = await approve(sam.security1.token, 'quorum', rotationId);
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({
      error: {
        code: 'ROT_ERR_APPROVAL_REFUSED',
        message: `${sam.security1.subject} has already approved rotation ${rotationId}`,
      },
    });
    const second = await approve(sam.security2.token, 'quorum', rotationId);
    expect(second.statusCode, second.body).toBe(200);
    expect(second.json()).toMatchObject({
      outcome: 'approved',
      approvals: [sam.security1.subject, sam.security2.subject],
    });
    await waitForStatus(rotor.client, workflowId, (s) => s.rotationsCompleted === 2);
    // The status flips first; finishRotation writes the row just after, so the row is polled.
    const row = () =>
      rotor.clients.db
        .selectFrom('rotations')
        .select(['requested_by', 'approved_by', 'status'])
        .where('id', '=', rotationId)
        .executeTakeFirstOrThrow();
    await expect.poll(row, { timeout: 30_000 }).toEqual({
      requested_by: sam.operator.subject,
      approved_by: `${sam.security1.subject},${sam.security2.subject}`,
      status: 'COMPLETED',
    });
  });

  it('still refuses the requester’s own approval, and accepts the same-named other token’s', async () => {
    // Requested as security1's subject (as a signal from the Temporal UI would be).
    const { workflowId, rotationId } = await pendingRotation('own', 1, () =>
      rotor.client.workflow
        .getHandle(`secret/${t}/own`)
        .signal(rotateNowSignal, { requestedBy: sam.security1.subject, reason: 'self-serve' }),
    );
    const own = await approve(sam.security1.token, 'own', rotationId);
    expect(own.statusCode).toBe(409);
    expect(own.json()).toMatchObject({
      error: {
        code: 'ROT_ERR_APPROVAL_REFUSED',
        message: 'the requester of a rotation cannot decide on it (separation of duties)',
      },
    });
    const refusals = await rotor.clients.db
      .selectFrom('audit_events')
      .select(['actor', 'outcome'])
      .where('action', '=', 'approval.refused')
      .where('rotation_id', '=', rotationId)
      .execute();
    expect(refusals).toEqual([{ actor: sam.security1.subject, outcome: 'refused' }]);
    const other = await approve(sam.security2.token, 'own', rotationId);
    expect(other.statusCode, other.body).toBe(200);
    await waitForStatus(rotor.client, workflowId, (s) => s.rotationsCompleted === 2);
  });

  it('gives tokens made before subjects existed a unique subject when migrating', async () => {
    const old = await createFreshDatabase('rotor_subjects');
    try {
      const migrator = new Migrator({
        db: old.db,
        provider: { getMigrations: () => Promise.resolve(migrations) },
      });
      expect((await migrator.migrateTo('0005_tenant_api_keys')).error).toBeUndefined();
      // Two "dup" tokens whose ids share their first 8 hex digits, and one other.
      const ids = [
        'abcdef01-0000-4000-8000-000000000001',
        'abcdef01-0000-4000-8000-000000000002',
        '12345678-0000-4000-8000-000000000003',
      ];
      for (const [i, name] of ['dup', 'dup', 'solo'].entries()) {
        await sql`insert into api_tokens (id, name, prefix, token_hash, role)
          values (${ids[i]}, ${name}, 'rtr_x', ${`hash-${i}`}, 'operator')`.execute(old.db);
      }
      await migrateOrThrow(old.db);
      const rows = await old.db.selectFrom('api_tokens').select('subject').execute();
      expect(rows.map((r) => r.subject).sort()).toEqual([
        'dup#abcdef01000040008000000000000001',
        'dup#abcdef01000040008000000000000002',
        'solo#12345678',
      ]);
      await expect(
        sql`insert into api_tokens (name, subject, prefix, token_hash, role)
          values ('x', 'solo#12345678', 'rtr_y', 'hash-9', 'operator')`.execute(old.db),
      ).rejects.toThrow(/api_tokens_subject_unique/);
    } finally {
      await old.drop();
    }
  });
});
