import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecretLifecycle } from '../../control/start-secret';
import { SecretType, policyFor } from '../../domain';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('creating a secret', () => {
  let rotor: TestRotor;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
  });
  afterAll(async () => rotor?.close());

  it('twice gives one workflow, one row and one first version', async () => {
    const request = {
      tenantId: uniqueName('idem'),
      name: 'db-password',
      type: SecretType.ServiceToken,
      policy: policyFor(SecretType.ServiceToken),
      requestedBy: 'test',
    };
    const queue = rotor.config.temporal.taskQueue;
    const [first, second] = await Promise.all([
      startSecretLifecycle(rotor.client, queue, request),
      startSecretLifecycle(rotor.client, queue, request),
    ]);
    expect(first.firstExecutionRunId).toMatch(/^[0-9a-f-]{36}$/);
    expect(second.firstExecutionRunId).toBe(first.firstExecutionRunId);
    await waitForStatus(rotor.client, first.workflowId, (s) => s.state === 'ACTIVE');
    const again = await startSecretLifecycle(rotor.client, queue, request);
    expect(again.firstExecutionRunId).toBe(first.firstExecutionRunId);

    const rows = await rotor.clients.db
      .selectFrom('secrets')
      .select(['current_version'])
      .where('tenant_id', '=', request.tenantId)
      .execute();
    expect(rows).toEqual([{ current_version: 1 }]);
  });
});
