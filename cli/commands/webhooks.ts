import type { Command } from 'commander';
import { WEBHOOK_EVENTS } from '../../domain/webhooks';
import { CliError } from '../api-client';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { idSegment, nameSegment } from './names';

interface Endpoint {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: string | null;
  secretRotatedAt: string | null;
  secretPath: string;
}

const base = (tenant: string): string =>
  `/api/v1/tenants/${nameSegment(tenant, 'tenant')}/webhooks`;
const one = (tenant: string, id: string): string => `${base(tenant)}/${idSegment(id, 'id')}`;

/** The signing secret, said once and plainly: it cannot be read back later. */
function printSecret(
  res: { signingSecret: string } & Record<string, unknown>,
  json: boolean,
): void {
  if (json) return printObject(res, true);
  const { signingSecret, ...rest } = res;
  printObject(rest, false);
  process.stdout.write(
    `\nsigning secret (shown once; store it with the receiver): ${signingSecret}\n`,
  );
}

function eventList(raw: string | undefined): string[] | undefined {
  if (raw === undefined) return undefined;
  const events = raw
    .split(',')
    .map((e) => e.trim())
    .filter(Boolean);
  const unknown = events.filter((e) => !(WEBHOOK_EVENTS as readonly string[]).includes(e));
  if (events.length === 0 || unknown.length > 0) {
    throw new CliError(
      'ROT_ERR_VALIDATION',
      '--events names an unknown event; nothing was sent',
      [
        {
          field: 'events',
          message: `must be a comma-separated list of ${WEBHOOK_EVENTS.join(', ')}`,
        },
      ],
      2,
    );
  }
  return events;
}

/** `rotor webhooks …`: a tenant's signed webhook endpoints (admin, or the tenant itself). */
export function registerWebhookCommands(program: Command, ctx: CliContext): void {
  const webhooks = program
    .command('webhooks')
    .description("a tenant's signed webhook endpoints (admin, or the tenant itself)");

  webhooks
    .command('create <tenant>')
    .description(
      'add an endpoint; prints its signing secret (whsec_…) once: Rotor keeps it in Vault only',
    )
    .requiredOption('--url <url>', 'http(s) URL that receives the POSTs (no user:password@)')
    .option('--events <list>', `comma-separated; default all: ${WEBHOOK_EVENTS.join(',')}`)
    .option('--disabled', 'create it without sending to it yet')
    .action(async (tenant: string, o: { url: string; events?: string; disabled?: boolean }) => {
      const events = eventList(o.events);
      const res = await ctx
        .api()
        .request<{ signingSecret: string } & Record<string, unknown>>('POST', base(tenant), {
          url: o.url,
          ...(events ? { events } : {}),
          ...(o.disabled ? { enabled: false } : {}),
        });
      printSecret(res, ctx.json());
    });

  webhooks
    .command('list <tenant>')
    .description("the tenant's endpoints (never their secrets)")
    .action(async (tenant: string) => {
      const res = await ctx.api().request<{ endpoints: Endpoint[] }>('GET', base(tenant));
      if (ctx.json()) return printObject(res.endpoints, true);
      printRows(
        res.endpoints.map((e) => ({ ...e, events: e.events.join(',') })),
        ['id', 'url', 'events', 'enabled', 'createdAt', 'secretRotatedAt'],
        false,
      );
    });

  webhooks
    .command('delete <tenant> <id>')
    .description('remove an endpoint and its signing secret')
    .action(async (tenant: string, id: string) => {
      printObject(await ctx.api().request('DELETE', one(tenant, id)), ctx.json());
    });

  webhooks
    .command('rotate-secret <tenant> <id>')
    .description('a new signing secret, printed once; the old one also signs for 24 hours')
    .action(async (tenant: string, id: string) => {
      const res = await ctx
        .api()
        .request<{ signingSecret: string } & Record<string, unknown>>(
          'POST',
          `${one(tenant, id)}/rotate-secret`,
        );
      printSecret(res, ctx.json());
    });

  webhooks
    .command('test <tenant> <id>')
    .description('send a signed webhook.test event now and show the answer; exits 1 if refused')
    .action(async (tenant: string, id: string) => {
      const res = await ctx
        .api()
        .request<{ delivered: boolean }>('POST', `${one(tenant, id)}/test`);
      printObject(res, ctx.json());
      if (!res.delivered) process.exitCode = 1;
    });
}
