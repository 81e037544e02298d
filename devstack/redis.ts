import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import net from 'node:net';
import path from 'node:path';
import { DevstackError } from './errors';
import type { RedisBinary } from './redis-tools';
import { waitFor } from './ports';
import { startService } from './service';
import type { Service } from './service';

export interface RedisServer {
  /** redis://default:<password>@127.0.0.1:<port>: the `default` user is the local admin. */
  adminUrl: string;
  host: string;
  port: number;
  service: Service;
}

/**
 * A Redis server on loopback, no persistence. The `default` user's password is random, generated
 * on first start and kept in <dataDir>/credentials.json (mode 0600), like PostgreSQL's.
 */
export async function startRedis(options: {
  binary: RedisBinary;
  port: number;
  dataDir: string;
  logFile: string;
}): Promise<RedisServer> {
  await mkdir(options.dataDir, { recursive: true });
  const password = await readOrCreatePassword(path.join(options.dataDir, 'credentials.json'));
  const configFile = path.join(options.dataDir, 'redis.conf');
  await writeFile(
    configFile,
    [
      `bind 127.0.0.1`,
      `port ${options.port}`,
      `dir ${JSON.stringify(options.dataDir)}`,
      `save ""`,
      `appendonly no`,
      `daemonize no`,
      `protected-mode yes`,
      `requirepass ${password}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  const service = startService('redis', options.binary.bin, [configFile], {
    env: options.binary.env,
    logFile: options.logFile,
  });
  try {
    await waitFor('Redis', () => ping(options.port), { timeoutMs: 20_000, abort: service.exited });
  } catch (err) {
    await service.stop();
    throw new DevstackError(
      'ROT_DEV_REDIS_START',
      `${err instanceof Error ? err.message : String(err)}\n--- ${options.logFile} ---\n${service.logTail()}`,
      'Redis 6 or newer is needed (ACL users); set REDIS_SERVER to another redis-server or valkey-server.',
    );
  }
  return {
    adminUrl: `redis://default:${encodeURIComponent(password)}@127.0.0.1:${options.port}`,
    host: '127.0.0.1',
    port: options.port,
    service,
  };
}

/** Resolves once the server answers (even NOAUTH means it is up and speaking RESP). */
function ping(port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.setTimeout(1000);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('no answer'));
    });
    socket.once('error', reject);
  });
}

async function readOrCreatePassword(file: string): Promise<string> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as { password?: unknown };
    if (typeof parsed.password === 'string') return parsed.password;
  } catch {
    // First start.
  }
  const password = randomBytes(24).toString('hex');
  await writeFile(file, JSON.stringify({ password }), { mode: 0o600 });
  return password;
}
