import { randomUUID } from 'node:crypto';
import mysql from 'mysql2/promise';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateValue } from '../../activities/generate/generators';
import type { StagedCredential } from '../../activities/targets/driver';
import { createMariaDbUserDriver } from '../../activities/targets/mariadb-user';
import type { MariaDbUserTarget } from '../../activities/targets/mariadb-user';
import { SecretType } from '../../domain';
import { mariaDbTarget, stopMariaDbTarget } from '../helpers/mariadb';
import type { MariaDbTarget } from '../helpers/mariadb';

const ROTATIONS = 100;
const CONSUMERS = 4;
/**
 * The grace period, shortened from a day: long enough for a consumer that read the previous
 * credential just before promotion to finish logging in with it.
 */
const GRACE_MS = 750;

interface Tally {
  logins: number;
  failed: number;
  byUser: Map<string, number>;
  errors: string[];
}

/**
 * The alternating strategy under load, driven the way the lifecycle drives the driver (stage,
 * apply, verify, promote, grace, revoke) but with the consumer path held in memory instead of
 * Vault, because the driver is not wired into the registry yet. Consumers read the current
 * credential and log in, continuously; not one login may fail.
 */
describe('alternating MariaDB users under continuous logins', () => {
  let target: MariaDbTarget;

  beforeAll(async () => {
    target = await mariaDbTarget();
  });
  afterAll(stopMariaDbTarget);

  it(`consumers log in continuously across ${ROTATIONS} rotations with no failed login`, async () => {
    const [a, b] = await target.createUsers('load_a', 'load_b');
    if (!a || !b) throw new Error('no users');
    const driver = createMariaDbUserDriver(target.deps);
    const spec: MariaDbUserTarget = {
      kind: 'mariadb_user',
      connection: 'direct',
      strategy: 'alternating',
      users: [a.name, b.name],
    };
    // What consumers read: Vault's current version on the consumer path.
    let current: StagedCredential = { version: 1, value: a.password, username: a.name };
    const tally: Tally = { logins: 0, failed: 0, byUser: new Map(), errors: [] };
    let previous: StagedCredential | undefined;
    let running = true;

    const consume = async (): Promise<void> => {
      while (running) {
        const { username, value } = current;
        let connection: mysql.Connection | undefined;
        try {
          connection = await mysql.createConnection({
            ...target.deps.login,
            user: username,
            password: value,
          });
          await connection.query('SELECT CURRENT_USER()');
          tally.logins += 1;
          const user = String(username);
          tally.byUser.set(user, (tally.byUser.get(user) ?? 0) + 1);
        } catch (err) {
          tally.failed += 1;
          tally.errors.push(String((err as { code?: string }).code ?? err));
        } finally {
          await connection?.end().catch(() => undefined);
        }
      }
    };
    const consumers = Array.from({ length: CONSUMERS }, consume);

    try {
      for (let version = 2; version <= ROTATIONS + 1; version += 1) {
        const step = {
          rotationId: randomUUID(),
          secretId: 'load',
          tenantId: 'acme',
          vaultPath: 'tenants/acme/secrets/load',
        };
        const { fields } = driver.stageFields(spec, current);
        const staged = {
          version,
          value: generateValue(SecretType.DatabasePassword),
          username: fields.username,
        };
        await driver.apply(spec, staged, step);
        await driver.verify(spec, staged, step);
        previous = current;
        current = staged; // promote
        await new Promise((resolve) => setTimeout(resolve, GRACE_MS));
        await driver.revoke(spec, { version: previous.version }, current, step);
      }
    } finally {
      running = false;
      await Promise.all(consumers);
    }

    expect(tally.errors).toEqual([]);
    expect(tally.failed).toBe(0);
    // Consumers really logged in all along, as both users in turn.
    expect(tally.logins).toBeGreaterThan(ROTATIONS * CONSUMERS);
    expect(tally.byUser.get(a.name)).toBeGreaterThan(ROTATIONS);
    expect(tally.byUser.get(b.name)).toBeGreaterThan(ROTATIONS);
    // And the previous credential really was locked at the end of its grace.
    if (!previous?.username) throw new Error('no rotation ran');
    expect(await target.loginError(previous.username, previous.value)).toBe('4151');
  }, 600_000);
});
