import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../control/errors';
import { validateCreateSecret } from '../../control/validate-secret';
import { DEFAULT_APPROVAL, DEFAULT_POLICIES, MAX_POLICY_SECONDS } from '../../domain';

const limits = { minRotationIntervalSeconds: 3600, maxValueBytes: 64 };
const minimal = {
  tenantId: 'acme',
  name: 'billing-api.key',
  type: 'api_key',
  requestedBy: 'alice@example.com',
};

/** The ValidationError a request raises; fails the test if it is accepted. */
function rejection(input: unknown): ValidationError {
  try {
    validateCreateSecret(input, limits);
  } catch (error) {
    if (error instanceof ValidationError) return error;
    throw error;
  }
  throw new Error('request was accepted');
}

const fields = (input: unknown) => rejection(input).issues.map((i) => i.field);
const withPolicy = (policy: Record<string, unknown>) => ({ ...minimal, policy });

describe('validating a create-secret request', () => {
  it('gives a valid minimal request the default policy of its type', () => {
    expect(validateCreateSecret(minimal, limits)).toEqual({
      ...minimal,
      type: 'api_key',
      policy: DEFAULT_POLICIES.api_key,
    });
  });

  it('merges overrides into the defaults and normalises a cron schedule', () => {
    const request = validateCreateSecret(
      withPolicy({ cron: '0 3 * * 1', graceSeconds: 60, maxAttempts: 3 }),
      limits,
    );
    expect(request.policy).toEqual({
      ...DEFAULT_POLICIES.api_key,
      schedule: { kind: 'cron', expression: '0 3 * * 1', timeZone: 'UTC' },
      graceSeconds: 60,
      maxAttempts: 3,
    });
  });

  it('keeps value reads off unless the policy turns them on', () => {
    expect(validateCreateSecret(minimal, limits).policy.allowValueRead).toBeUndefined();
    expect(
      validateCreateSecret(withPolicy({ allowValueRead: true }), limits).policy.allowValueRead,
    ).toBe(true);
    expect(fields(withPolicy({ allowValueRead: 'yes' }))).toEqual(['policy.allowValueRead']);
  });

  it('refuses an unknown type', () => {
    expect(fields({ ...minimal, type: 'ssh_key' })).toEqual(['type']);
  });

  it('refuses a malformed cron', () => {
    expect(fields(withPolicy({ cron: '61 * * * *' }))).toEqual(['policy.cron']);
  });

  it('refuses a cron that fires more often than the minimum interval', () => {
    expect(fields(withPolicy({ cron: '*/5 * * * *' }))).toEqual(['policy.cron']);
  });

  it('refuses an interval together with a cron', () => {
    expect(fields(withPolicy({ intervalSeconds: 7200, cron: '0 3 * * *' }))).toEqual([
      'policy.cron',
    ]);
  });

  it('refuses an unknown time zone, for the cron and for the maintenance window', () => {
    expect(fields(withPolicy({ cron: '0 3 * * *', cronTimeZone: 'Mars/Olympus' }))).toEqual([
      'policy.cronTimeZone',
    ]);
    const window = { timeZone: 'Mars/Olympus', days: [6], start: '01:00', end: '05:00' };
    expect(fields(withPolicy({ maintenanceWindow: window }))).toEqual([
      'policy.maintenanceWindow.timeZone',
    ]);
  });

  it('refuses an interval below the configured minimum', () => {
    expect(fields(withPolicy({ intervalSeconds: 3599 }))).toEqual(['policy.intervalSeconds']);
    expect(
      validateCreateSecret(withPolicy({ intervalSeconds: 3600 }), limits).policy.schedule,
    ).toEqual({ kind: 'interval', everySeconds: 3600 });
  });

  it('refuses a negative grace period', () => {
    expect(fields(withPolicy({ graceSeconds: -1 }))).toEqual(['policy.graceSeconds']);
  });

  it('refuses tenant ids and names outside the naming rule, including traversal', () => {
    for (const bad of ['Acme', '../etc', 'a..b', 'a/b', '', 'x'.repeat(64)]) {
      expect(fields({ ...minimal, tenantId: bad }), bad).toEqual(['tenantId']);
      expect(fields({ ...minimal, name: bad }), bad).toEqual(['name']);
    }
  });

  it('refuses an initial value larger than the limit in UTF-8 bytes', () => {
    // 32 characters but 64 bytes fits; one more two-byte character does not.
    expect(
      validateCreateSecret({ ...minimal, initialValue: 'é'.repeat(32) }, limits),
    ).toMatchObject({
      initialValue: 'é'.repeat(32),
    });
    expect(fields({ ...minimal, initialValue: 'é'.repeat(33) })).toEqual(['initialValue']);
  });

  it('refuses versionsKept outside 1 to 100', () => {
    for (const bad of [0, 101, 2.5]) {
      expect(fields(withPolicy({ versionsKept: bad })), String(bad)).toEqual([
        'policy.versionsKept',
      ]);
    }
  });

  it('refuses maxAttempts outside 1 to 20', () => {
    for (const bad of [0, 21]) {
      expect(fields(withPolicy({ maxAttempts: bad })), String(bad)).toEqual(['policy.maxAttempts']);
    }
  });

  it('accepts a supplied-value type without an initial value, but not autoGenerate on it', () => {
    const tls = { ...minimal, type: 'tls_certificate' };
    expect(validateCreateSecret(tls, limits).policy).toEqual(DEFAULT_POLICIES.tls_certificate);
    expect(fields({ ...tls, policy: { autoGenerate: true } })).toEqual(['policy.autoGenerate']);
    expect(
      fields({ ...minimal, type: 'oauth_client_secret', policy: { autoGenerate: true } }),
    ).toEqual(['policy.autoGenerate']);
  });

  it('refuses fields it does not know instead of ignoring them', () => {
    expect(fields({ ...minimal, polcy: {} })).toEqual(['polcy']);
  });

  it('reports every bad field at once and answers 400 with a stable code', () => {
    const error = rejection({ ...minimal, name: 'Bad', policy: { graceSeconds: -1 } });
    expect(error.issues.map((i) => i.field)).toEqual(['name', 'policy.graceSeconds']);
    expect(error).toMatchObject({ code: 'ROT_ERR_VALIDATION', statusCode: 400 });
    expect(error.message).toMatch(/name/);
    expect(error.message).toMatch(/policy\.graceSeconds/);
  });

  it('never puts the submitted initial value or cron string in the error', () => {
    const secret = 'hunter2-correct-horse-battery-staple-'.repeat(3);
    const cron = '99 99 * * * sneaky';
    const error = rejection({ ...minimal, initialValue: secret, policy: { cron } });
    expect(error.issues.map((i) => i.field)).toEqual(['initialValue', 'policy.cron']);
    const everything = JSON.stringify({ message: error.message, issues: error.issues, error });
    expect(everything).not.toContain(secret);
    expect(everything).not.toContain(cron);
    expect(String(error.stack)).not.toContain(secret);
  });

  it('accepts approval settings, filling the rest from the defaults', () => {
    const request = validateCreateSecret(withPolicy({ approval: { quorum: 2 } }), limits);
    expect(request.policy.approval).toEqual({ ...DEFAULT_APPROVAL, quorum: 2 });
  });

  it('refuses a quorum outside 1..10 and an expiry before escalation', () => {
    expect(fields(withPolicy({ approval: { quorum: 0 } }))).toEqual(['policy.approval.quorum']);
    expect(
      fields(withPolicy({ approval: { escalateAfterSeconds: 100, expireAfterSeconds: 50 } })),
    ).toEqual(['policy.approval.expireAfterSeconds']);
  });

  it('refuses durations too long to become a date, naming each field and not its value', () => {
    // 1e13 seconds is past the last date JavaScript can hold: accepted, it left a rotation stuck
    // ROTATING (promote failed on every attempt) or an approval refusing every message.
    const huge = 1e13;
    const error = rejection(
      withPolicy({
        intervalSeconds: huge,
        graceSeconds: huge,
        approval: {
          remindEverySeconds: huge,
          escalateAfterSeconds: huge,
          expireAfterSeconds: huge + 1,
        },
        supply: { remindEverySeconds: huge, deadlineSeconds: huge, expiryLeadSeconds: huge },
      }),
    );
    expect(error.issues.map((i) => i.field).sort()).toEqual([
      'policy.approval.escalateAfterSeconds',
      'policy.approval.expireAfterSeconds',
      'policy.approval.remindEverySeconds',
      'policy.graceSeconds',
      'policy.intervalSeconds',
      'policy.supply.deadlineSeconds',
      'policy.supply.expiryLeadSeconds',
      'policy.supply.remindEverySeconds',
    ]);
    expect(JSON.stringify(error.issues)).not.toContain('10000000000000');
    // Ten years is still a policy.
    const longest = validateCreateSecret(
      withPolicy({ intervalSeconds: MAX_POLICY_SECONDS, graceSeconds: MAX_POLICY_SECONDS }),
      limits,
    );
    expect(longest.policy.schedule).toEqual({ kind: 'interval', everySeconds: MAX_POLICY_SECONDS });
  });

  describe('a mariadb_user target', () => {
    const db = { ...minimal, type: 'database_password' };
    const target = (t: Record<string, unknown>) => ({
      ...db,
      target: { kind: 'mariadb_user', connection: 'orders-db', ...t },
    });

    it('accepts a single user and an alternating pair, with a host part, on a named connection', () => {
      expect(
        validateCreateSecret(target({ strategy: 'single', user: 'Orders_App.1' }), limits).target,
      ).toEqual({
        kind: 'mariadb_user',
        connection: 'orders-db',
        strategy: 'single',
        user: 'Orders_App.1',
      });
      expect(
        validateCreateSecret(
          target({ strategy: 'alternating', users: ['orders_a', 'orders_b'], host: '10.0.%' }),
          limits,
        ).target,
      ).toEqual({
        kind: 'mariadb_user',
        connection: 'orders-db',
        strategy: 'alternating',
        users: ['orders_a', 'orders_b'],
        host: '10.0.%',
      });
    });

    it('requires a connection: there is no default MariaDB server', () => {
      const issues = rejection({
        ...db,
        target: { kind: 'mariadb_user', strategy: 'single', user: 'app' },
      }).issues;
      expect(issues).toEqual([
        { field: 'target.connection', message: 'is required for a mariadb_user target' },
      ]);
    });

    it.each([
      [
        'a quote in the user',
        { strategy: 'single', user: "app'; DROP USER root; --" },
        'target.user',
      ],
      ['a % in the user', { strategy: 'single', user: 'app%' }, 'target.user'],
      ['a NUL in the user', { strategy: 'single', user: 'app\0x' }, 'target.user'],
      ['a quote in the host', { strategy: 'single', user: 'app', host: "%' OR '1" }, 'target.host'],
      ['the same user twice', { strategy: 'alternating', users: ['app', 'app'] }, 'target.users'],
      ['one user for alternating', { strategy: 'alternating', users: ['app'] }, 'target.users'],
      ['no user', { strategy: 'single' }, 'target.user'],
      ['a role', { strategy: 'single', user: 'app', role: 'app' }, 'target.role'],
    ])('refuses %s, naming the field and never echoing it', (_, t, field) => {
      const error = rejection(target(t));
      expect(error.issues.map((i) => i.field)).toContain(field);
      const text = JSON.stringify(error.issues);
      // The strategy is named in messages on purpose; every other given value must not be.
      for (const [key, v] of Object.entries(t))
        for (const value of [v].flat())
          if (key !== 'strategy' && value.length > 4) expect(text).not.toContain(value);
    });

    it('rotates database passwords only', () => {
      expect(
        rejection({
          ...minimal,
          target: { kind: 'mariadb_user', connection: 'db', strategy: 'single', user: 'app' },
        }).issues,
      ).toEqual([
        { field: 'target.kind', message: 'mariadb_user rotates database_password, not api_key' },
      ]);
    });

    it('keeps the host part to mariadb_user targets', () => {
      expect(
        fields({
          ...db,
          target: { kind: 'postgres_role', strategy: 'single', role: 'app', host: '%' },
        }),
      ).toEqual(['target.host']);
    });
  });
});
