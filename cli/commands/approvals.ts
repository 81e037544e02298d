import type { Command } from 'commander';
import { printObject, printRows } from '../output';
import type { CliContext } from './context';
import { qs } from './context';
import { secretPath } from './names';

/** `rotor approvals list|approve|reject`: rotations waiting for security. */
export function registerApprovalCommands(program: Command, ctx: CliContext): void {
  const approvals = program.command('approvals').description('rotations waiting for security');
  approvals
    .command('list')
    .option('--tenant <id>')
    .action(async (o: { tenant?: string }) => {
      const res = await ctx.api().request<{
        items: Record<string, unknown>[];
        unreachable?: string[];
      }>('GET', `/api/v1/approvals${qs({ tenantId: o.tenant })}`);
      if (res.unreachable?.length) {
        process.stderr.write(
          `! ${res.unreachable.length} waiting workflow(s) did not answer (is a worker running?): ${res.unreachable.join(', ')}\n`,
        );
      }
      printRows(
        res.items,
        [
          'tenantId',
          'name',
          'rotationId',
          'requestedBy',
          'reason',
          'approvals',
          'quorum',
          'expiresAt',
        ],
        ctx.json(),
      );
    });
  approvals
    .command('approve <tenant> <name>')
    .requiredOption('--rotation <id>', 'the rotation id shown by `approvals list`')
    .option('--comment <text>')
    .action(async (tenant: string, name: string, o: { rotation: string; comment?: string }) => {
      const res = await ctx.api().request('POST', secretPath(tenant, name, '/approve'), {
        rotationId: o.rotation,
        ...(o.comment ? { comment: o.comment } : {}),
      });
      printObject(res, ctx.json());
    });
  approvals
    .command('reject <tenant> <name>')
    .requiredOption('--rotation <id>')
    .requiredOption('--reason <text>')
    .action(async (tenant: string, name: string, o: { rotation: string; reason: string }) => {
      printObject(
        await ctx.api().request('POST', secretPath(tenant, name, '/reject'), {
          rotationId: o.rotation,
          reason: o.reason,
        }),
        ctx.json(),
      );
    });
}
