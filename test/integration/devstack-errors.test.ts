import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DevstackError,
  ensureOpenBao,
  ensureRedis,
  ensureTemporalCli,
  silentProgress,
  startStack,
} from '../../devstack';

describe('the local stack, when something is missing', () => {
  let emptyTools: string;
  beforeAll(async () => {
    emptyTools = await mkdtemp(path.join(os.tmpdir(), 'rotor-tools-'));
  });
  afterAll(async () => rm(emptyTools, { recursive: true, force: true }));

  it('says to install Go or the Temporal CLI when neither is there', async () => {
    const err = await ensureTemporalCli(silentProgress, {
      toolsDir: emptyTools,
      env: { PATH: emptyTools },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DevstackError);
    expect(err).toMatchObject({ code: 'ROT_DEV_NO_GO' });
    expect((err as Error).message).toMatch(/Install Go .* or set TEMPORAL_CLI/);
  });

  it('says to install Python or OpenBao when neither is there', async () => {
    const err = await ensureOpenBao(silentProgress, {
      toolsDir: emptyTools,
      env: { PATH: emptyTools },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ROT_DEV_NO_PYTHON' });
    expect((err as Error).message).toMatch(/Install Python 3 .* or set BAO_BIN/);
  });

  it('says to install redis-server (or set REDIS_SERVER) when neither it nor apt-get is there', async () => {
    const err = await ensureRedis(silentProgress, {
      toolsDir: emptyTools,
      env: { PATH: emptyTools },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ROT_DEV_NO_REDIS' });
    expect((err as Error).message).toMatch(/apt-get install redis-server.* or set REDIS_SERVER/);
  });

  it('says which variable is wrong when REDIS_SERVER points nowhere', async () => {
    const err = await ensureRedis(silentProgress, {
      toolsDir: emptyTools,
      env: { REDIS_SERVER: '/nonexistent/redis-server' },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ROT_DEV_BAD_TOOL_PATH' });
    expect((err as Error).message).toContain('REDIS_SERVER');
  });

  it('says which variable is wrong when TEMPORAL_CLI points nowhere', async () => {
    const err = await ensureTemporalCli(silentProgress, {
      toolsDir: emptyTools,
      env: { TEMPORAL_CLI: '/nonexistent/temporal' },
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'ROT_DEV_BAD_TOOL_PATH' });
    expect((err as Error).message).toContain('TEMPORAL_CLI');
  });

  it('names a port that is already taken and the variable that moves it', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const taken = (blocker.address() as net.AddressInfo).port;
    try {
      const err = await startStack({
        stateDir: emptyTools,
        ports: {
          temporal: taken,
          temporalUi: 1,
          openbao: 1,
          openbaoCluster: 1,
          postgres: 1,
          redis: 1,
          mariadb: 1,
        },
        progress: silentProgress,
      }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ROT_DEV_PORT_IN_USE' });
      expect((err as Error).message).toContain(
        `Port ${taken} (Temporal frontend) is already in use`,
      );
      expect((err as Error).message).toContain('ROTOR_DEV_TEMPORAL_PORT');
    } finally {
      blocker.close();
    }
  });
});
