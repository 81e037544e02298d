import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('two workers on one task queue', () => {
  let rotor: TestRotor;
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker({ identity: 'worker-a' });
    await rotor.startWorker({ identity: 'worker-b' });
  });
  afterAll(async () => rotor?.close());

  it('share the activities of many secrets between them', async () => {
    const tenantId = uniqueName('scale');
    const handles = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        startSecret(rotor.client, rotor.config.temporal.taskQueue, { tenantId, name: `key-${i}` }),
      ),
    );
    const identities = new Map<string, number>();
    for (const handle of handles) {
      await waitForStatus(rotor.client, handle.workflowId, (s) => s.state === 'ACTIVE');
      for (const event of (await handle.fetchHistory()).events ?? []) {
        const identity = event.activityTaskStartedEventAttributes?.identity;
        if (identity) identities.set(identity, (identities.get(identity) ?? 0) + 1);
      }
    }
    expect([...identities.keys()].sort()).toEqual(['worker-a', 'worker-b']);
  });
});
