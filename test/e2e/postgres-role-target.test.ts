import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTargetRegistry } from '../../activities';
import { ValidationError, validateCreateSecret } from '../../control';
import { SecretType } from '../../domain';
import type { PostgresRoleTarget } from '../../domain';
import { rotateNowSignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { pollUntil } from '../helpers/poll';
import { failOneRotation, startBrokenVerifyWorker } from '../helpers/broken-verify';
import type { BrokenVerify } from '../helpers/broken-verify';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const INVALID_PASSWORD = '28P01';
const LOGIN_NOT_PERMITTED = '28000';

describe('a database_password rotated into a real PostgreSQL role', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  let broken: BrokenVerify;

  beforeAll(async () => {
    target = await setUpPgTarget();
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: target.rotatorUrl }));
    await rotor.startWorker();
    broken = await startBrokenVerifyWorker(rotor, 'postgres_role');
  });
  afterAll(async () => {
    await rotor?.close();
    await target?.close();
  });

  const credential = async (path: string, version: number) => {
    const read = await rotor.clients.vault.read(path, version);
    return { username: String(read?.data.username), password: String(read?.data.value) };
  };
  const start = (queue: string, spec: PostgresRoleTarget) =>
    startSecret(rotor.client, queue, {
      tenantId: uniqueName('pg'),
      name: 'orders-db',
      type: SecretType.DatabasePassword,
      policy: { requiresApproval: false, graceSeconds: 2, maxAttempts: 1 },
      target: spec,
    });

  it('single strategy: the new password works at once, the old one stops, and only a SCRAM verifier reaches the server', async () => {
    const [role = ''] = await target.createRoles('app_single');
    const handle = await start(rotor.config.temporal.taskQueue, {
      kind: 'postgres_role',
      strategy: 'single',
      role,
    });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/orders-db`;
    const v1 = await credential(path, 1);
    expect(v1.username).toBe(role);
    expect(await target.loginError(role, v1.password)).toBeNull();

    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'single strategy' });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 2);
    const v2 = await credential(path, 2);
    expect(await target.loginError(role, v2.password)).toBeNull();
    expect(await target.loginError(role, v1.password)).toBe(INVALID_PASSWORD);

    const { rows } = await target.superuser.query<{ rolpassword: string }>(
      'select rolpassword from pg_authid where rolname = $1',
      [role],
    );
    expect(rows[0]?.rolpassword).toMatch(/^SCRAM-SHA-256\$4096:/);
    const statements = await target.superuser.query<{ query: string }>(
      'select query from pg_stat_statements where query ilike $1',
      [`%${role}%`],
    );
    expect(statements.rows.length).toBeGreaterThan(0);
    const seen = statements.rows.map((r) => r.query).join('\n');
    expect(seen).not.toContain(v1.password);
    expect(seen).not.toContain(v2.password);
  });

  it('alternating strategy: the standby role takes the new password, the old role works through grace, then is locked but kept', async () => {
    const [a = '', b = ''] = await target.createRoles('app_a', 'app_b');
    const handle = await start(rotor.config.temporal.taskQueue, {
      kind: 'postgres_role',
      strategy: 'alternating',
      roles: [a, b],
    });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/orders-db`;
    const v1 = await credential(path, 1);
    expect(v1.username).toBe(a);

    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'alternate' });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 2 && s.previousVersion === 1,
    );
    const v2 = await credential(path, 2);
    expect(v2.username).toBe(b);
    // In grace: both credentials log in.
    expect(await target.loginError(b, v2.password)).toBeNull();
    expect(await target.loginError(a, v1.password)).toBeNull();

    // Grace over: the previous role is locked (NOLOGIN), not dropped.
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.previousVersion === null);
    expect(await target.loginError(a, v1.password)).toBe(LOGIN_NOT_PERMITTED);
    expect(await target.loginError(b, v2.password)).toBeNull();
    const { rows } = await target.superuser.query<{ rolcanlogin: boolean }>(
      'select rolcanlogin from pg_roles where rolname = $1',
      [a],
    );
    expect(rows).toEqual([{ rolcanlogin: false }]);

    // The next rotation goes back to the first role, unlocking it with a fresh password.
    await handle.signal(rotateNowSignal, { requestedBy: 'test', reason: 'alternate back' });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 3);
    const v3 = await credential(path, 3);
    expect(v3.username).toBe(a);
    expect(await target.loginError(a, v3.password)).toBeNull();
    expect(await target.loginError(a, v1.password)).toBe(INVALID_PASSWORD);
  });

  it('compensates a failed verification: the old password is restored and the pending version discarded', async () => {
    const [role = ''] = await target.createRoles('app_comp');
    const handle = await start(broken.queue, {
      kind: 'postgres_role',
      strategy: 'single',
      role,
    });
    const first = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 1,
    );
    const path = `rotor/${first.tenantId}/orders-db`;
    const v1 = await credential(path, 1);

    const failed = await failOneRotation(rotor, broken, handle.workflowId);
    expect(failed.lastErrorType).toBe('VerificationFailed');
    expect(failed.currentVersion).toBe(1);
    // The new password really was set (the injected check logged in with it first)...
    const applied = broken.applied.at(-1) ?? '';
    expect(applied).not.toBe('');
    // ...and compensation put the old one back.
    expect(await target.loginError(role, applied)).toBe(INVALID_PASSWORD);
    expect(await target.loginError(role, v1.password)).toBeNull();
    const meta = await rotor.clients.vault.metadata(path);
    expect(meta.labels.current).toBe(1);
    expect(meta.labels.pending).toBeUndefined();
    const audit = await pollUntil(
      'the compensation audit row',
      () =>
        rotor.clients.db
          .selectFrom('audit_events')
          .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
          .select('audit_events.action')
          .where('secrets.workflow_id', '=', handle.workflowId)
          .execute(),
      (rows) => rows.some((r) => r.action === 'rotation.compensated'),
    );
    expect(audit.map((r) => r.action)).toContain('rotation.applied');
  });

  it('refuses hostile role names at validation, and the driver refuses them without running SQL', async () => {
    const hostile = [
      'app"; DROP ROLE postgres; --',
      "app'); DROP TABLE secrets; --",
      'pg_monitor',
      'App_Upper',
      'a'.repeat(64),
      'app role',
      '',
    ];
    for (const role of hostile) {
      let caught: unknown;
      try {
        validateCreateSecret(
          {
            tenantId: 'acme',
            name: 'db',
            type: 'database_password',
            requestedBy: 'test',
            target: { kind: 'postgres_role', strategy: 'single', role },
          },
          { minRotationIntervalSeconds: 1, maxValueBytes: 1024 },
        );
      } catch (err) {
        caught = err;
      }
      expect(caught, role).toBeInstanceOf(ValidationError);
      expect((caught as ValidationError).issues.map((i) => i.field)).toContain('target.role');
    }

    // Bypassing validation (as a bug elsewhere might), the driver still sends nothing.
    const sent: string[] = [];
    const registry = createTargetRegistry({
      db: rotor.clients.db,
      postgres: {
        admin: {
          query: ((text: string) => {
            sent.push(text);
            return Promise.resolve({ rowCount: 1, rows: [] });
          }) as never,
        },
        login: { host: '127.0.0.1', port: 1, database: 'x' },
      },
    });
    for (const role of hostile) {
      await expect(
        registry.postgres_role.apply(
          { kind: 'postgres_role', strategy: 'single', role },
          { version: 1, value: 'irrelevant' },
          { rotationId: 'r', secretId: 's', tenantId: 't', vaultPath: 'p' },
        ),
      ).rejects.toMatchObject({ type: 'ValidationFailed', nonRetryable: true });
    }
    expect(sent).toEqual([]);

    // A well-formed name that does not exist is TargetNotFound, not a silent no-op.
    await expect(
      rotor.clients.targets.postgres_role.apply(
        { kind: 'postgres_role', strategy: 'single', role: `missing_${randomUUID().slice(0, 8)}` },
        { version: 1, value: 'irrelevant' },
        { rotationId: 'r', secretId: 's', tenantId: 't', vaultPath: 'p' },
      ),
    ).rejects.toMatchObject({ type: 'TargetNotFound' });
  });
});
