import type { Command } from 'commander';
import { printObject } from '../output';
import type { CliContext } from './context';
import { secretPath } from './names';

const ACTIONS = {
  pause: 'pause the lifecycle: no scheduled rotation until resumed',
  resume: 'resume a paused secret, or one in NEEDS_ATTENTION (which retries its rotation)',
  retry: 'retry the failed rotation of a secret in NEEDS_ATTENTION',
} as const;

/** `rotor secrets pause|resume|retry <tenant> <name> --reason …`: the operator's way back. */
export function registerSecretControlCommands(secrets: Command, ctx: CliContext): void {
  for (const [action, description] of Object.entries(ACTIONS)) {
    secrets
      .command(`${action} <tenant> <name>`)
      .description(description)
      .requiredOption('--reason <text>', 'recorded in the audit trail')
      .action(async (tenant: string, name: string, o: { reason: string }) => {
        const path = secretPath(tenant, name, `/${action}`);
        printObject(await ctx.api().request('POST', path, { reason: o.reason }), ctx.json());
      });
  }
}
