import type { Command } from 'commander';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { intOption, qs } from './context';
import { idSegment } from './names';

interface Page {
  items: Record<string, unknown>[];
}

/** `rotor rotations due|list|show`: what is coming up, and what happened. */
export function registerRotationCommands(program: Command, ctx: CliContext): void {
  const rotations = program.command('rotations').description('scheduled and past rotations');
  rotations
    .command('due')
    .description('secrets whose next rotation is due within N days (overdue ones first)')
    .requiredOption('--days <n>', 'how many days ahead to look', intOption)
    .option('--tenant <id>')
    .option('--type <type>')
    .option('--limit <n>', 'at most this many (1-200)', intOption)
    .action(async (o: { days: number; tenant?: string; type?: string; limit?: number }) => {
      const res = await ctx
        .api()
        .request<Page>(
          'GET',
          `/api/v1/rotations/due${qs({ withinDays: o.days, tenantId: o.tenant, type: o.type, limit: o.limit })}`,
        );
      printRows(
        res.items,
        ['tenantId', 'name', 'type', 'state', 'nextRotationAt', 'overdue'],
        ctx.json(),
      );
    });
  rotations
    .command('list')
    .description('rotations, newest first')
    .option('--tenant <id>')
    .option('--secret <name>')
    .option('--status <status>', 'e.g. COMPLETED, FAILED, AWAITING_APPROVAL, REJECTED')
    .option('--limit <n>', 'at most this many (1-200)', intOption)
    .action(async (o: { tenant?: string; secret?: string; status?: string; limit?: number }) => {
      const res = await ctx
        .api()
        .request<Page>(
          'GET',
          `/api/v1/rotations${qs({ tenantId: o.tenant, secret: o.secret, status: o.status, limit: o.limit })}`,
        );
      printRows(
        res.items,
        ['id', 'tenantId', 'secretName', 'status', 'fromVersion', 'toVersion', 'requestedAt'],
        ctx.json(),
      );
    });
  rotations
    .command('show <id>')
    .description('one rotation, with its approval decisions')
    .action(async (id: string) => {
      printObject(
        await ctx.api().request('GET', `/api/v1/rotations/${idSegment(id, 'id')}`),
        ctx.json(),
      );
    });
}
