import type { Command } from 'commander';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { qs } from './context';
import { nameSegment } from './names';

interface TenantView {
  id: string;
  secrets: number;
  notificationSettings: { emails?: string[]; slackChannel?: string };
}

const row = (t: TenantView) => ({
  id: t.id,
  secrets: t.secrets,
  emails: t.notificationSettings.emails?.join(',') || null,
  slack: t.notificationSettings.slackChannel ?? null,
});
const COLUMNS = ['id', 'secrets', 'emails', 'slack'];

/**
 * `rotor tenants list|show|notify` and `rotor notifications failures`: tenants and where they
 * hear about their secrets.
 */
export function registerTenantCommands(program: Command, ctx: CliContext): void {
  const tenants = program.command('tenants').description('tenants and their notification settings');
  tenants
    .command('list')
    .description('tenants with their notification settings (admin)')
    .action(async () => {
      const res = await ctx
        .api()
        .request<{ items: TenantView[] }>('GET', '/api/v1/tenants?limit=200');
      if (ctx.json()) return printObject(res.items, true);
      printRows(res.items.map(row), COLUMNS, false);
    });
  tenants
    .command('show <tenant>')
    .description('one tenant and its notification settings (admin, or the tenant itself)')
    .action(async (tenant: string) => {
      const t = await ctx
        .api()
        .request<TenantView>('GET', `/api/v1/tenants/${nameSegment(tenant, 'tenant')}`);
      if (ctx.json()) return printObject(t, true);
      printObject(row(t), false);
    });
  tenants
    .command('notify <tenant>')
    .description(
      'set where a tenant hears about its secrets (replaces the settings: give every address)',
    )
    .option('--email <address...>', 'one or more email addresses')
    .option('--slack <channel>', 'a Slack channel, e.g. #acme-secrets')
    .action(async (tenant: string, o: { email?: string[]; slack?: string }) => {
      const res = await ctx
        .api()
        .request('PUT', `/api/v1/tenants/${nameSegment(tenant, 'tenant')}/notification-settings`, {
          emails: o.email ?? [],
          ...(o.slack ? { slackChannel: o.slack } : {}),
        });
      printObject(res, ctx.json());
    });

  program
    .command('notifications')
    .description('notification deliveries')
    .command('failures')
    .description('notifications that could not be delivered after every retry')
    .option('--tenant <id>')
    .option('--limit <n>', 'at most this many (1-200, default 50)')
    .action(async (o: { tenant?: string; limit?: string }) => {
      const res = await ctx
        .api()
        .request<{ items: Record<string, unknown>[] }>(
          'GET',
          `/api/v1/notifications/failures${qs({ tenantId: o.tenant, limit: o.limit })}`,
        );
      printRows(
        res.items,
        ['tenant_id', 'audience', 'channel', 'event_count', 'error', 'created_at'],
        ctx.json(),
      );
    });
}
