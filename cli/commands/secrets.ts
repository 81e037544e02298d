import type { Command } from 'commander';
import { CliError } from '../api-client';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { intOption, qs } from './context';
import { secretPath } from './names';
import { DEFAULT_WAIT_SECONDS, registerSecretControlCommands } from './secret-control';
import { printSecretStatus } from './secret-status';
import type { SecretDetail } from './secret-status';
import { registerSecretValueCommands } from './secret-values';
import { waitForRotation } from './wait';

const idempotency = (key: string | undefined): Record<string, string> =>
  key ? { 'idempotency-key': key } : {};

/**
 * `rotor secrets list|create|status|rotate|value|supply|policy|pause|resume|retry|retire|break-glass`:
 * managed secrets.
 */
export function registerSecretCommands(program: Command, ctx: CliContext): void {
  const secrets = program.command('secrets').description('managed secrets');
  secrets
    .command('list')
    .description('list secrets')
    .option('--tenant <id>')
    .option('--type <type>')
    .option('--state <state>')
    .option('--limit <n>', 'at most this many (1-200, default 50)')
    .action(async (o: { tenant?: string; type?: string; state?: string; limit?: string }) => {
      const res = await ctx
        .api()
        .request<{ items: Record<string, unknown>[] }>(
          'GET',
          `/api/v1/secrets${qs({ tenantId: o.tenant, type: o.type, state: o.state, limit: o.limit })}`,
        );
      printRows(
        res.items,
        ['tenantId', 'name', 'type', 'state', 'currentVersion', 'nextRotationAt'],
        ctx.json(),
      );
    });
  secrets
    .command('create <tenant> <name>')
    .description('bring a secret under management')
    .requiredOption(
      '--type <type>',
      'api_key, database_password, service_token, encryption_key, jwt_secret, webhook_secret…',
    )
    .option('--interval <seconds>', 'rotate every N seconds', (v) => Number(v))
    .option('--cron <expression>', 'rotate on a cron schedule')
    .option('--grace <seconds>', 'keep the previous version valid this long', (v) => Number(v))
    .option('--allow-value-read', 'let `secrets value` read it over the API (audited)')
    .option('--requires-approval', 'rotations wait for security')
    .option('--no-requires-approval', 'rotations need no approval (the type may require one)')
    .option('--max-attempts <n>', 'attempts per step before NEEDS_ATTENTION (1-20)', intOption)
    .option(
      '--target <json>',
      'the system that must accept each value, e.g. {"kind":"postgres_role","strategy":"single","role":"orders_app"}',
    )
    .option('--idempotency-key <key>', 'a retry with the same key creates nothing twice')
    .action(
      async (
        tenant: string,
        name: string,
        o: {
          type: string;
          interval?: number;
          cron?: string;
          grace?: number;
          allowValueRead?: boolean;
          requiresApproval?: boolean;
          maxAttempts?: number;
          target?: string;
          idempotencyKey?: string;
        },
      ) => {
        let target: unknown;
        if (o.target !== undefined) {
          try {
            target = JSON.parse(o.target) as unknown;
          } catch {
            throw new CliError('ROT_ERR_VALIDATION', '--target must be a JSON object', [], 2);
          }
        }
        const policy = {
          ...(o.interval !== undefined ? { intervalSeconds: o.interval } : {}),
          ...(o.cron !== undefined ? { cron: o.cron } : {}),
          ...(o.grace !== undefined ? { graceSeconds: o.grace } : {}),
          ...(o.allowValueRead ? { allowValueRead: true } : {}),
          ...(o.requiresApproval !== undefined ? { requiresApproval: o.requiresApproval } : {}),
          ...(o.maxAttempts !== undefined ? { maxAttempts: o.maxAttempts } : {}),
        };
        const res = await ctx.api().request(
          'POST',
          '/api/v1/secrets',
          {
            tenantId: tenant,
            name,
            type: o.type,
            ...(Object.keys(policy).length ? { policy } : {}),
            ...(target !== undefined ? { target } : {}),
          },
          idempotency(o.idempotencyKey),
        );
        printObject(res, ctx.json());
      },
    );
  secrets
    .command('status <tenant> <name>')
    .description('state, versions, schedule, pending approval and recent rotations')
    .action(async (tenant: string, name: string) => {
      const s = await ctx.api().request<SecretDetail>('GET', secretPath(tenant, name));
      if (ctx.json()) printObject(s, true);
      else printSecretStatus(s);
    });
  secrets
    .command('rotate <tenant> <name>')
    .description('rotate now (or, with --in-window, in the next maintenance window)')
    .requiredOption('--reason <text>')
    .option(
      '--in-window',
      "wait for the policy's next maintenance window (default: rotate at once)",
    )
    .option('--idempotency-key <key>', 'a retry with the same key rotates once')
    .option('--wait', 'follow the rotation until it is promoted, fails or waits for a person')
    .option('--timeout <seconds>', 'give up waiting after this long', intOption)
    .action(
      async (
        tenant: string,
        name: string,
        o: {
          reason: string;
          idempotencyKey?: string;
          inWindow?: boolean;
          wait?: boolean;
          timeout?: number;
        },
      ) => {
        const api = ctx.api();
        const answer = await api.request<{ rotationId: string }>(
          'POST',
          secretPath(tenant, name, '/rotate'),
          { reason: o.reason, ...(o.inWindow ? { start: 'window' } : {}) },
          idempotency(o.idempotencyKey),
        );
        if (!o.wait) return printObject(answer, ctx.json());
        const settled = await waitForRotation(api, tenant, name, {
          rotationId: answer.rotationId,
          timeoutSeconds: o.timeout ?? DEFAULT_WAIT_SECONDS,
        });
        printObject(
          { ...answer, nowState: settled.state, rotationStatus: settled.rotationStatus },
          ctx.json(),
        );
        if (!settled.ok) process.exitCode = 1;
      },
    );
  secrets
    .command('value <tenant> <name>')
    .description(
      'print the current value (audited; only if its policy allows value reads). Prefer reading Vault.',
    )
    .requiredOption('--reason <text>', 'recorded in the audit trail')
    .action(async (tenant: string, name: string, o: { reason: string }) => {
      const res = await ctx.api().request<{
        value: string;
        version: number;
      }>('POST', secretPath(tenant, name, '/value'), { reason: o.reason });
      // The bare value, so it can be piped; --json adds the version.
      if (ctx.json()) printObject(res, true);
      else process.stdout.write(`${res.value}\n`);
    });
  registerSecretValueCommands(secrets, ctx);
  registerSecretControlCommands(secrets, ctx);
}
