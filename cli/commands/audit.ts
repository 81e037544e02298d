import type { Command } from 'commander';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { qs } from './context';
import { checkName, nameSegment, secretPath } from './names';

interface ChainResult {
  tenantId: string | null;
  source: string;
  rows: number;
  fromSeq: number | null;
  toSeq: number | null;
  headHash: string | null;
  ok: boolean;
  break: { id: string | null; reason: string; message: string } | null;
}
interface VerifyReport {
  ok: boolean;
  chains: ChainResult[];
  firstBreak: (ChainResult['break'] & { tenantId: string | null; source: string }) | null;
}

/** Exit status of `rotor audit verify` when a chain is broken (1 stays "the command failed"). */
export const BROKEN_CHAIN_EXIT_CODE = 2;

/** Characters of a user agent the events table shows. */
const UA_COLUMN = 40;

export function registerAuditCommands(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description('the tamper-evident audit trail');

  audit
    .command('verify')
    .description(
      `check the hash chains; names the first altered, missing or reordered row and exits ${BROKEN_CHAIN_EXIT_CODE} if any is broken`,
    )
    .option('--tenant <id>', 'only this tenant’s chain')
    .option('--scope <scope>', 'live, archive or all', 'all')
    .action(async (o: { tenant?: string; scope: string }) => {
      const report = await ctx
        .api()
        .request<VerifyReport>(
          'GET',
          `/api/v1/audit/verify${qs({ tenantId: o.tenant, scope: o.scope })}`,
        );
      if (ctx.json()) printObject(report, true);
      else {
        printRows(
          report.chains.map((c) => ({
            ...c,
            tenant: c.tenantId ?? '(system)',
            seqs: c.fromSeq === null ? '-' : `${c.fromSeq}-${c.toSeq}`,
            head: c.headHash?.slice(0, 16) ?? '-',
            status: c.ok ? 'ok' : `BROKEN: ${c.break?.reason}`,
          })),
          ['tenant', 'source', 'rows', 'seqs', 'head', 'status'],
          false,
        );
        const b = report.firstBreak;
        process.stdout.write(
          b
            ? `✗ audit chain broken (${b.tenantId ?? 'system events'}, ${b.source}): ${b.message}\n`
            : '✓ audit trail intact\n',
        );
      }
      if (!report.ok) process.exitCode = BROKEN_CHAIN_EXIT_CODE;
    });

  audit
    .command('events')
    .description('a tenant’s audit events, newest first (or one secret’s with --secret)')
    .requiredOption('--tenant <id>')
    .option('--secret <name>')
    .option('--action <action>', 'exact, or a prefix ending in * (rotation.*)')
    .option('--actor <actor>')
    .option('--since <iso>', 'e.g. 2026-01-01T00:00:00Z')
    .option('--until <iso>')
    .option('--limit <n>', 'at most 500', '100')
    .option('--offset <n>', 'skip this many (paging)', '0')
    .action(
      async (o: {
        tenant: string;
        secret?: string;
        action?: string;
        actor?: string;
        since?: string;
        until?: string;
        limit: string;
        offset: string;
      }) => {
        const path = o.secret
          ? secretPath(o.tenant, o.secret, '/audit', { tenant: '--tenant', name: '--secret' })
          : `/api/v1/tenants/${nameSegment(o.tenant, '--tenant')}/audit`;
        const res = await ctx.api().request<{ items: Record<string, unknown>[] }>(
          'GET',
          `${path}${qs({
            action: o.action,
            actor: o.actor,
            since: o.since,
            until: o.until,
            limit: o.limit,
            offset: o.offset,
          })}`,
        );
        // Who from where: the caller's IP and user agent (clipped in the table; --json has all).
        const clip = (v: unknown) =>
          typeof v === 'string' && v.length > UA_COLUMN ? `${v.slice(0, UA_COLUMN - 1)}…` : v;
        printRows(
          ctx.json() ? res.items : res.items.map((r) => ({ ...r, userAgent: clip(r.userAgent) })),
          [
            'id',
            'occurredAt',
            'secretName',
            'actor',
            'clientIp',
            'userAgent',
            'action',
            'outcome',
            'details',
          ],
          ctx.json(),
        );
      },
    );

  audit
    .command('archive')
    .description(
      'move events older than N days to the archive (admin); checkpoints keep both verifiable',
    )
    .requiredOption('--older-than-days <n>', 'keep this many days live', (v) => Number(v))
    .option('--tenant <id>', 'only this tenant’s chain')
    .action(async (o: { olderThanDays: number; tenant?: string }) => {
      const res = await ctx.api().request('POST', '/api/v1/audit/archive', {
        olderThanDays: o.olderThanDays,
        ...(o.tenant ? { tenantId: checkName(o.tenant, '--tenant') } : {}),
      });
      printObject(res, ctx.json());
    });
}
