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
 * `temporal server start-dev` on loopback with a SQLite file, the Web UI, and Rotor's search
 * attributes registered at start-up. Ready once the frontend answers for the default namespace.
 */
export async function startTemporal(options: {
  bin: string;
  port: number;
  uiPort: number;
  dbFile: string;
  logFile: string;
}): Promise<TemporalServer> {
  const searchAttributes = Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => [
    '--search-attribute',
    `${name}=${type}`,
  ]);
  const service = startService(
    'temporal',
    options.bin,
    [
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
      '--log-level',
      'warn',
      ...searchAttributes,
    ],
    { logFile: options.logFile },
  );
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
