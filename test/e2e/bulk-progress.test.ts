import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approveRotation, readBulkProgress, startBulkRotation, supplyValue } from '../../control';
import { SecretType, secretVaultPath } from '../../domain';
import { bulkRotation } from '../../workflows';
import type { BulkProgress } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('bulk rotation progress', () => {
  let rotor: TestRotor;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
  });
  afterAll(async () => rotor?.close());
  const batchRow = (batchId: string) =>
    rotor.clients.db
      .selectFrom('bulk_batches')
      .selectAll()
      .where('id', '=', batchId)
      .executeTakeFirstOrThrow();

  it('counts every rotation exactly by the batch id, waiting for approval and for a value included, until each is final', async () => {
    const tenantId = uniqueName('bulkp');
    const queue = rotor.config.temporal.taskQueue;
    const plain = ['k1', 'k2'];
    for (const name of plain) await startSecret(rotor.client, queue, { tenantId, name });
    await startSecret(rotor.client, queue, {
      tenantId,
      name: 'db',
      type: SecretType.DatabasePassword,
      policy: { requiresApproval: true },
    });
    const oauth = await startSecret(rotor.client, queue, {
      tenantId,
      name: 'oauth',
      type: SecretType.OauthClientSecret,
      policy: { requiresApproval: false },
    });
    const supplyDeps = {
      temporal: rotor.client,
      vault: rotor.clients.vault,
      maxValueBytes: 65_536,
    };
    const oauthSecret = {
      workflowId: oauth.workflowId,
      vaultPath: secretVaultPath(tenantId, 'oauth'),
      type: SecretType.OauthClientSecret,
    };
    await waitForStatus(rotor.client, oauth.workflowId, (s) => s.state === 'AWAITING_VALUE');
    await supplyValue(supplyDeps, oauthSecret, { value: `first-${randomUUID()}` }, 'owner');
    const ids = [...plain, 'db', 'oauth'].map((n) => `secret/${tenantId}/${n}`);
    for (const id of ids) {
      await waitForStatus(rotor.client, id, (s) => s.currentVersion === 1 && !s.rotationId);
    }

    // As the API does: the batch row first, then the workflow that asks each secret.
    const deps = { client: rotor.client, db: rotor.clients.db };
    const { batchId, total } = await startBulkRotation(
      { ...deps, taskQueue: queue },
      { tenantId, requestedBy: 'ops', reason: 'suspected breach' },
    );
    expect(total).toBe(4);
    const progress = () => readBulkProgress(deps, batchId);
    const settled = await pollUntil('the batch to settle', progress, (p) => p.done, {
      timeout: 90_000,
    });
    expect(settled).toMatchObject<Partial<BulkProgress>>({
      total: 4,
      requested: 4,
      completed: 2,
      failed: 0,
      awaitingApproval: 1,
      awaitingValue: 1,
      finished: false,
    });

    // The batch workflow has ended once it asked all four, so what the humans do next is
    // counted from the rotation rows, not by a workflow still polling.
    const batch = rotor.client.workflow.getHandle<typeof bulkRotation>(`bulk/${batchId}`);
    expect(await batch.result()).toMatchObject({ requested: 4, unreachable: 0 });

    // The humans act after the batch settled: the batch still counts them, exactly.
    const db = await waitForStatus(rotor.client, ids[2] ?? '', (s) => s.pendingApproval !== null);
    await approveRotation({ client: rotor.client, db: rotor.clients.db }, ids[2] ?? '', {
      approver: 'sec',
      roles: ['security'],
      rotationId: db.pendingApproval?.rotationId ?? '',
    });
    await supplyValue(supplyDeps, oauthSecret, { value: `second-${randomUUID()}` }, 'owner');
    const finished = await pollUntil('the batch to finish', progress, (p) => p.finished, {
      timeout: 90_000,
    });
    expect(finished).toMatchObject({
      completed: 4,
      failed: 0,
      awaitingApproval: 0,
      awaitingValue: 0,
      done: true,
    });
    const row = await batchRow(batchId);
    expect(row).toMatchObject({ tenant_id: tenantId, total: 4, requested: 4, unreachable: 0 });
  }, 240_000);

  it('records the batch row itself when an older API started the batch without one, so its progress is counted the same way', async () => {
    const tenantId = uniqueName('bulkold');
    const queue = rotor.config.temporal.taskQueue;
    const ids: string[] = [];
    for (const name of ['k1', 'k2']) {
      ids.push((await startSecret(rotor.client, queue, { tenantId, name })).workflowId);
    }
    for (const id of ids) {
      await waitForStatus(rotor.client, id, (s) => s.currentVersion === 1 && !s.rotationId);
    }
    const batchId = randomUUID();
    await rotor.client.workflow.start(bulkRotation, {
      taskQueue: queue,
      workflowId: `bulk/${batchId}`,
      args: [{ batchId, tenantId, workflowIds: ids, requestedBy: 'ops', reason: 'older api' }],
    });
    const deps = { client: rotor.client, db: rotor.clients.db };
    const finished = await pollUntil(
      'the batch to finish',
      () => readBulkProgress(deps, batchId),
      (p) => p.finished,
      { timeout: 90_000 },
    );
    expect(finished).toMatchObject<Partial<BulkProgress>>({
      tenantId,
      total: 2,
      requested: 2,
      unreachable: 0,
      completed: 2,
      failed: 0,
      done: true,
    });
    const row = await batchRow(batchId);
    expect(row).toMatchObject({ tenant_id: tenantId, total: 2, requested: 2, requested_by: 'ops' });
  }, 120_000);
});
