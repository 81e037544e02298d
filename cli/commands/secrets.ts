import type { Command } from 'commander';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { qs } from './context';
import { secretPath } from './names';
import { registerSecretControlCommands } from './secret-control';

const idempotency = (key: string | undefined): Record<string, string> =>
  key ? { 'idempotency-key': key } : {};

/** `rotor secrets list|create|status|rotate|value|pause|resume|retry`: managed secrets. */
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
          idempotencyKey?: string;
        },
      ) => {
        const policy = {
          ...(o.interval !== undefined ? { intervalSeconds: o.interval } : {}),
          ...(o.cron !== undefined ? { cron: o.cron } : {}),
          ...(o.grace !== undefined ? { graceSeconds: o.grace } : {}),
          ...(o.allowValueRead ? { allowValueRead: true } : {}),
        };
        const res = await ctx.api().request(
          'POST',
          '/api/v1/secrets',
          {
            tenantId: tenant,
            name,
            type: o.type,
            ...(Object.keys(policy).length ? { policy } : {}),
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
      printObject(await ctx.api().request('GET', secretPath(tenant, name)), ctx.json());
    });
  secrets
    .command('rotate <tenant> <name>')
    .description('rotate now')
    .requiredOption('--reason <text>')
    .option('--idempotency-key <key>', 'a retry with the same key rotates once')
    .action(
      async (tenant: string, name: string, o: { reason: string; idempotencyKey?: string }) => {
        printObject(
          await ctx
            .api()
            .request(
              'POST',
              secretPath(tenant, name, '/rotate'),
              { reason: o.reason },
              idempotency(o.idempotencyKey),
            ),
          ctx.json(),
        );
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
  registerSecretControlCommands(secrets, ctx);
}
