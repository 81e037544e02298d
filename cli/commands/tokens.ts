import { Option } from 'commander';
import type { Command } from 'commander';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { intOption, qs } from './context';
import { idSegment } from './names';

const ROLES = ['admin', 'security', 'operator', 'tenant'];

/** `rotor tokens list|create|revoke|rotate`: API tokens (admin). */
export function registerTokenCommands(program: Command, ctx: CliContext): void {
  const tokens = program.command('tokens').description('API tokens (admin)');
  tokens
    .command('create <name>')
    .description('create a token; it is printed once, store it now')
    .addOption(new Option('--role <role>').choices(ROLES).makeOptionMandatory())
    .option('--tenant <id>', 'required for tenant tokens')
    .option(
      '--expires-in <seconds>',
      'lifetime in seconds (default: the API’s ROTOR_TOKEN_TTL_SECONDS, 90 days)',
      intOption,
    )
    .action(async (name: string, o: { role: string; tenant?: string; expiresIn?: number }) => {
      const res = await ctx.api().request('POST', '/api/v1/tokens', {
        name,
        role: o.role,
        ...(o.tenant ? { tenantId: o.tenant } : {}),
        ...(o.expiresIn !== undefined ? { expiresInSeconds: o.expiresIn } : {}),
      });
      printObject(res, ctx.json());
    });
  tokens
    .command('list')
    .description('tokens with role, status, expiry and last use (never the token itself)')
    .option('--tenant <id>')
    .addOption(new Option('--role <role>').choices(ROLES))
    .addOption(new Option('--status <status>').choices(['active', 'expired', 'revoked']))
    .option('--limit <n>', 'at most this many (1-200, default 50)')
    .action(async (o: { tenant?: string; role?: string; status?: string; limit?: string }) => {
      const res = await ctx
        .api()
        .request<{ items: Record<string, unknown>[] }>(
          'GET',
          `/api/v1/tokens${qs({ tenantId: o.tenant, role: o.role, status: o.status, limit: o.limit })}`,
        );
      printRows(
        res.items,
        ['id', 'subject', 'role', 'tenantId', 'status', 'expiresAt', 'lastUsedAt', 'prefix'],
        ctx.json(),
      );
    });
  tokens
    .command('revoke <id>')
    .description('revoke a token: its next request gets 401 ROT_ERR_TOKEN_REVOKED')
    .requiredOption('--reason <text>', 'recorded in the audit trail')
    .action(async (id: string, o: { reason: string }) => {
      const res = await ctx
        .api()
        .request<{ token: Record<string, unknown>; alreadyRevoked: boolean }>(
          'POST',
          `/api/v1/tokens/${idSegment(id, 'id')}/revoke`,
          { reason: o.reason },
        );
      if (ctx.json()) return printObject(res, true);
      printObject(
        {
          ...res.token,
          note: res.alreadyRevoked ? 'was already revoked' : 'revoked now',
        },
        false,
      );
    });
  tokens
    .command('rotate <id>')
    .description(
      'replace a token (the bootstrap admin token too): prints the new one once and revokes the old one',
    )
    .requiredOption('--reason <text>', 'recorded in the audit trail')
    .option('--expires-in <seconds>', 'the new token’s lifetime', intOption)
    .action(async (id: string, o: { reason: string; expiresIn?: number }) => {
      const res = await ctx.api().request('POST', `/api/v1/tokens/${idSegment(id, 'id')}/rotate`, {
        reason: o.reason,
        ...(o.expiresIn !== undefined ? { expiresInSeconds: o.expiresIn } : {}),
      });
      printObject(res, ctx.json());
      if (!ctx.json())
        process.stderr.write('store the new token now; the old one is refused from now on\n');
    });
}
