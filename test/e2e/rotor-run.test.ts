import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { REPO_ROOT } from '../../devstack/paths';
import { uniqueName } from '../helpers/stack';
import { consumerToken, writeVersion } from '../helpers/vault-policy';

/**
 * The command `rotor run` starts in these tests. It records what it received in files (never on
 * stdout, which the test checks for values): its environment, and each signal it gets.
 */
const CHILD = `
import { appendFileSync, writeFileSync } from 'node:fs';
const out = process.env.RUN_OUT_DIR;
writeFileSync(out + '/' + process.pid + '.env.json', JSON.stringify({
  password: process.env.DB_PASSWORD, user: process.env.DB_USER, path: process.env.PATH,
}));
for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP']) {
  process.on(sig, () => {
    appendFileSync(out + '/' + process.pid + '.signals', sig + '\\n');
    if (sig !== 'SIGHUP') process.exit(42);
  });
}
const [mode, arg] = process.argv.slice(2);
if (mode === 'exit') process.exit(Number(arg));
if (mode === 'kill') process.kill(process.pid, 'SIGKILL');
process.stdout.write('child ' + process.pid + ' ready\\n');
setInterval(() => undefined, 1000);
`;

interface Run {
  proc: ChildProcess;
  exited: Promise<number | null>;
  output: () => string;
  waitForOutput: (text: string | RegExp, occurrences?: number) => Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, read: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    const value = await read();
    if (value !== undefined) return value;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('rotor run, as a subprocess against OpenBao with a consumer token', () => {
  const tenant = uniqueName('run');
  const other = uniqueName('run-other');
  let token = '';
  let workDir = '';
  let childScript = '';
  /** Every value planted in Vault by this file; none may appear in any output. */
  const values: string[] = [];
  const outputs: string[] = [];
  const plant = (): string => {
    const v = `PLANTED-${randomBytes(12).toString('hex')}`;
    values.push(v);
    return v;
  };

  beforeAll(async () => {
    token = await consumerToken(tenant);
    workDir = await mkdtemp(path.join(os.tmpdir(), 'rotor-run-cli-'));
    childScript = path.join(workDir, 'child.mjs');
    await writeFile(childScript, CHILD);
  });
  afterAll(async () => {
    if (workDir) await rm(workDir, { recursive: true, force: true });
  });

  /** A fresh folder the child writes into, so each test sees only its own children. */
  const outDir = async (): Promise<string> => mkdtemp(path.join(workDir, 'out-'));

  function run(args: string[], env: Record<string, string | undefined> = {}): Run {
    const proc = spawn(path.join(REPO_ROOT, 'bin/rotor'), ['run', ...args], {
      cwd: REPO_ROOT,
      env: {
        PATH: process.env.PATH,
        VAULT_ADDR: inject('stack').vaultAddr,
        VAULT_TOKEN: token,
        VAULT_KV_MOUNT: inject('stack').kvMount,
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let text = '';
    proc.stdout?.on('data', (d: Buffer) => (text += d.toString()));
    proc.stderr?.on('data', (d: Buffer) => (text += d.toString()));
    const exited = new Promise<number | null>((resolve) =>
      proc.on('exit', (code) => {
        outputs.push(text);
        resolve(code);
      }),
    );
    return {
      proc,
      exited,
      output: () => text,
      waitForOutput: (pattern, occurrences = 1) =>
        until(`${String(pattern)} in the output of rotor run`, () => {
          const re = typeof pattern === 'string' ? new RegExp(pattern, 'g') : pattern;
          const count = [...text.matchAll(new RegExp(re.source, 'g'))].length;
          return Promise.resolve(count >= occurrences ? true : undefined);
        }).then(() => undefined),
    };
  }

  const childEnvs = async (
    dir: string,
  ): Promise<{ pid: string; password?: string; user?: string }[]> =>
    Promise.all(
      (await readdir(dir))
        .filter((f) => f.endsWith('.env.json'))
        .map(async (f) => ({
          pid: f.split('.')[0] ?? '',
          ...(JSON.parse(await readFile(path.join(dir, f), 'utf8')) as {
            password?: string;
            user?: string;
          }),
        })),
    );
  const signalsOf = async (dir: string, pid: string): Promise<string[]> =>
    (await readFile(path.join(dir, `${pid}.signals`), 'utf8').catch(() => ''))
      .split('\n')
      .filter(Boolean);

  const bind = (name: string) => [
    '--env',
    `DB_PASSWORD=${tenant}/${name}#value`,
    '--env',
    `DB_USER=${tenant}/${name}#username`,
  ];

  it("starts the command with the secret's fields in its environment and exits with its code", async () => {
    const password = plant();
    await writeVersion(`rotor/${tenant}/orders-db`, {
      value: password,
      username: 'orders_a',
      rotor_rotation_id: 'r1',
    });
    const dir = await outDir();
    const r = run([...bind('orders-db'), '--', process.execPath, childScript, 'exit', '7'], {
      RUN_OUT_DIR: dir,
    });
    expect(await r.exited, r.output()).toBe(7);
    const [child] = await childEnvs(dir);
    expect(child?.password).toBe(password);
    expect(child?.user).toBe('orders_a');
    // The rest of the environment passes through.
    expect((child as { path?: string } | undefined)?.path).toBe(process.env.PATH);
    expect(r.output()).not.toContain(password);
  });

  it('exits with 128+N when the command dies of signal N', async () => {
    await writeVersion(`rotor/${tenant}/killed`, { value: plant(), username: 'u' });
    const dir = await outDir();
    const r = run([...bind('killed'), '--', process.execPath, childScript, 'kill'], {
      RUN_OUT_DIR: dir,
    });
    expect(await r.exited, r.output()).toBe(128 + os.constants.signals.SIGKILL);
  });

  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    it(`forwards SIGHUP and ${signal} to the command and exits with the code it chose`, async () => {
      await writeVersion(`rotor/${tenant}/signals`, { value: plant(), username: 'u' });
      const dir = await outDir();
      const r = run([...bind('signals'), '--', process.execPath, childScript], {
        RUN_OUT_DIR: dir,
      });
      await r.waitForOutput('ready');
      const [child] = await childEnvs(dir);
      r.proc.kill('SIGHUP');
      await until('SIGHUP at the child', async () =>
        (await signalsOf(dir, child?.pid ?? '')).includes('SIGHUP') ? true : undefined,
      );
      r.proc.kill(signal);
      expect(await r.exited, r.output()).toBe(42);
      expect(await signalsOf(dir, child?.pid ?? '')).toEqual(['SIGHUP', signal]);
    });
  }

  it('refuses an unknown secret or field, a secret the token may not read, and bad input, with exit 2 and no command started', async () => {
    await writeVersion(`rotor/${tenant}/present`, { value: plant(), username: 'u' });
    await writeVersion(`rotor/${other}/theirs`, { value: plant() });
    await writeVersion(`rotor-staging/${tenant}/present`, { value: plant() });
    const cases: [string[], RegExp, Record<string, string | undefined>?][] = [
      [
        ['--env', `A=${tenant}/absent#value`],
        new RegExp(`${tenant}/absent.*HTTP 404.*no such secret`),
      ],
      [
        ['--env', `A=${tenant}/present#password`],
        new RegExp(`${tenant}/present.*no field "password" \\(fields: username, value\\)`),
      ],
      [
        ['--env', `A=${other}/theirs#value`],
        new RegExp(`${other}/theirs.*HTTP 403.*permission denied`),
      ],
      [
        ['--env', `A=${tenant}/present#value`],
        /VAULT_TOKEN is required/,
        { VAULT_TOKEN: undefined },
      ],
      [
        ['--env', `A=${tenant}/present#value`],
        new RegExp(`${tenant}/present.*HTTP 403`),
        { VAULT_TOKEN: 'not-a-token' },
      ],
      [['--env', 'A=no-slash'], /expected NAME=<tenant>\/<secret>#<field>/],
      [['--env', `1A=${tenant}/present#value`], /expected NAME=/],
      [['--env', `A=${tenant}/Bad_Name#value`], /cannot read/],
      [
        ['--env', `A=${tenant}/present`, '--on-rotate', 'SIGNOPE', '--watch'],
        /--on-rotate "SIGNOPE"/,
      ],
      [['--env', `A=${tenant}/present`, '--watch-interval', 'soon'], /--watch-interval "soon"/],
      [[], /at least one --env/],
    ];
    for (const [args, message, env] of cases) {
      const dir = await outDir();
      const r = run([...args, '--', process.execPath, childScript], { RUN_OUT_DIR: dir, ...env });
      expect(await r.exited, `${args.join(' ')}: ${r.output()}`).toBe(2);
      expect(r.output(), args.join(' ')).toMatch(message);
      expect(await readdir(dir), `${args.join(' ')} started the command`).toEqual([]);
    }
  });

  it('--watch restarts the command with the new values when a new version is promoted', async () => {
    const path_ = `rotor/${tenant}/watched`;
    const first = plant();
    await writeVersion(path_, { value: first, username: 'orders_a' });
    const dir = await outDir();
    const r = run(
      [
        ...bind('watched'),
        '--watch',
        '--watch-interval',
        '200ms',
        '--',
        process.execPath,
        childScript,
      ],
      { RUN_OUT_DIR: dir },
    );
    await r.waitForOutput('ready');
    const [before] = await childEnvs(dir);
    expect(before?.password).toBe(first);

    // A promote: the alternating strategy's next version, with the other role.
    const second = plant();
    await writeVersion(path_, { value: second, username: 'orders_b' });
    await r.waitForOutput('ready', 2);
    const after = (await childEnvs(dir)).find((c) => c.pid !== before?.pid);
    expect(after).toMatchObject({ password: second, user: 'orders_b' });
    expect(await signalsOf(dir, before?.pid ?? '')).toEqual(['SIGTERM']);
    expect(r.output()).toMatch(
      new RegExp(`${tenant}/watched version 2 \\(was 1\\) promoted; restarting`),
    );

    r.proc.kill('SIGTERM');
    expect(await r.exited).toBe(42);
    expect(await signalsOf(dir, after?.pid ?? '')).toEqual(['SIGTERM']);
    expect((await childEnvs(dir)).length).toBe(2);
  });

  it('--watch --on-rotate SIGHUP signals the running command instead of restarting it', async () => {
    const path_ = `rotor/${tenant}/hup`;
    await writeVersion(path_, { value: plant(), username: 'u' });
    const dir = await outDir();
    const r = run(
      [
        ...bind('hup'),
        '--watch',
        '--watch-interval',
        '200ms',
        '--on-rotate',
        'HUP',
        '--',
        process.execPath,
        childScript,
      ],
      { RUN_OUT_DIR: dir },
    );
    await r.waitForOutput('ready');
    const [child] = await childEnvs(dir);
    await writeVersion(path_, { value: plant(), username: 'u' });
    await until('SIGHUP at the child', async () =>
      (await signalsOf(dir, child?.pid ?? '')).includes('SIGHUP') ? true : undefined,
    );
    expect(r.output()).toMatch(/version 2 \(was 1\) promoted; sending SIGHUP/);
    r.proc.kill('SIGTERM');
    expect(await r.exited).toBe(42);
    expect((await childEnvs(dir)).map((c) => c.pid)).toEqual([child?.pid]);
  });

  it('never printed a value: every output of every run above is free of them', () => {
    expect(outputs.length).toBeGreaterThanOrEqual(15);
    for (const text of outputs) {
      for (const v of values) expect(text).not.toContain(v);
      expect(text).not.toContain('PLANTED');
      expect(text).not.toContain(token);
    }
  });
});
