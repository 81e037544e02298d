import { randomBytes, randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { saveConnection } from '../../connections';
import type { TestRotor } from './stack';

/**
 * The Redis target as the README tells operators to set it up: a rotator user that may run
 * ACL SETUSER and ACL GETUSER and nothing else, and managed users created switched off with no
 * password, so only Rotor's rotation makes them usable.
 */
export interface RedisTarget {
  host: string;
  port: number;
  rotator: { username: string; password: string };
  /** The connection (in the engine database, credential in Vault) naming this server. */
  connection: string;
  /** An admin client (the default user), for assertions only. */
  admin: Redis;
  /** Creates managed users (unique names from these stems) that may GET/SET app:* keys. */
  createUsers(...stems: string[]): Promise<string[]>;
  /** AUTH as user; resolves to null on success or the error code (WRONGPASS…). */
  loginError(user: string, password: string): Promise<string | null>;
  /** SHA-256 hashes of the passwords the user holds, and whether it is on. */
  aclUser(user: string): Promise<{ on: boolean; passwords: string[] }>;
  close(): Promise<void>;
}

export function redisAdmin(): Redis {
  const url = new URL(inject('stack').redisAdminUrl);
  const client = new Redis({
    host: url.hostname,
    port: Number(url.port),
    username: 'default',
    password: decodeURIComponent(url.password),
    protocol: 2,
  });
  client.on('error', () => undefined);
  return client;
}

export async function setUpRedisTarget(rotor: TestRotor): Promise<RedisTarget> {
  const url = new URL(inject('stack').redisAdminUrl);
  const host = url.hostname;
  const port = Number(url.port);
  const admin = redisAdmin();
  const rotator = {
    username: `rotor_rotator_${randomUUID().slice(0, 8)}`,
    password: randomBytes(18).toString('base64url'),
  };
  await admin.call(
    'ACL',
    'SETUSER',
    rotator.username,
    'on',
    `>${rotator.password}`,
    '-@all',
    '+acl|setuser',
    '+acl|getuser',
  );
  const connection = `redis-${randomUUID().slice(0, 8)}`;
  await saveConnection(
    rotor.clients.db,
    rotor.clients.vault,
    { name: connection, kind: 'redis', host, port, database: null, tls: { mode: 'disable' } },
    rotator,
    'test',
  );
  const created: string[] = [rotator.username];
  return {
    host,
    port,
    rotator,
    connection,
    admin,
    async createUsers(...stems) {
      const users = stems.map((s) => `${s}_${randomUUID().slice(0, 8)}`);
      for (const user of users) {
        await admin.call('ACL', 'SETUSER', user, 'off', 'resetpass', '~app:*', '+get', '+set');
        created.push(user);
      }
      return users;
    },
    async loginError(user, password) {
      const client = new Redis({
        host,
        port,
        lazyConnect: true,
        protocol: 2,
        enableReadyCheck: false,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      client.on('error', () => undefined);
      try {
        await client.connect();
        await client.call('AUTH', user, password);
        return null;
      } catch (err) {
        return /^[A-Z]{2,}\b/.exec((err as Error).message)?.[0] ?? 'unknown';
      } finally {
        client.disconnect();
      }
    },
    async aclUser(user) {
      const reply = (await admin.call('ACL', 'GETUSER', user)) as unknown[];
      const field = (name: string) => reply[reply.indexOf(name) + 1] as string[];
      return { on: field('flags').includes('on'), passwords: field('passwords') };
    },
    async close() {
      for (const user of created) await admin.call('ACL', 'DELUSER', user).catch(() => 0);
      admin.disconnect();
    },
  };
}
