// `rotor run`: start a command with Rotor-managed secrets in its environment, read from Vault with
// a consumer token, and (with --watch) restart or signal it when a rotation is promoted.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { constants } from 'node:os';
import type { Command } from 'commander';
import { createRotorReader, RotorReadError, RotorReadErrorCode } from '../../consumers';
import type { Credential } from '../../consumers';
import { CliError } from '../api-client';
import { createContext } from './context';
import { createApiReader } from './run-api-reader';
import type { RunReader } from './run-api-reader';

/** Could not build the child's environment from what the user asked for; the child never starts. */
const EXIT_BAD_INPUT = 2;
/** Vault did not answer; trying again later may work. */
const EXIT_VAULT_UNAVAILABLE = 69;
/** A command that cannot be started, as shells report it. */
const EXIT_CANNOT_START = 127;
const STOP_TIMEOUT_MS = 10_000;
const FORWARDED = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One `--env NAME=tenant/name#field`. */
export interface EnvBinding {
  variable: string;
  tenant: string;
  name: string;
  field: string;
  /** As the user wrote it, for messages. */
  spec: string;
}

export function parseEnvBinding(spec: string): EnvBinding {
  const m = /^([^=]+)=([^/#]+)\/([^/#]+)(?:#(.+))?$/.exec(spec);
  const [, variable = '', tenant = '', name = '', field = 'value'] = m ?? [];
  if (!m || !ENV_NAME.test(variable)) {
    throw badInput(
      `--env ${JSON.stringify(spec)}: expected NAME=<tenant>/<secret>#<field>, e.g. DB_PASSWORD=acme/orders-db#value`,
    );
  }
  return { variable, tenant, name, field, spec };
}

/** `5s`, `500ms`, `2m`, or a bare number of seconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  const unit = { ms: 1, s: 1000, m: 60_000 }[m?.[2] ?? 's'] ?? 1000;
  const ms = m ? Number(m[1]) * unit : NaN;
  if (!Number.isFinite(ms) || ms < 100) {
    throw badInput(
      `--watch-interval ${JSON.stringify(text)}: expected a duration of at least 100ms, e.g. 5s`,
    );
  }
  return ms;
}

/** `restart`, or a signal name with or without SIG (SIGHUP, HUP, SIGUSR2…). */
export function parseOnRotate(text: string): 'restart' | NodeJS.Signals {
  if (text === 'restart') return 'restart';
  const name = (
    text.toUpperCase().startsWith('SIG') ? text.toUpperCase() : `SIG${text.toUpperCase()}`
  ) as NodeJS.Signals;
  if (!(name in constants.signals) || name === 'SIGKILL' || name === 'SIGSTOP') {
    throw badInput(
      `--on-rotate ${JSON.stringify(text)}: expected "restart" or a signal name such as SIGHUP`,
    );
  }
  return name;
}

function badInput(message: string): CliError {
  return new CliError('ROT_ERR_RUN_INPUT', message, [], EXIT_BAD_INPUT);
}

const secretKey = (b: { tenant: string; name: string }): string => `${b.tenant}/${b.name}`;

/**
 * Reads every bound secret once (one read per secret) and builds the variables. Any secret or
 * field that cannot be had stops here, naming the binding and what is missing, never a value.
 */
async function resolveEnvironment(
  reader: RunReader,
  bindings: EnvBinding[],
  fresh: boolean,
): Promise<{ env: Record<string, string>; versions: Map<string, number> }> {
  const credentials = new Map<string, Credential>();
  for (const b of bindings) {
    const key = secretKey(b);
    if (credentials.has(key)) continue;
    try {
      credentials.set(key, await reader.readCurrent(b.tenant, b.name, { fresh }));
    } catch (err) {
      if (!(err instanceof RotorReadError)) throw err;
      const why = `--env ${b.spec}: ${err.message}`;
      if (err.code === RotorReadErrorCode.Unavailable) {
        throw new CliError('ROT_ERR_VAULT_UNAVAILABLE', why, [], EXIT_VAULT_UNAVAILABLE);
      }
      throw new CliError(`ROT_ERR_RUN_${err.code.toUpperCase()}`, why, [], EXIT_BAD_INPUT);
    }
  }
  const env: Record<string, string> = {};
  for (const b of bindings) {
    const credential = credentials.get(secretKey(b));
    const value = credential?.fields[b.field];
    if (credential === undefined || value === undefined) {
      const has = Object.keys(credential?.fields ?? {}).join(', ') || 'none';
      throw new CliError(
        'ROT_ERR_RUN_NO_SUCH_FIELD',
        `--env ${b.spec}: ${secretKey(b)} (version ${credential?.version ?? '?'}) has no field "${b.field}" (fields: ${has})`,
        [],
        EXIT_BAD_INPUT,
      );
    }
    env[b.variable] = value;
  }
  const versions = new Map([...credentials].map(([key, c]) => [key, c.version]));
  return { env, versions };
}

interface RunOptions {
  env: string[];
  viaApi?: boolean;
  reason?: string;
  watch?: boolean;
  watchInterval: string;
  onRotate: string;
}

export function registerRunCommand(program: Command): void {
  program
    .command('run')
    .description(
      'run a command with Rotor-managed secrets in its environment, read from Vault with a consumer token ' +
        '(VAULT_ADDR, VAULT_TOKEN, VAULT_KV_MOUNT), or with --via-api through the audited value API; ' +
        'exits with the command’s code',
    )
    .argument('<command...>', 'the command and its arguments, after --')
    .option(
      '--env <NAME=tenant/secret#field>',
      'set NAME to a field (value, username…; default value) of the secret’s current version; repeatable',
      (spec: string, all: string[]) => [...all, spec],
      [] as string[],
    )
    .option(
      '--via-api',
      'read through Rotor’s audited value API (ROTOR_API_URL, ROTOR_TOKEN; the secret’s policy must allow value reads) instead of Vault',
    )
    .option('--reason <text>', 'with --via-api: recorded in the audit trail for every read')
    .option('--watch', 'check for a newly promoted version and act on it (--on-rotate)')
    .option('--watch-interval <duration>', 'how often --watch checks (e.g. 500ms, 5s, 1m)', '5s')
    .option(
      '--on-rotate <action>',
      '"restart" (the command gets the new values) or a signal to send it, e.g. SIGHUP',
      'restart',
    )
    .addHelpText(
      'after',
      '\nExample:\n  rotor run --env DB_PASSWORD=acme/orders-db#value --env DB_USER=acme/orders-db#username -- node app.js\n' +
        '\nExit codes: the command’s own (128+N if it died of signal N); 2 when a secret, field or\n' +
        'permission is missing (the command is not started); 69 when Vault is unreachable; 127 when\n' +
        'the command cannot be started. Values are never printed.\n',
    )
    .action(async (command: string[], o: RunOptions) => {
      const bindings = o.env.map(parseEnvBinding);
      if (bindings.length === 0)
        throw badInput('give at least one --env NAME=<tenant>/<secret>#<field>');
      const interval = parseDuration(o.watchInterval);
      const onRotate = parseOnRotate(o.onRotate);
      const reader = o.viaApi ? apiReader(program, o.reason) : vaultReader();
      const first = await resolveEnvironment(reader, bindings, true);
      const [file, ...args] = command;
      if (file === undefined) throw badInput('give the command to run after --');
      const code = await supervise({
        file,
        args,
        first,
        ...(o.watch ? { watch: { reader, bindings, interval, onRotate } } : {}),
      });
      process.exit(code);
    });
}

/** Reads Vault with a consumer token: the default. */
function vaultReader(): RunReader {
  const token = process.env.VAULT_TOKEN;
  if (!token) {
    throw badInput(
      'VAULT_TOKEN is required: a Vault token with the tenant’s consumer policy (deploy/vault/consumer.hcl.tmpl), or use --via-api',
    );
  }
  return createRotorReader({
    vaultAddr: process.env.VAULT_ADDR || 'http://127.0.0.1:8200',
    token,
    mount: process.env.VAULT_KV_MOUNT || 'secret',
    // Every read here is deliberate (start, or a new version seen): no cache.
    cacheTtlMs: 0,
  });
}

/** Reads through the audited value API with the caller's Rotor token and a stated reason. */
function apiReader(program: Command, reason: string | undefined): RunReader {
  if (!reason?.trim()) throw badInput('--via-api needs --reason: every read is audited with it');
  return createApiReader(createContext(program).api(), reason);
}

function note(message: string): void {
  process.stderr.write(`rotor run: ${message}\n`);
}

/**
 * Runs the child until it exits and returns the exit code to use. Forwards SIGINT, SIGTERM and
 * SIGHUP; with `watch`, polls metadata (no value crosses the wire) and, when a secret's newest
 * version changes, restarts the child with the new values or sends it the chosen signal.
 */
function supervise(options: {
  file: string;
  args: string[];
  first: { env: Record<string, string>; versions: Map<string, number> };
  watch?: {
    reader: RunReader;
    bindings: EnvBinding[];
    interval: number;
    onRotate: 'restart' | NodeJS.Signals;
  };
}): Promise<number> {
  return new Promise((resolve) => {
    let versions = options.first.versions;
    let child: ChildProcess;
    /** The child being stopped for a restart: its exit is expected. */
    let replacing: ChildProcess | undefined;
    let terminating = false;
    let finished = false;
    let timer: NodeJS.Timeout | undefined;
    const handlers = new Map<NodeJS.Signals, () => void>();

    const finish = (code: number): void => {
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      for (const [signal, handler] of handlers) process.off(signal, handler);
      resolve(code);
    };
    const exitCode = (code: number | null, signal: NodeJS.Signals | null): number =>
      code ?? 128 + (signal ? (constants.signals[signal] ?? 0) : 0);

    const start = (env: Record<string, string>): ChildProcess => {
      const c = spawn(options.file, options.args, {
        stdio: 'inherit',
        env: { ...process.env, ...env },
      });
      c.on('error', (err: NodeJS.ErrnoException) => {
        if (c !== child) return;
        note(`cannot start ${JSON.stringify(options.file)}: ${err.code ?? err.message}`);
        finish(EXIT_CANNOT_START);
      });
      c.on('exit', (code, signal) => {
        if (c === replacing) return;
        finish(exitCode(code, signal));
      });
      return c;
    };
    child = start(options.first.env);

    for (const signal of FORWARDED) {
      const handler = (): void => {
        if (signal !== 'SIGHUP') terminating = true;
        child.kill(signal);
      };
      handlers.set(signal, handler);
      process.on(signal, handler);
    }

    const restart = async (env: Record<string, string>): Promise<void> => {
      const old = child;
      replacing = old;
      const gone =
        old.exitCode !== null || old.signalCode !== null
          ? Promise.resolve([old.exitCode, old.signalCode] as const)
          : new Promise<readonly [number | null, NodeJS.Signals | null]>((r) =>
              old.once('exit', (code, signal) => r([code, signal])),
            );
      old.kill('SIGTERM');
      const force = setTimeout(() => old.kill('SIGKILL'), STOP_TIMEOUT_MS);
      const [code, signal] = await gone;
      clearTimeout(force);
      replacing = undefined;
      // Asked to stop while the old child was stopping: stop, do not start a new one.
      if (terminating) return finish(exitCode(code, signal));
      if (!finished) child = start(env);
    };

    const watch = options.watch;
    if (!watch) return;
    const poll = async (): Promise<void> => {
      const changed: string[] = [];
      for (const [key, version] of versions) {
        const [tenant = '', name = ''] = key.split('/');
        const now = await watch.reader.currentVersion(tenant, name);
        if (now !== version) changed.push(`${key} version ${now} (was ${version})`);
      }
      if (changed.length === 0 || finished || terminating) return;
      const next = await resolveEnvironment(watch.reader, watch.bindings, true);
      versions = next.versions;
      if (watch.onRotate === 'restart') {
        note(`${changed.join(', ')} promoted; restarting the command`);
        await restart(next.env);
      } else {
        note(`${changed.join(', ')} promoted; sending ${watch.onRotate}`);
        child.kill(watch.onRotate);
      }
    };
    const schedule = (): void => {
      timer = setTimeout(() => {
        poll()
          .catch((err: unknown) => {
            // Keep the command running on what it has; say why the check failed (never a value).
            note(
              `could not check for a new version: ${err instanceof Error ? err.message : String(err)}`,
            );
          })
          .finally(() => {
            if (!finished) schedule();
          });
      }, watch.interval);
    };
    schedule();
  });
}
