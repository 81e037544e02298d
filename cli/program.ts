import { Command } from 'commander';
import { registerApiKeyCommands } from './commands/api-keys';
import { registerApprovalCommands } from './commands/approvals';
import { registerAuditCommands } from './commands/audit';
import { registerBulkCommands } from './commands/bulk';
import { registerImportCommand } from './commands/import';
import { registerConnectionCommands } from './commands/connections';
import { createContext } from './commands/context';
import { registerReferenceCommands } from './commands/reference';
import { registerReportCommands } from './commands/report';
import { registerRotationCommands } from './commands/rotations';
import { registerRunCommand } from './commands/run';
import { registerSecretCommands } from './commands/secrets';
import { registerTenantCommands } from './commands/tenants';
import { registerTokenCommands } from './commands/tokens';
import { registerWebhookCommands } from './commands/webhooks';

/**
 * The `rotor` program with every noun registered, in help order. Built without parsing, so a
 * test can walk its commands (cli/operations.ts maps each API operation to one of them).
 */
export function buildProgram(): Command {
  const program = new Command()
    .name('rotor')
    .description(
      'Rotor secret-rotation engine: manage secrets, approvals and tokens through the API',
    )
    .option('--json', 'print JSON instead of tables', false)
    .showHelpAfterError();
  const ctx = createContext(program);

  registerSecretCommands(program, ctx);
  registerApprovalCommands(program, ctx);
  registerBulkCommands(program, ctx);
  registerTokenCommands(program, ctx);
  registerTenantCommands(program, ctx);
  registerAuditCommands(program, ctx);
  registerReportCommands(program, ctx);
  registerRotationCommands(program, ctx);
  registerReferenceCommands(program, ctx);
  registerApiKeyCommands(program, ctx);
  registerConnectionCommands(program, ctx);
  registerWebhookCommands(program, ctx);
  registerImportCommand(program, ctx);
  registerRunCommand(program);
  return program;
}

/** Every command's full path (`secrets policy set`), for the parity test and help checks. */
export function commandPaths(program: Command): string[] {
  const walk = (cmd: Command, prefix: string[]): string[] =>
    cmd.commands.flatMap((c) => {
      const path = [...prefix, c.name()];
      return [path.join(' '), ...walk(c, path)];
    });
  return walk(program, []);
}
