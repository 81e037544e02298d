import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appendAudit } from '../../audit';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { ensureSecurityReportSchedule } from '../../control';
import { migrateOrThrow } from '../../db';
import { freePort } from '../../devstack';
import { REPO_ROOT } from '../../devstack/paths';
import { Role } from '../../domain';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { pollUntil } from '../helpers/poll';
import { SmtpSink } from '../helpers/smtp-sink';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const DAY = 86_400_000;
const SECURITY = 'security@report.example';

describe('the security report', () => {
  let rotor: TestRotor;
  // A database of its own: the rows seeded here (an overdue secret without a workflow…) are not
  // for other files' lists and counts.
  let fresh: FreshDatabase;
  let smtp: SmtpSink;
  let app: FastifyInstance;
  let apiUrl = '';
  const tenant = uniqueName('report');
  const other = uniqueName('report-other');
  const tokens = { security: '', operator: '', owner: '', other: '' };
  const failedRotation = `rot-${randomUUID()}`;

  /** A secret row as the lifecycle would have left it (the report only reads the database). */
  async function secret(
    name: string,
    fields: { state?: string; nextRotationAt?: Date | null; lastErrorType?: string },
  ): Promise<string> {
    const { id } = await rotor.clients.db
      .insertInto('secrets')
      .values({
        tenant_id: tenant,
        name,
        type: 'database_password',
        policy: '{}',
        state: fields.state ?? 'ACTIVE',
        workflow_id: `secret/${tenant}/${name}`,
        vault_path: `rotor/${tenant}/${name}`,
        next_rotation_at: fields.nextRotationAt ?? null,
        last_error_type: fields.lastErrorType ?? null,
        updated_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  /** A rotation that asked for approval and ended `status`, decided `decideAfter` seconds later. */
  async function approvalRequest(
    secretId: string,
    status: string,
    decision?: { kind: 'approved' | 'rejected'; afterSeconds: number },
  ): Promise<void> {
    const id = `rot-${randomUUID()}`;
    const db = rotor.clients.db;
    await db
      .insertInto('rotations')
      .values({
        id,
        secret_id: secretId,
        status,
        reason: 'scheduled',
        requested_by: 'rotor',
        approved_by: decision?.kind === 'approved' ? 'sid@security' : null,
      })
      .execute();
    await appendAudit(db, {
      tenantId: tenant,
      secretId,
      rotationId: id,
      actor: 'rotor',
      action: 'approval.requested',
      outcome: 'info',
      idempotencyKey: `${id}:approval-requested`,
    });
    if (!decision) return;
    const { occurred_at } = await db
      .selectFrom('audit_events')
      .select('occurred_at')
      .where('idempotency_key', '=', `${id}:approval-requested`)
      .executeTakeFirstOrThrow();
    await db
      .insertInto('approvals')
      .values({
        rotation_id: id,
        approver: 'sid@security',
        decision: decision.kind,
        update_id: randomUUID(),
        decided_at: new Date(occurred_at.getTime() + decision.afterSeconds * 1000),
      })
      .execute();
  }

  beforeAll(async () => {
    smtp = new SmtpSink(await freePort());
    await smtp.start();
    fresh = await createFreshDatabase('rotor_report');
    await migrateOrThrow(fresh.db);
    rotor = await createTestRotor(
      testConfig({
        DATABASE_URL: fresh.url,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        ROTOR_SECURITY_EMAILS: SECURITY,
      }),
    );
    await rotor.startWorker();
    app = buildApp({
      checks: {},
      logLevel: 'silent',
      services: { db: rotor.clients.db, temporal: rotor.client, config: rotor.config },
    });
    apiUrl = await app.listen({ host: '127.0.0.1', port: 0 });
    const db = rotor.clients.db;
    for (const t of [tenant, other])
      await db.insertInto('tenants').values({ id: t, name: t }).execute();
    tokens.security = (await createToken(db, { name: 'sid@security', role: Role.Security })).token;
    tokens.operator = (await createToken(db, { name: 'oz@ops', role: Role.Operator })).token;
    tokens.owner = (
      await createToken(db, { name: 'o@t', role: Role.Tenant, tenantId: tenant })
    ).token;
    tokens.other = (
      await createToken(db, { name: 'x@o', role: Role.Tenant, tenantId: other })
    ).token;

    const now = Date.now();
    const overdue = await secret('overdue-db', { nextRotationAt: new Date(now - 30 * DAY) });
    await secret('gone-key', { state: 'RETIRED', nextRotationAt: new Date(now - 40 * DAY) });
    const broken = await secret('broken-key', {
      state: 'NEEDS_ATTENTION',
      lastErrorType: 'VerificationFailed',
    });
    const soon = await secret('soon-key', { nextRotationAt: new Date(now + 2 * DAY) });
    await secret('later-key', { nextRotationAt: new Date(now + 30 * DAY) });
    for (const [id, at, errorType] of [
      [failedRotation, new Date(now - 3_600_000), 'VerificationFailed'],
      [`rot-${randomUUID()}`, new Date(now - 30 * DAY), 'TargetRejected'],
    ] as const) {
      await db
        .insertInto('rotations')
        .values({
          id,
          secret_id: broken,
          status: 'FAILED',
          reason: 'scheduled',
          requested_by: 'rotor',
          error_type: errorType,
          requested_at: at,
          completed_at: at,
        })
        .execute();
    }
    await approvalRequest(overdue, 'COMPLETED', { kind: 'approved', afterSeconds: 60 });
    await approvalRequest(overdue, 'REJECTED', { kind: 'rejected', afterSeconds: 180 });
    await approvalRequest(overdue, 'APPROVAL_EXPIRED');
    await approvalRequest(soon, 'AWAITING_APPROVAL');
    for (const secretId of [overdue, overdue, soon]) {
      await appendAudit(db, {
        tenantId: tenant,
        secretId,
        actor: 'eve@example.com',
        action: 'secret.value_read',
        outcome: 'success',
        idempotencyKey: randomUUID(),
      });
    }
  });
  afterAll(async () => {
    await app?.close();
    await rotor?.close();
    await fresh?.drop();
    await smtp?.stop();
  });

  const get = (token: string, url: string) =>
    app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${token}` } });

  it('lists overdue, failing and soon-due secrets, approval statistics and who did what', async () => {
    const res = await get(tokens.security, `/api/v1/reports/security?tenantId=${tenant}`);
    expect(res.statusCode, res.body).toBe(200);
    const report = res.json<Record<string, unknown>>();
    expect(report).toMatchObject({
      tenantId: tenant,
      totals: { overdue: 1, needsAttention: 1, failedRotations: 1, expiringSoon: 1 },
      overdue: [{ name: 'overdue-db', state: 'ACTIVE' }],
      needsAttention: [{ name: 'broken-key', lastErrorType: 'VerificationFailed' }],
      failedRotations: [
        { name: 'broken-key', rotationId: failedRotation, errorType: 'VerificationFailed' },
      ],
      expiringSoon: [{ name: 'soon-key' }],
      approvals: {
        requested: 4,
        approved: 1,
        rejected: 1,
        expired: 1,
        pending: 1,
        medianSecondsToDecision: 120,
      },
      auditIntegrity: { ok: true, chains: 1, firstBreak: null },
    });
    expect(report.access).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          actor: 'eve@example.com',
          action: 'secret.value_read',
          count: 3,
          secrets: 2,
        }),
        expect.objectContaining({ actor: 'rotor', action: 'approval.requested', count: 4 }),
      ]),
    );

    // A narrower window drops the day-old failure; a wider horizon brings in the later secret.
    const narrow = await get(
      tokens.security,
      `/api/v1/reports/security?tenantId=${tenant}&windowDays=0.02&dueWithinDays=60`,
    );
    expect(narrow.json()).toMatchObject({ totals: { failedRotations: 0, expiringSoon: 2 } });
  });

  it('shows a tenant only its own report, and refuses operators', async () => {
    const own = await get(tokens.owner, '/api/v1/reports/security');
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ tenantId: tenant, totals: { overdue: 1 } });
    expect(
      (await get(tokens.other, `/api/v1/reports/security?tenantId=${tenant}`)).statusCode,
    ).toBe(404);
    expect((await get(tokens.operator, '/api/v1/reports/security')).statusCode).toBe(403);
    const bad = await get(tokens.security, '/api/v1/reports/security?windowDays=-1');
    expect(bad.statusCode).toBe(400);
  });

  it('prints the report from `rotor report security`, as text or JSON', async () => {
    const run = (...args: string[]) =>
      new Promise<{ code: number; stdout: string }>((resolve) => {
        execFile(
          'bin/rotor',
          args,
          {
            cwd: REPO_ROOT,
            env: { PATH: process.env.PATH, ROTOR_API_URL: apiUrl, ROTOR_TOKEN: tokens.security },
          },
          (err, stdout) => resolve({ code: err ? 1 : 0, stdout }),
        );
      });
    const text = await run('report', 'security', '--tenant', tenant);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/Overdue \(1\)[\s\S]*overdue-db/);
    expect(text.stdout).toContain('eve@example.com');
    expect(text.stdout).toContain('audit trail intact');
    const json = await run('--json', 'report', 'security', '--tenant', tenant);
    expect(JSON.parse(json.stdout)).toMatchObject({ totals: { expiringSoon: 1 } });
  });

  it('is sent to security by a Temporal Schedule, created idempotently, through real SMTP', async () => {
    const scheduleId = uniqueName('security-report');
    const options = { scheduleId, taskQueue: rotor.config.temporal.taskQueue };
    expect(
      await ensureSecurityReportSchedule(rotor.client, { ...options, intervalSeconds: 3600 }),
    ).toBe('created');
    expect(
      await ensureSecurityReportSchedule(rotor.client, { ...options, intervalSeconds: 7200 }),
    ).toBe('updated');
    const handle = rotor.client.schedule.getHandle(scheduleId);
    try {
      expect((await handle.describe()).spec.intervals?.[0]?.every).toBe(7_200_000);
      await handle.trigger();
      const [mail] = await pollUntil(
        'the security report email',
        () => Promise.resolve(smtp.to(SECURITY)),
        (m) => m.length > 0,
      );
      expect(mail?.subject).toMatch(/^\[Rotor\] .*Security report \(all tenants\)/);
      expect(mail?.text).toContain(`${tenant}/overdue-db (database_password, ACTIVE): due`);
      expect(mail?.text).toContain('eve@example.com: secret.value_read');
      expect(mail?.text).toContain('This message never contains secret values.');
      // The mail can arrive before the delivery activity records it as sent: poll the row.
      const delivered = () =>
        rotor.clients.db
          .selectFrom('notification_deliveries')
          .select(['status', 'audience', 'channel'])
          .where('idempotency_key', 'like', `${scheduleId}%:security-report:email`)
          .execute();
      await expect
        .poll(delivered, { timeout: 30_000 })
        .toEqual([{ status: 'sent', audience: 'security', channel: 'email' }]);
    } finally {
      expect(
        await ensureSecurityReportSchedule(rotor.client, { ...options, intervalSeconds: 0 }),
      ).toBe('removed');
    }
    expect(
      await ensureSecurityReportSchedule(rotor.client, { ...options, intervalSeconds: 0 }),
    ).toBe('off');
    const left = await sql<{ n: string }>`select count(*) as n from notification_deliveries
      where idempotency_key like ${`${scheduleId}%`} and status = 'failed'`.execute(
      rotor.clients.db,
    );
    expect(Number(left.rows[0]?.n)).toBe(0);
  });
});
