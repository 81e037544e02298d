import { execFile, spawn } from 'node:child_process';
import { chmod, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import mysql from 'mysql2/promise';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../devstack';
import { REPO_ROOT } from '../../devstack/paths';

/** Every running process whose command line mentions `needle` (the run's own state folder). */
async function processesMentioning(needle: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of (await readdir('/proc')).filter((p) => /^\d+$/.test(p))) {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.includes(needle)) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ')}`);
  }
  return found;
}

function smtpGreeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('data', (d: Buffer) => {
      socket.end('QUIT\r\n');
      resolve(d.toString());
    });
    socket.once('error', reject);
  });
}

describe('the README run command (workers/dev.ts)', () => {
  let stateDir = '';
  afterAll(async () => stateDir && rm(stateDir, { recursive: true, force: true }));

  it('brings up the API and the Temporal UI, and Ctrl-C leaves no process behind', async () => {
    stateDir = await mkdtemp(path.join(os.tmpdir(), 'rotor-run-'));
    await chmod(stateDir, 0o711);
    const apiPort = await freePort();
    const env = {
      ...process.env,
      ROTOR_DEV_STATE_DIR: stateDir,
      ROTOR_DEV_TEMPORAL_PORT: String(await freePort()),
      ROTOR_DEV_TEMPORAL_UI_PORT: String(await freePort()),
      ROTOR_DEV_OPENBAO_PORT: String(await freePort()),
      ROTOR_DEV_OPENBAO_CLUSTER_PORT: String(await freePort()),
      ROTOR_DEV_POSTGRES_PORT: String(await freePort()),
      ROTOR_DEV_REDIS_PORT: String(await freePort()),
      ROTOR_DEV_MARIADB_PORT: String(await freePort()),
      ROTOR_DEV_SMTP_PORT: String(await freePort()),
      API_PORT: String(apiPort),
      ROTOR_WORKER_METRICS_PORT: String(await freePort()),
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'workers/dev.ts'], {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));

    try {
      await expect
        .poll(() => output, { timeout: 150_000, interval: 500 })
        .toContain('Rotor is running.');
      const uiUrl = /Temporal UI\s+(http:\S+)/.exec(output)?.[1];
      expect(uiUrl).toBe(`http://127.0.0.1:${env.ROTOR_DEV_TEMPORAL_UI_PORT}`);
      expect(output).toContain(`http://127.0.0.1:${apiPort}`);

      const health = await (await fetch(`http://127.0.0.1:${apiPort}/healthz`)).json();
      expect(health).toMatchObject({
        status: 'ok',
        dependencies: {
          temporal: { status: 'up' },
          vault: { status: 'up' },
          database: { status: 'up' },
        },
      });
      expect((await fetch(uiUrl ?? '')).status).toBe(200);
      // The dev mailbox is a real SMTP server: it greets with 220.
      expect(await smtpGreeting(Number(env.ROTOR_DEV_SMTP_PORT))).toMatch(/^220 /);
      expect(output).toContain(`Mail (SMTP)  smtp://127.0.0.1:${env.ROTOR_DEV_SMTP_PORT}`);
      const workerMetrics = `http://127.0.0.1:${env.ROTOR_WORKER_METRICS_PORT}/metrics`;
      expect(output).toContain(workerMetrics);
      expect((await fetch(workerMetrics)).status).toBe(200);
      expect((await processesMentioning(stateDir)).length).toBeGreaterThanOrEqual(3);

      // The banner says where the local stack's own secrets are kept, never what they are.
      expect(output).toContain(`Root token   ${path.join(stateDir, 'openbao', 'init.json')}`);
      expect(output).toContain(
        `DB superuser ${path.join(stateDir, 'postgres', 'credentials.json')}`,
      );

      // MariaDB from Debian's packages: the banner names its port, where its admin password is,
      // and a SQL shell command that logs in with it.
      const mariaDbPort = Number(env.ROTOR_DEV_MARIADB_PORT);
      const credentialsFile = path.join(stateDir, 'mariadb', 'credentials.json');
      expect(output).toMatch(
        new RegExp(
          `MariaDB +127\\.0\\.0\\.1:${mariaDbPort} 10\\.\\d+\\.\\d+.*password in ${credentialsFile}`,
        ),
      );
      const { user, password } = JSON.parse(await readFile(credentialsFile, 'utf8')) as {
        user: string;
        password: string;
      };
      expect(output).not.toContain(password);
      const admin = await mysql.createConnection({
        host: '127.0.0.1',
        port: mariaDbPort,
        user,
        password,
      });
      try {
        const [rows] = await admin.query<mysql.RowDataPacket[]>('SELECT CURRENT_USER() AS u');
        expect(rows[0]?.u).toBe(`${user}@%`);
      } finally {
        await admin.end();
      }
      const shell = /SQL shell +(\S+) (--defaults-extra-file=\S+)/.exec(output);
      expect(shell).not.toBeNull();
      const { stdout } = await promisify(execFile)(shell?.[1] ?? '', [
        shell?.[2] ?? '',
        '--batch',
        '--skip-column-names',
        '-e',
        'SELECT CURRENT_USER()',
      ]);
      expect(stdout.trim()).toBe(`${user}@%`);

      // The worker's and the API's full logs are filed in the state folder.
      const logOf = (name: string) => () =>
        readFile(path.join(stateDir, 'logs', `${name}.log`), 'utf8').catch(() => '');
      await expect.poll(logOf('api'), { timeout: 10_000 }).toContain('/healthz');
      await expect.poll(logOf('worker'), { timeout: 10_000 }).toContain('"name":"rotor-worker"');
    } finally {
      child.kill('SIGINT');
    }
    expect(await exited).toBe(0);
    expect(output).toContain('✓ Stopped');
    // PostgreSQL may take a moment after its parent is gone; anything left after that is an orphan.
    await expect
      .poll(() => processesMentioning(stateDir), { timeout: 15_000, interval: 250 })
      .toEqual([]);
  });
});
