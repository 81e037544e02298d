import type { Command } from 'commander';
import { CliError } from '../api-client';
import { printObject } from '../output';
import { readSecretInput } from '../read-input';
import type { CliContext } from './context';
import { intOption } from './context';
import { secretPath } from './names';
import { policyLines } from './secret-status';
import type { SecretDetail } from './secret-status';

interface PolicyFlags {
  file?: string;
  interval?: number;
  cron?: string;
  cronTz?: string;
  grace?: number;
  requiresApproval?: boolean;
  allowValueRead?: boolean;
  autoGenerate?: boolean;
  maxAttempts?: number;
  versionsKept?: number;
  repairEvery?: number;
}

/** The overrides a `policy set` sends: the file's object (if any), then each flag given. */
async function overridesFrom(o: PolicyFlags): Promise<Record<string, unknown>> {
  let base: Record<string, unknown> = {};
  if (o.file !== undefined) {
    const text = await readSecretInput(o.file, '--file');
    try {
      const parsed = JSON.parse(text) as unknown;
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error();
      base = parsed as Record<string, unknown>;
    } catch {
      throw new CliError(
        'ROT_ERR_VALIDATION',
        '--file must hold one JSON object of policy fields',
        [],
        2,
      );
    }
  }
  const flags: Record<string, unknown> = {
    intervalSeconds: o.interval,
    cron: o.cron,
    cronTimeZone: o.cronTz,
    graceSeconds: o.grace,
    requiresApproval: o.requiresApproval,
    allowValueRead: o.allowValueRead,
    autoGenerate: o.autoGenerate,
    maxAttempts: o.maxAttempts,
    versionsKept: o.versionsKept,
    repairEverySeconds: o.repairEvery,
  };
  for (const [k, v] of Object.entries(flags)) if (v !== undefined) base[k] = v;
  return base;
}

/**
 * `rotor secrets supply` (a value from a file or stdin, never an argument) and `rotor secrets
 * policy get|set`.
 */
export function registerSecretValueCommands(secrets: Command, ctx: CliContext): void {
  secrets
    .command('supply <tenant> <name>')
    .description(
      'supply the new value of a secret Rotor cannot generate (OAuth client secret, certificate) while its rotation waits for one; read from a file or stdin, never from an argument',
    )
    .option('--value-file <path>', 'the value (a certificate: its PEM); "-" or omitted: stdin')
    .option('--private-key-file <path>', 'tls_certificate: the PEM private key matching it')
    .action(
      async (tenant: string, name: string, o: { valueFile?: string; privateKeyFile?: string }) => {
        const path = secretPath(tenant, name, '/supply');
        if (o.privateKeyFile === '-' && (o.valueFile ?? '-') === '-') {
          throw new CliError(
            'ROT_ERR_VALIDATION',
            'only one of the value and the key can come from stdin',
            [],
            2,
          );
        }
        const value = await readSecretInput(o.valueFile, '--value-file');
        const privateKey =
          o.privateKeyFile === undefined
            ? undefined
            : await readSecretInput(o.privateKeyFile, '--private-key-file');
        const res = await ctx
          .api()
          .request('POST', path, { value, ...(privateKey === undefined ? {} : { privateKey }) });
        printObject(res, ctx.json());
      },
    );

  const policy = secrets.command('policy').description("a secret's rotation policy");
  policy
    .command('get <tenant> <name>')
    .description('the policy in force: the type’s defaults with the secret’s overrides')
    .action(async (tenant: string, name: string) => {
      const s = await ctx.api().request<SecretDetail>('GET', secretPath(tenant, name));
      if (ctx.json()) return printObject(s.policy ?? {}, true);
      const lines = policyLines(s.policy ?? {});
      const width = Math.max(0, ...lines.map(([k]) => k.length));
      for (const [k, v] of lines) process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
    });
  policy
    .command('set <tenant> <name>')
    .description(
      'replace the policy overrides: the fields given (flags, or a JSON object in --file) are the new overrides, and any other field reverts to the type’s default. The next rotation is rescheduled.',
    )
    .option('--file <path>', 'a JSON object of policy fields (as at create); "-": stdin')
    .option('--interval <seconds>', 'rotate every N seconds', intOption)
    .option('--cron <expression>', 'rotate on a cron schedule')
    .option('--cron-tz <zone>', 'the cron’s IANA time zone')
    .option('--grace <seconds>', 'keep the previous version valid this long', intOption)
    .option('--requires-approval', 'rotations wait for security')
    .option('--no-requires-approval', 'rotations need no approval')
    .option('--allow-value-read', 'let `secrets value` read it over the API (audited)')
    .option('--no-allow-value-read', 'refuse value reads over the API')
    .option('--auto-generate', 'Rotor generates each value')
    .option('--no-auto-generate', 'the owner supplies each value')
    .option('--max-attempts <n>', 'attempts per step before NEEDS_ATTENTION (1-20)', intOption)
    .option('--versions-kept <n>', 'KV versions Vault keeps (1-100)', intOption)
    .option('--repair-every <seconds>', 'first retry of an owed repair (1-3600)', intOption)
    .action(async (tenant: string, name: string, o: PolicyFlags) => {
      const body = await overridesFrom(o);
      const res = await ctx
        .api()
        .request<{ accepted: true; policy: Record<string, unknown> }>(
          'PUT',
          secretPath(tenant, name, '/policy'),
          body,
        );
      if (ctx.json()) return printObject(res, true);
      process.stdout.write('accepted; the policy in force is now:\n');
      for (const [k, v] of policyLines(res.policy)) process.stdout.write(`  ${k}  ${v}\n`);
    });
}
