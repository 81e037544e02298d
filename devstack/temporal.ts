import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../domain';
import { DevstackError } from './errors';
import { waitFor } from './ports';
import { startService } from './service';
import type { Service } from './service';

export interface TemporalServer {
  address: string;
  uiUrl: string;
  service: Service;
}

/**
 * How much of the SQLite file's durability the dev server keeps.
 *
 * - `normal` (`npm start`, the benchmark): a write-ahead log, fsync'd only at checkpoints. A
 *   crash of the server process loses nothing; a power loss or OS crash may lose the last
 *   transactions, never corrupt the file. The default rollback journal with `synchronous=FULL`
 *   fsyncs every commit (~5.5 ms each on the development machine, serialised), which made the
 *   dev server, not Rotor, the bottleneck of every rotation.
 * - `off` (tests): no fsync at all. Test state is thrown away after each run, as with the
 *   PostgreSQL server's `fast` settings, so durability buys nothing there.
 */
export type TemporalDurability = 'normal' | 'off';

export interface TemporalServerOptions {
  port: number;
  uiPort: number;
  dbFile: string;
  durability: TemporalDurability;
}

/**
 * The `temporal server start-dev` arguments. Besides the SQLite pragmas, eager activity
 * execution is switched on: the SDK asks for it whenever a workflow task schedules an activity
 * on its own task queue, so the worker starts the activity in the same round trip instead of
 * polling for it, but the server only grants it behind this dynamic-config flag.
 */
export function temporalDevServerArgs(options: TemporalServerOptions): string[] {
  const searchAttributes = Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
    '--search-attribute',
    `${name}=${type}`,
  ]);
  return [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(options.port),
    '--ui-port',
    String(options.uiPort),
    '--db-filename',
    options.dbFile,
    '--sqlite-pragma',
    'journal_mode=WAL',
    '--sqlite-pragma',
    `synchronous=${options.durability === 'off' ? 'OFF' : 'NORMAL'}`,
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    '--log-level',
    'warn',
    ...searchAttributes,
  ];
}

/**
 * `temporal server start-dev` on loopback with a SQLite file, the Web UI, and Rotor's search
 * attributes registered at start-up. Ready once the frontend answers for the default namespace.
 */
export async function startTemporal(
  options: TemporalServerOptions & { bin: string; logFile: string },
): Promise<TemporalServer> {
  const service = startService('temporal', options.bin, temporalDevServerArgs(options), {
    logFile: options.logFile,
  });
  const address = `127.0.0.1:${options.port}`;
  const uiUrl = `http://127.0.0.1:${options.uiPort}`;
  try {
    await waitFor(
      'Temporal',
      async () => {
        const connection = await Connection.connect({ address, connectTimeout: 1000 });
        try {
          const { customAttributes } = await connection.operatorService.listSearchAttributes({
            namespace: 'default',
          });
          const missing = Object.keys(SEARCH_ATTRIBUTES).filter((k) => !customAttributes?.[k]);
          if (missing.length)
            throw new Error(`search attributes not yet registered: ${missing.join(', ')}`);
        } finally {
          await connection.close();
        }
      },
      { timeoutMs: 60_000, abort: service.exited },
    );
    await waitFor(
      'Temporal Web UI',
      async () => {
        const res = await fetch(uiUrl);
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
      },
      { timeoutMs: 30_000, abort: service.exited },
    );
  } catch (err) {
    await service.stop();
    throw new DevstackError(
      'ROT_DEV_TEMPORAL_START',
      `${err instanceof Error ? err.message : String(err)}\n--- ${options.logFile} ---\n${service.logTail()}`,
      'Check the log above; a stale or foreign SQLite file can be removed to start fresh.',
    );
  }
  return { address, uiUrl, service };
}
