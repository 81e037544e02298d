import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSecret } from '../../control';
import { waitForStatus } from '../helpers/lifecycle';
import { setUpPgTarget } from '../helpers/pg-target';
import type { PgTarget } from '../helpers/pg-target';
import { createTestRotor, testConfig, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('importing the password a PostgreSQL role already has', () => {
  let target: PgTarget;
  let rotor: TestRotor;
  beforeAll(async () => {
    target = await setUpPgTarget();
    rotor = await createTestRotor(testConfig({ ROTOR_TARGET_DATABASE_URL: target.rotatorUrl }));
    await rotor.startWorker();
  });
  afterAll(async () => {
    await rotor?.close();
    await target?.close();
  });

  it('applies the imported value to the role, so the role logs in with it and Vault holds it as version 1', async () => {
    const [role = ''] = await target.createRoles('imported');
    const tenantId = uniqueName('import-pg');
    const password = 'imported-role-password-0123';
    const handle = await createSecret(
      rotor.client,
      rotor.config,
      {
        tenantId,
        name: 'orders-db',
        type: 'database_password',
        requestedBy: 'alice',
        initialValue: password,
        target: { kind: 'postgres_role', strategy: 'single', role },
      },
      rotor.clients.vault,
    );
    const status = await waitForStatus(
      rotor.client,
      handle.workflowId,
      (s) => s.state === 'ACTIVE',
    );
    expect(status.currentVersion).toBe(1);
    expect(await target.loginError(role, password)).toBeNull();
    const current = (await rotor.vault.read(
      `${rotor.config.vault.kvMount}/data/rotor/${tenantId}/orders-db`,
    )) as { data: { data: Record<string, string>; metadata: { version: number } } };
    expect(current.data.metadata.version).toBe(1);
    expect(current.data.data).toMatchObject({ value: password, username: role });
  });
});
