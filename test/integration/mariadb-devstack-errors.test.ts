import { chmod, mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentProgress, startStack } from '../../devstack';
import { ensureLocalMariaDb } from '../../devstack/local-mariadb';
import { ensureMariaDb } from '../../devstack/mariadb-binaries';

describe('the local MariaDB, when it cannot be fetched', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'rotor-mariadb-tools-'));
  });
  afterAll(async () => rm(dir, { recursive: true, force: true }));

  it('says apt-get and dpkg are needed when they are not there', async () => {
    const err = await ensureMariaDb(silentProgress, {
      toolsDir: path.join(dir, 'empty'),
      env: { PATH: dir },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DevstackError', code: 'ROT_DEV_NO_APT' });
    expect((err as Error).message).toContain('mariadb-server-core');
  });

  it('says to run apt-get update when apt cannot download the packages', async () => {
    const bin = path.join(dir, 'bin');
    await rm(bin, { recursive: true, force: true });
    await mkdir(bin);
    for (const tool of ['apt-get', 'dpkg', 'dpkg-deb']) {
      const file = path.join(bin, tool);
      await writeFile(file, '#!/bin/sh\necho "E: Unable to locate package $2"\nexit 100\n');
      await chmod(file, 0o755);
    }
    const toolsDir = path.join(dir, 'tools');
    const err = await ensureMariaDb(silentProgress, {
      toolsDir,
      env: { PATH: `${bin}:/usr/bin:/bin` },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ name: 'DevstackError', code: 'ROT_DEV_MARIADB_DOWNLOAD' });
    expect((err as Error).message).toContain('Unable to locate package');
    expect((err as Error).message).toContain('apt-get update');
    // Nothing half-unpacked is left to be mistaken for an install.
    expect(await readdir(path.join(toolsDir, 'mariadb'))).toEqual([]);
  });

  it('lets npm start come up without it, saying what to install and how to skip it', async () => {
    const local = await ensureLocalMariaDb(silentProgress, {
      toolsDir: path.join(dir, 'empty'),
      env: { PATH: dir },
    });
    expect(local.available).toBe(false);
    const reason = local.available ? '' : local.reason;
    expect(reason).toContain('MariaDB is unavailable');
    expect(reason).toContain('mariadb-server-core');
    expect(reason).toContain('apt-get update');
    expect(reason).toContain('ROTOR_DEV_MARIADB=off');
  });

  it('brings the rest of the local stack up without it, and says why it is missing', async () => {
    const stateDir = path.join(dir, 'state');
    await mkdir(stateDir, { mode: 0o711 });
    // PostgreSQL runs as another user when we are root; it must be able to pass through.
    await chmod(dir, 0o711);
    await chmod(stateDir, 0o711);
    const steps: string[] = [];
    const stack = await startStack({
      stateDir,
      ports: 'free',
      fast: true,
      progress: { step: (m) => steps.push(m), done: () => undefined },
      mariadb: true,
      mariadbTools: { toolsDir: path.join(dir, 'empty'), env: { PATH: dir } },
    });
    try {
      expect(stack.mariadb).toMatchObject({ available: false });
      expect(steps.join('\n')).toContain('⚠ MariaDB is unavailable');
      // The other servers answer.
      const vault = await fetch(`${stack.vaultAddr}/v1/sys/health`);
      expect(vault.status).toBe(200);
      const [host, port] = stack.temporalAddress.split(':');
      await new Promise<void>((resolve, reject) => {
        const socket = net.connect(Number(port), host, () => {
          socket.end();
          resolve();
        });
        socket.once('error', reject);
      });
    } finally {
      await stack.stop();
    }
  });
});
