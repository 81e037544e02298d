import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { secretVaultPath } from '../../domain';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('the lifecycle on its own timers', () => {
  let rotor: TestRotor;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
  });
  afterAll(async () => rotor?.close());

  it('rotates twice by timer alone, revoking the previous version after each grace period', async () => {
    const tenantId = uniqueName('timer');
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId,
      name: 'signing-key',
      policy: { schedule: { kind: 'interval', everySeconds: 3 }, graceSeconds: 1 },
    });
    const done = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.rotationsCompleted >= 3 && s.state === 'ACTIVE',
      90_000,
    );
    expect(done.currentVersion).toBe(3);
    expect(done.previousVersion).toBeNull();

    const secret = await rotor.clients.db
      .selectFrom('secrets')
      .selectAll()
      .where('workflow_id', '=', handle.workflowId)
      .executeTakeFirstOrThrow();
    const events = await rotor.clients.db
      .selectFrom('audit_events')
      .select(['action', 'rotation_id', 'details'])
      .where('secret_id', '=', secret.id)
      .orderBy('id')
      .execute();
    const story = events
      .map((e) => e.action)
      .filter((a) => ['rotation.requested', 'rotation.promoted', 'credential.revoked'].includes(a));
    // initial, then two timer-fired rotations, each followed by the revoke of the version before.
    expect(story).toEqual([
      'rotation.requested',
      'rotation.promoted',
      'rotation.requested',
      'rotation.promoted',
      'credential.revoked',
      'rotation.requested',
      'rotation.promoted',
      'credential.revoked',
    ]);
    const requested = await rotor.clients.db
      .selectFrom('rotations')
      .select(['requested_by', 'reason', 'status', 'to_version'])
      .where('secret_id', '=', secret.id)
      .orderBy('to_version')
      .execute();
    expect(requested).toEqual([
      { requested_by: 'test', reason: 'initial', status: 'COMPLETED', to_version: 1 },
      { requested_by: 'rotor-schedule', reason: 'scheduled', status: 'COMPLETED', to_version: 2 },
      { requested_by: 'rotor-schedule', reason: 'scheduled', status: 'COMPLETED', to_version: 3 },
    ]);

    // Revoked versions are destroyed in Vault; the current one is readable and labelled.
    const path = `${rotor.config.vault.kvMount}/metadata/${secretVaultPath(tenantId, 'signing-key')}`;
    const meta = (await rotor.vault.read(path)) as {
      data: {
        custom_metadata: Record<string, string>;
        versions: Record<string, { destroyed: boolean }>;
      };
    };
    expect(meta.data.custom_metadata).toEqual({ rotor_current_version: '3' });
    expect(meta.data.versions['1']?.destroyed).toBe(true);
    expect(meta.data.versions['2']?.destroyed).toBe(true);
    expect(meta.data.versions['3']?.destroyed).toBe(false);

    // Each completed cycle continued as new: the current run's history is short.
    // Visibility is eventually consistent: the newest run may take a moment to be listed.
    const countRuns = async (): Promise<number> => {
      let n = 0;
      for await (const run of rotor.client.workflow.list({
        query: `WorkflowId = '${handle.workflowId}'`,
      })) {
        if (run.workflowId === handle.workflowId) n += 1;
      }
      return n;
    };
    await expect.poll(countRuns, { timeout: 15_000 }).toBeGreaterThanOrEqual(3);
    const current = await rotor.client.workflow.getHandle(handle.workflowId).fetchHistory();
    expect(current.events?.length ?? 0).toBeLessThan(150);
  });
});
