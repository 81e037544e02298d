import type { Command } from 'commander';
// Type only: the API answers with the bulk workflow's progress; no workflow code is loaded.
import type { BulkProgress } from '../../workflows';
import type { ApiClient } from '../api-client';
import { printObject, progressBar } from '../output';
import type { CliContext } from './context';
import { checkName, idSegment } from './names';

const POLL_MS = 1000;

/**
 * Polls a batch, drawing its progress bar, until every secret in it has settled (or once, when
 * `wait` is false); prints the batch and sets exit status 1 if any rotation failed.
 */
async function followBatch(
  client: ApiClient,
  ctx: CliContext,
  batchId: string,
  wait: boolean,
): Promise<void> {
  const tty = process.stderr.isTTY;
  let last = '';
  for (;;) {
    const p = await client.request<BulkProgress>(
      'GET',
      `/api/v1/rotations/bulk/${idSegment(batchId, 'batchId')}`,
    );
    const settled = p.completed + p.failed + p.awaitingApproval + p.awaitingValue;
    const line = progressBar(
      settled,
      p.requested,
      `rotated ${p.completed}, failed ${p.failed}, awaiting approval ${p.awaitingApproval}, awaiting a value ${p.awaitingValue}`,
    );
    if (line !== last) process.stderr.write(tty ? `\r${line}` : `${line}\n`);
    last = line;
    if (p.done || !wait) {
      if (tty) process.stderr.write('\n');
      // batchId first, as always; the progress carries it too (same value, kept in place).
      printObject(Object.assign({ batchId }, p), ctx.json());
      if (p.failed > 0 || p.unreachable > 0) process.exitCode = 1;
      return;
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}

/**
 * `rotor bulk-rotate`: rotate every matching secret now, with progress until all are settled;
 * `rotor bulk-status <batchId>`: a batch's progress (again).
 */
export function registerBulkCommands(program: Command, ctx: CliContext): void {
  program
    .command('bulk-rotate')
    .description('rotate every matching secret now, showing progress until all are settled')
    .option('--tenant <id>')
    .option('--type <type>')
    .requiredOption('--reason <text>')
    .option('--no-wait', 'print the batch id and return at once')
    .action(async (o: { tenant?: string; type?: string; reason: string; wait: boolean }) => {
      const client = ctx.api();
      const { batchId, total } = await client.request<{ batchId: string; total: number }>(
        'POST',
        '/api/v1/rotations/bulk',
        {
          reason: o.reason,
          ...(o.tenant ? { tenantId: checkName(o.tenant, '--tenant') } : {}),
          ...(o.type ? { type: o.type } : {}),
        },
      );
      process.stderr.write(`batch ${batchId}: ${total} secrets\n`);
      if (!o.wait) return printObject({ batchId, total }, ctx.json());
      await followBatch(client, ctx, batchId, true);
    });
  program
    .command('bulk-status <batchId>')
    .description('the progress of a bulk rotation; --wait follows it until all are settled')
    .option('--wait', 'show progress until every secret in the batch has settled')
    .action(async (batchId: string, o: { wait?: boolean }) => {
      await followBatch(ctx.api(), ctx, batchId, o.wait ?? false);
    });
}
