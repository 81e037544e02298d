import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DevstackError } from './errors';
import { ensureMariaDb, MARIADB_PACKAGES } from './mariadb-binaries';
import type { MariaDbBinaries } from './mariadb-binaries';
import type { Progress } from './progress';
import type { ToolOptions } from './tools';

/** Set to `off` to start the local stack without MariaDB. */
export const MARIADB_SWITCH_ENV = 'ROTOR_DEV_MARIADB';

/** The local stack's MariaDB: its binaries, or why it is not started. */
export type LocalMariaDbBinaries =
  { available: true; binaries: MariaDbBinaries } | { available: false; reason: string };

/**
 * MariaDB's binaries for the local stack. Unlike the other servers, MariaDB is optional there: when
 * Debian's packages cannot be fetched the stack comes up without it, and `reason` says what to
 * install and how to skip the attempt next time.
 */
export async function ensureLocalMariaDb(
  progress: Progress,
  options: ToolOptions = {},
): Promise<LocalMariaDbBinaries> {
  try {
    return { available: true, binaries: await ensureMariaDb(progress, options) };
  } catch (err) {
    if (!(err instanceof DevstackError)) throw err;
    return {
      available: false,
      reason:
        `MariaDB is unavailable: ${err.message}\n` +
        `  → To get it: \`sudo apt-get update\`, then start again (Rotor unpacks ${MARIADB_PACKAGES.join(', ')} into .tools/mariadb/); ` +
        `or set ${MARIADB_SWITCH_ENV}=off to skip it.`,
    };
  }
}

/**
 * A MySQL client option file (mode 0600) for the local admin login, so
 * `mariadb --defaults-extra-file=<file>` opens a SQL shell without a password on the command line.
 */
export async function writeClientOptions(
  file: string,
  login: { host: string; port: number; user: string; password: string },
): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true });
  await writeFile(
    file,
    [
      '[client]',
      `host=${login.host}`,
      `port=${String(login.port)}`,
      `user=${login.user}`,
      `password=${login.password}`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
}
