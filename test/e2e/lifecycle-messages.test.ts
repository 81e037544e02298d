import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_POLICIES, secretVaultPath } from '../../domain';
import {
  pauseSignal,
  resumeSignal,
  retireSignal,
  rotateNowSignal,
  updatePolicySignal,
} from '../../workflows';
import type { secretLifecycle } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('messages to a running lifecycle', () => {
  let rotor: TestRotor;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
  });
  afterAll(async () => rotor?.close());

  const searchFor = async (query: string): Promise<string[]> => {
    const ids: string[] = [];
    for await (const w of rotor.client.workflow.list({ query })) ids.push(w.workflowId);
    return ids;
  };

  it('rotate now rotates at once, recording who asked and why', async () => {
    const tenantId = uniqueName('msg');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'token',
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await handle.signal(rotateNowSignal, { requestedBy: 'alice', reason: 'suspected leak' });
    const after = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.rotationsCompleted === 2,
    );
    expect(after.currentVersion).toBe(2);
    const row = await rotor.clients.db
      .selectFrom('rotations')
      .select(['requested_by', 'reason'])
      .where('to_version', '=', 2)
      .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
      .where('secrets.workflow_id', '=', handle.workflowId)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ requested_by: 'alice', reason: 'suspected leak' });
  });

  it('pause holds scheduled rotations until resume, and ops can find paused secrets by search attribute', async () => {
    const tenantId = uniqueName('pause');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'webhook',
      policy: { schedule: { kind: 'interval', everySeconds: 2 } },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.rotationsCompleted === 1);
    await handle.signal(pauseSignal, { requestedBy: 'ops', reason: 'maintenance' });
    const paused = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'PAUSED',
    );
    await expect
      .poll(() => searchFor(`TenantId = '${tenantId}' AND RotationState = 'PAUSED'`), {
        timeout: 15_000,
      })
      .toEqual([handle.workflowId]);
    // Two intervals pass with no rotation while paused.
    await new Promise((r) => setTimeout(r, 4500));
    const still = await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'PAUSED');
    expect(still.rotationsCompleted).toBe(paused.rotationsCompleted);

    await handle.signal(resumeSignal, { requestedBy: 'ops', reason: 'done' });
    await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.rotationsCompleted > paused.rotationsCompleted,
    );
  });

  it('a policy update changes the schedule of the running secret', async () => {
    const tenantId = uniqueName('policy');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'jwt',
    });
    const before = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'ACTIVE',
    );
    await handle.signal(updatePolicySignal, {
      requestedBy: 'admin',
      policy: {
        ...DEFAULT_POLICIES.api_key,
        schedule: { kind: 'interval', everySeconds: 2 },
        graceSeconds: 1,
      },
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.rotationsCompleted >= 2, 30_000);
    expect(before.nextRotationAt).not.toBeNull();
    const audit = await rotor.clients.db
      .selectFrom('audit_events')
      .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
      .select(['audit_events.actor'])
      .where('secrets.workflow_id', '=', handle.workflowId)
      .where('audit_events.action', '=', 'policy.updated')
      .execute();
    expect(audit).toEqual([{ actor: 'admin' }]);
  });

  it('retire destroys the Vault data, marks the secret retired and ends the workflow', async () => {
    const tenantId = uniqueName('retire');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'old',
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
    await handle.signal(retireSignal, { requestedBy: 'owner', reason: 'service removed' });
    const final = await rotor.client.workflow
      .getHandle<typeof secretLifecycle>(handle.workflowId)
      .result();
    expect(final.state).toBe('RETIRED');
    await expect(
      rotor.vault.read(
        `${rotor.config.vault.kvMount}/metadata/${secretVaultPath(tenantId, 'old')}`,
      ),
    ).rejects.toMatchObject({ response: { statusCode: 404 } });
    const row = await rotor.clients.db
      .selectFrom('secrets')
      .select('state')
      .where('workflow_id', '=', handle.workflowId)
      .executeTakeFirstOrThrow();
    expect(row.state).toBe('RETIRED');
  });
});
