import { Option } from 'commander';
import type { Command } from 'commander';
import { printObject } from '../output';
import type { CliContext } from './context';

/** `rotor tokens create <name> --role …`: API tokens. */
export function registerTokenCommands(program: Command, ctx: CliContext): void {
  program
    .command('tokens')
    .description('API tokens')
    .command('create <name>')
    .addOption(
      new Option('--role <role>')
        .choices(['admin', 'security', 'operator', 'tenant'])
        .makeOptionMandatory(),
    )
    .option('--tenant <id>', 'required for tenant tokens')
    .action(async (name: string, o: { role: string; tenant?: string }) => {
      const res = await ctx.api().request('POST', '/api/v1/tokens', {
        name,
        role: o.role,
        ...(o.tenant ? { tenantId: o.tenant } : {}),
      });
      printObject(res, ctx.json());
    });
}
