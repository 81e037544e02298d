import { chmod, cp, mkdir, mkdtemp, rm, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../devstack';
import { startPostgres } from '../../devstack/postgres';
import type { PostgresBinaries } from '../../devstack/postgres-binaries';
import { firstBlockedFolder, packagedBinaries } from '../../devstack/postgres-binaries';

/**
 * A fresh machine's usual clone is root's home, mode 700. PostgreSQL refuses to run as root and
 * runs as the `postgres` user, which cannot enter that home: initdb failed with EACCES. Rotor now
 * runs a copy of the binaries and the cluster from a folder that user can reach.
 */
const asRoot = os.userInfo().uid === 0;

describe.runIf(asRoot)('PostgreSQL started by root from a clone inside a private home', () => {
  let scratch: string;
  let privateHome: string;
  let sharedRoot: string;
  let packaged: PostgresBinaries;

  beforeAll(async () => {
    scratch = await mkdtemp(path.join(os.tmpdir(), 'rotor-home-'));
    await chmod(scratch, 0o755);
    privateHome = path.join(scratch, 'root');
    sharedRoot = path.join(scratch, 'shared');
    await mkdir(privateHome, { mode: 0o700 });
    await chmod(privateHome, 0o700);
    // The clone's node_modules, as root's home would hold it.
    const installed = await packagedBinaries();
    const home = path.join(privateHome, 'clone', 'native');
    await cp(installed.home, home, { recursive: true, verbatimSymlinks: true });
    packaged = {
      home,
      initdb: path.join(home, 'bin', 'initdb'),
      postgres: path.join(home, 'bin', 'postgres'),
    };
  });
  afterAll(async () => rm(scratch, { recursive: true, force: true }));

  it('starts, answers queries, and keeps nothing it needs inside the private home', async () => {
    expect(await firstBlockedFolder(packaged.home)).toBe(privateHome);
    const dataDir = path.join(privateHome, 'clone', '.rotor-dev', 'postgres');
    const logFile = path.join(scratch, 'postgres.log');
    const server = await startPostgres({
      port: await freePort(),
      dataDir,
      logFile,
      databases: ['rotor_check'],
      fast: true,
      sharedRoot,
      packaged,
    });
    try {
      expect(server.clusterDir.startsWith(path.join(sharedRoot, 'clusters'))).toBe(true);
      // The cluster itself is the postgres user's own (0700); everything above it is open to pass.
      expect(await firstBlockedFolder(path.dirname(server.clusterDir))).toBeNull();
      const client = new pg.Client({ connectionString: server.urlFor('rotor_check') });
      await client.connect();
      try {
        const { rows } = await client.query<{ user: string }>('select current_user as user');
        expect(rows[0]?.user).toBe('postgres');
      } finally {
        await client.end();
      }
      // The home was not opened to other users to make this work.
      expect((await stat(privateHome)).mode & 0o777).toBe(0o700);
    } finally {
      await server.stop();
    }
  });

  it('starts again from the same cluster and the same copied binaries', async () => {
    const dataDir = path.join(privateHome, 'clone', '.rotor-dev', 'postgres');
    const server = await startPostgres({
      port: await freePort(),
      dataDir,
      logFile: path.join(scratch, 'postgres.log'),
      databases: ['rotor_check'],
      fast: true,
      sharedRoot,
      packaged,
    });
    try {
      const client = new pg.Client({ connectionString: server.urlFor('rotor_check') });
      await client.connect();
      await client.end();
    } finally {
      await server.stop();
    }
  });
});
