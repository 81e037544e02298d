// `rotor`: the command line for Rotor's HTTP API. ROTOR_API_URL (default http://127.0.0.1:8080)
// and ROTOR_TOKEN (an API token; required) say where and as whom. Each noun's commands live in
// cli/commands/<noun>.ts; cli/program.ts builds the program and registers them in help order.
import { CliError } from './api-client';
import { hintFor } from './hints';
import { buildProgram } from './program';

buildProgram()
  .parseAsync()
  .catch((err: unknown) => {
    if (err instanceof CliError) {
      process.stderr.write(`✗ ${err.code}: ${err.message}\n`);
      for (const issue of err.issues)
        process.stderr.write(`  - ${issue.field}: ${issue.message}\n`);
      const hint = hintFor(err.code);
      if (hint) process.stderr.write(`  → ${hint}\n`);
      process.exit(err.exitCode);
    }
    process.stderr.write(`✗ ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  });
