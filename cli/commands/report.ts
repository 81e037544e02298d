import type { Command } from 'commander';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { qs } from './context';

interface Report {
  tenantId: string | null;
  window: { since: string; until: string };
  dueBefore: string;
  totals: Record<string, number>;
  overdue: Record<string, unknown>[];
  needsAttention: Record<string, unknown>[];
  failedRotations: Record<string, unknown>[];
  expiringSoon: Record<string, unknown>[];
  approvals: Record<string, unknown>;
  access: Record<string, unknown>[];
  auditIntegrity: {
    ok: boolean;
    chains: number;
    rows: number;
    firstBreak: { message: string } | null;
  };
}

const SECRET_COLUMNS = ['tenantId', 'name', 'type', 'state', 'nextRotationAt', 'lastErrorType'];

export function registerReportCommands(program: Command, ctx: CliContext): void {
  program
    .command('report')
    .description('reports')
    .command('security')
    .description(
      'overdue, failing and soon-due secrets, approval statistics, who did what, audit integrity',
    )
    .option('--tenant <id>')
    .option('--window-days <n>', 'count failures, approvals and access over this many days', '7')
    .option('--due-within-days <n>', 'list secrets due within this many days', '7')
    .action(async (o: { tenant?: string; windowDays: string; dueWithinDays: string }) => {
      const r = await ctx.api().request<Report>(
        'GET',
        `/api/v1/reports/security${qs({
          tenantId: o.tenant,
          windowDays: o.windowDays,
          dueWithinDays: o.dueWithinDays,
        })}`,
      );
      if (ctx.json()) return printObject(r, true);
      const section = (title: string, rows: Record<string, unknown>[], columns: string[]) => {
        process.stdout.write(`\n${title}\n`);
        printRows(rows, columns, false);
      };
      process.stdout.write(
        `Security report for ${r.tenantId ?? 'all tenants'}, ${r.window.since} to ${r.window.until}\n`,
      );
      section(`Overdue (${r.totals.overdue})`, r.overdue, SECRET_COLUMNS);
      section(`Needs attention (${r.totals.needsAttention})`, r.needsAttention, SECRET_COLUMNS);
      section(`Failed rotations (${r.totals.failedRotations})`, r.failedRotations, [
        'tenantId',
        'name',
        'rotationId',
        'status',
        'errorType',
        'at',
      ]);
      section(
        `Due before ${r.dueBefore} (${r.totals.expiringSoon})`,
        r.expiringSoon,
        SECRET_COLUMNS,
      );
      process.stdout.write('\nApprovals\n');
      printObject(r.approvals, false);
      section('Who did what', r.access, ['actor', 'action', 'count', 'secrets', 'lastAt']);
      const a = r.auditIntegrity;
      process.stdout.write(
        a.ok
          ? `\n✓ audit trail intact (${a.chains} chains, ${a.rows} rows)\n`
          : `\n✗ audit chain broken: ${a.firstBreak?.message ?? ''}\n`,
      );
    });
}
