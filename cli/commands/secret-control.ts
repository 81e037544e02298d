import type { Command } from 'commander';
import { printObject } from '../output';
import type { CliContext } from './context';
import { intOption } from './context';
import { secretPath } from './names';
import { newestRotationId, waitForRotation } from './wait';

const ACTIONS = {
  pause: 'pause the lifecycle: no scheduled rotation until resumed',
  resume: 'resume a paused secret, or one in NEEDS_ATTENTION (which retries its rotation)',
  retry: 'retry the failed rotation of a secret in NEEDS_ATTENTION',
  retire: 'retire: revoke what is live and delete it from Vault (admin or the owning tenant)',
  'break-glass': 'emergency rotation (admin): no approval, no grace wait',
} as const;
type Action = keyof typeof ACTIONS;

/** The actions that start a rotation the CLI can follow with --wait. */
const STARTS_ROTATION: ReadonlySet<Action> = new Set(['resume', 'retry', 'break-glass']);
/** The actions the API runs once per Idempotency-Key. */
const TAKES_KEY: ReadonlySet<Action> = new Set(['retire', 'break-glass']);
export const DEFAULT_WAIT_SECONDS = 600;

/**
 * `rotor secrets pause|resume|retry|retire|break-glass <tenant> <name> --reason …`: the
 * operator's controls. `--wait` follows the rotation a resume, retry or break-glass starts, with
 * a progress line, and exits 1 if it fails.
 */
export function registerSecretControlCommands(secrets: Command, ctx: CliContext): void {
  for (const [action, description] of Object.entries(ACTIONS) as [Action, string][]) {
    const command = secrets
      .command(`${action} <tenant> <name>`)
      .description(description)
      .requiredOption('--reason <text>', 'recorded in the audit trail');
    if (TAKES_KEY.has(action)) {
      command.option(
        '--idempotency-key <key>',
        `a retry with the same key does not ${action} twice`,
      );
    }
    if (STARTS_ROTATION.has(action)) {
      command
        .option('--wait', 'follow the rotation it starts until it is promoted or fails')
        .option('--timeout <seconds>', 'give up waiting after this long', intOption);
    }
    command.action(
      async (
        tenant: string,
        name: string,
        o: { reason: string; idempotencyKey?: string; wait?: boolean; timeout?: number },
      ) => {
        const api = ctx.api();
        const path = secretPath(tenant, name, `/${action}`);
        const before = o.wait ? await newestRotationId(api, tenant, name) : null;
        const answer = await api.request<{ state?: string }>(
          'POST',
          path,
          { reason: o.reason },
          o.idempotencyKey ? { 'idempotency-key': o.idempotencyKey } : {},
        );
        // Resuming a paused secret starts no rotation: there is nothing to follow.
        const follows = o.wait && !(action === 'resume' && answer.state === 'PAUSED');
        if (!follows) return printObject(answer, ctx.json());
        const settled = await waitForRotation(api, tenant, name, {
          after: before,
          timeoutSeconds: o.timeout ?? DEFAULT_WAIT_SECONDS,
        });
        printObject(
          {
            ...answer,
            nowState: settled.state,
            rotationId: settled.rotationId,
            rotationStatus: settled.rotationStatus,
          },
          ctx.json(),
        );
        if (!settled.ok) process.exitCode = 1;
      },
    );
  }
}
