import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SecretType, policyFor, secretVaultPath, secretWorkflowId } from '../../domain';
import { secretLifecycle, retireSignal, statusQuery } from '../../workflows';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('a secret started through the real Temporal server', () => {
  let rotor: TestRotor;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
  });
  afterAll(async () => rotor?.close());

  it('writes its first KV v2 version to OpenBao and its row and audit trail to PostgreSQL', async () => {
    const tenantId = uniqueName('acme');
    const name = 'billing-api-key';
    const vaultPath = secretVaultPath(tenantId, name);
    const handle = await rotor.client.workflow.start(secretLifecycle, {
      taskQueue: rotor.config.temporal.taskQueue,
      workflowId: secretWorkflowId(tenantId, name),
      args: [
        {
          tenantId,
          name,
          type: SecretType.ApiKey,
          policy: policyFor(SecretType.ApiKey),
          vaultPath,
          requestedBy: 'test',
        },
      ],
    });

    await expect
      .poll(async () => (await handle.query(statusQuery)).state, { timeout: 30_000, interval: 200 })
      .toBe('ACTIVE');

    // Read back through clients of our own, not the ones the activities used.
    const kv = (await rotor.vault.read(`${rotor.config.vault.kvMount}/data/${vaultPath}`)) as {
      data: { data: { value: string }; metadata: { version: number } };
    };
    expect(kv.data.metadata.version).toBe(1);
    expect(kv.data.data.value).toMatch(/^[A-Za-z0-9]{32}$/);
    const meta = (await rotor.vault.read(
      `${rotor.config.vault.kvMount}/metadata/${vaultPath}`,
    )) as {
      data: { custom_metadata: Record<string, string> };
    };
    expect(meta.data.custom_metadata.rotor_current_version).toBe('1');

    // The status query flips to ACTIVE just before the activity that writes the row runs, so the
    // database is read once it has caught up rather than at the instant the query answers.
    const row = await pollUntil(
      'the secret row to reach ACTIVE',
      () =>
        rotor.clients.db
          .selectFrom('secrets')
          .selectAll()
          .where('workflow_id', '=', handle.workflowId)
          .executeTakeFirstOrThrow(),
      (r) => r.state === 'ACTIVE',
      { timeout: 30_000 },
    );
    expect(row).toMatchObject({
      tenant_id: tenantId,
      name,
      type: 'api_key',
      state: 'ACTIVE',
      current_version: 1,
    });
    const actions = await rotor.clients.db
      .selectFrom('audit_events')
      .select('action')
      .where('secret_id', '=', row.id)
      .orderBy('id')
      .execute();
    expect(actions.map((a) => a.action)).toEqual([
      'secret.registered',
      'rotation.requested',
      'rotation.staged',
      'rotation.promoted',
      'rotation.completed',
    ]);

    await handle.signal(retireSignal, { requestedBy: 'test', reason: 'done' });
    const final = await handle.result();
    expect(final.state).toBe('RETIRED');

    // The value never entered the workflow's history.
    const history = JSON.stringify(await handle.fetchHistory());
    expect(history).not.toContain(kv.data.data.value);
    expect(history).not.toContain(Buffer.from(kv.data.data.value).toString('base64'));
  });
});
