import type { Command } from 'commander';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { qs } from './context';

interface Stats {
  tenantId: string | null;
  secrets: { total: number; byState: Record<string, number>; byType: Record<string, number> };
  overdue: number;
  rotations: { total: number; byStatus: Record<string, number> };
}

interface TypeInfo {
  type: string;
  generated: boolean;
  defaultPolicy: {
    schedule: { kind: string; everySeconds?: number; expression?: string };
    graceSeconds: number;
    requiresApproval: boolean;
  };
}

const DAY = 86_400;
const days = (seconds: number): string =>
  seconds % DAY === 0 ? `${seconds / DAY}d` : `${seconds}s`;

/** `rotor stats`, `rotor types`: counts and reference data. */
export function registerReferenceCommands(program: Command, ctx: CliContext): void {
  program
    .command('stats')
    .description('counts for your scope: secrets by state and type, rotations by outcome')
    .option('--tenant <id>')
    .action(async (o: { tenant?: string }) => {
      const stats = await ctx
        .api()
        .request<Stats>('GET', `/api/v1/stats${qs({ tenantId: o.tenant })}`);
      if (ctx.json()) return printObject(stats, true);
      process.stdout.write(
        `tenant ${stats.tenantId ?? '(all)'}: ${stats.secrets.total} secrets, ${stats.overdue} overdue, ${stats.rotations.total} rotations\n`,
      );
      const rows = [
        ...Object.entries(stats.secrets.byState).map(([key, count]) => ({
          of: 'secrets',
          by: 'state',
          key,
          count,
        })),
        ...Object.entries(stats.secrets.byType).map(([key, count]) => ({
          of: 'secrets',
          by: 'type',
          key,
          count,
        })),
        ...Object.entries(stats.rotations.byStatus).map(([key, count]) => ({
          of: 'rotations',
          by: 'status',
          key,
          count,
        })),
      ];
      printRows(rows, ['of', 'by', 'key', 'count'], false);
    });

  program
    .command('types')
    .description('every secret type with its default policy')
    .action(async () => {
      const res = await ctx.api().request<{ items: TypeInfo[] }>('GET', '/api/v1/types');
      if (ctx.json()) return printRows(res.items as unknown as Record<string, unknown>[], [], true);
      printRows(
        res.items.map((t) => ({
          type: t.type,
          generated: t.generated ? 'yes' : 'owner supplies',
          every:
            t.defaultPolicy.schedule.everySeconds !== undefined
              ? days(t.defaultPolicy.schedule.everySeconds)
              : t.defaultPolicy.schedule.expression,
          approval: t.defaultPolicy.requiresApproval ? 'yes' : 'no',
          grace: days(t.defaultPolicy.graceSeconds),
        })),
        ['type', 'generated', 'every', 'approval', 'grace'],
        false,
      );
    });
}
