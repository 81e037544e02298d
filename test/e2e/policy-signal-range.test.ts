import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_POLICY_SECONDS, SecretType, policyFor } from '../../domain';
import { requestRotation } from '../../control';
import { updatePolicySignal } from '../../workflows';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('a policy update sent around the API with durations no date can hold', () => {
  let rotor: TestRotor;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
  });
  afterAll(async () => {
    await rotor?.close();
  });

  it('is ignored, and the lifecycle keeps its policy and keeps rotating', async () => {
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: uniqueName('range'),
      name: 'key',
    });
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.currentVersion === 1);
    // The Temporal UI or tctl reach the workflow without the API's validation: 1e13 seconds is
    // past the last date JavaScript can hold.
    for (const policy of [
      policyFor(SecretType.ApiKey, { schedule: { kind: 'interval', everySeconds: 1e13 } }),
      policyFor(SecretType.ApiKey, { graceSeconds: MAX_POLICY_SECONDS + 1 }),
    ]) {
      await handle.signal(updatePolicySignal, { requestedBy: 'ops', policy });
    }
    const answer = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'ops',
      reason: 'after the out-of-range updates',
    });
    expect(answer.status).toBe('started');
    const done = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.currentVersion === 2,
    );
    expect(done.state).toBe('IN_GRACE');
    // The test policy's one-second grace, not the one the ignored update asked for.
    await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
  });
});
