import { describe, expect, it } from 'vitest';
import { mariaDbUserTargetSchema, nativePasswordHash } from '../../activities/targets/mariadb-user';

describe('the mariadb_user target spec', () => {
  it('accepts a single user, an alternating pair, a connection and a host pattern', () => {
    const single = {
      kind: 'mariadb_user',
      connection: 'orders-db',
      strategy: 'single',
      user: 'app',
    };
    expect(mariaDbUserTargetSchema.parse(single)).toEqual(single);
    const alternating = {
      kind: 'mariadb_user',
      connection: 'orders-db',
      strategy: 'alternating',
      users: ['app_a', 'app.b-2'],
      host: '10.0.%',
    };
    expect(mariaDbUserTargetSchema.parse(alternating)).toEqual(alternating);
  });

  it.each([
    ['a quote in the user', { strategy: 'single', user: "app'x" }, 'user'],
    ['a backtick in the user', { strategy: 'single', user: 'app`x' }, 'user'],
    ['a % in the user', { strategy: 'single', user: 'app%' }, 'user'],
    ['a NUL in the user', { strategy: 'single', user: 'app\0' }, 'user'],
    ['a user over 80 characters', { strategy: 'single', user: 'a'.repeat(81) }, 'user'],
    ['a quote in the host', { strategy: 'single', user: 'app', host: "%' OR '1" }, 'host'],
    ['the same user twice', { strategy: 'alternating', users: ['app', 'app'] }, 'users'],
    ['a hostile second user', { strategy: 'alternating', users: ['app', 'x"y'] }, 'users'],
    ['an unknown field', { strategy: 'single', user: 'app', password: 'hunter2' }, ''],
    [
      'a hostile connection',
      { strategy: 'single', user: 'app', connection: "db'; --" },
      'connection',
    ],
  ])('refuses %s, naming the field and never echoing the value', (_, fields, path) => {
    const result = mariaDbUserTargetSchema.safeParse({
      kind: 'mariadb_user',
      connection: 'orders-db',
      ...fields,
    });
    expect(result.success).toBe(false);
    const issues = result.error?.issues ?? [];
    expect(issues.map((i) => String(i.path[0] ?? ''))).toContain(path);
    const text = JSON.stringify(issues.map((i) => i.message));
    for (const value of Object.values(fields).flat()) {
      if (typeof value === 'string' && value.length > 3) expect(text).not.toContain(value);
    }
  });

  it('refuses a target that names no connection: there is no default MariaDB server', () => {
    const result = mariaDbUserTargetSchema.safeParse({
      kind: 'mariadb_user',
      strategy: 'single',
      user: 'app',
    });
    expect(result.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['connection', 'is required for a mariadb_user target'],
    ]);
  });

  it('hashes a password exactly as MariaDB and MySQL do for mysql_native_password', () => {
    // SELECT PASSWORD('password') on MariaDB 10.11.
    expect(nativePasswordHash('password')).toBe('*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19');
  });
});
