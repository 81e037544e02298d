// `rotor`: the command line for Rotor's HTTP API. ROTOR_API_URL (default http://127.0.0.1:8080)
// and ROTOR_TOKEN (an API token; required) say where and as whom. Each noun's commands live in
// cli/commands/<noun>.ts; this file builds the program and registers them in help order.
import { Command } from 'commander';
import { CliError } from './api-client';
import { registerApprovalCommands } from './commands/approvals';
import { registerAuditCommands } from './commands/audit';
import { registerBulkCommands } from './commands/bulk';
import { createContext } from './commands/context';
import { registerImportCommand } from './commands/import';
import { registerReferenceCommands } from './commands/reference';
import { registerReportCommands } from './commands/report';
import { registerRotationCommands } from './commands/rotations';
import { registerRunCommand } from './commands/run';
import { registerSecretCommands } from './commands/secrets';
import { registerTokenCommands } from './commands/tokens';

const program = new Command()
  .name('rotor')
  .description('Rotor secret-rotation engine: manage secrets, approvals and tokens through the API')
  .option('--json', 'print JSON instead of tables', false)
  .showHelpAfterError();
const ctx = createContext(program);

registerSecretCommands(program, ctx);
registerApprovalCommands(program, ctx);
registerBulkCommands(program, ctx);
registerTokenCommands(program, ctx);
registerAuditCommands(program, ctx);
registerReportCommands(program, ctx);
registerRotationCommands(program, ctx);
registerReferenceCommands(program, ctx);
registerImportCommand(program, ctx);
registerRunCommand(program);

program.parseAsync().catch((err: unknown) => {
  if (err instanceof CliError) {
    process.stderr.write(`✗ ${err.code}: ${err.message}\n`);
    for (const issue of err.issues) process.stderr.write(`  - ${issue.field}: ${issue.message}\n`);
    process.exit(err.exitCode);
  }
  process.stderr.write(`✗ ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
