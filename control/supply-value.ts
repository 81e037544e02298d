import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { VaultKv } from '../vault';
import { writeStaged } from '../vault';
import { ErrorType } from '../domain';
import type { RequestOrigin, SecretType } from '../domain';
import { statusQuery, supplyValueUpdate } from '../workflows';
import { checkSuppliedValue } from './validate-supplied';
import type { SuppliedValue } from './validate-supplied';

/** A value supplied when no rotation waits for one, or for the wrong one; HTTP 409. */
export class SupplyRefusedError extends Error {
  readonly code = 'ROT_ERR_NOT_AWAITING_VALUE';
  readonly statusCode = 409;
  constructor(message: string) {
    super(message);
    this.name = 'SupplyRefusedError';
  }
}

export interface SupplyDeps {
  temporal: Client;
  vault: Pick<VaultKv, 'metadata' | 'write' | 'setLabels' | 'destroyVersions' | 'deleteAll'>;
  maxValueBytes: number;
}

/**
 * The secret as its row records it: its workflow and its consumer path were decided once, when
 * it was created (start-secret), and are never derived again here.
 */
export interface SuppliedSecret {
  workflowId: string;
  vaultPath: string;
  type: SecretType;
}

/**
 * The owner's new value for a supplied type. Checked, written to Vault as a pending version
 * here (it never passes through the workflow), then handed to the workflow by version number.
 * If the workflow refuses it, the version is destroyed again.
 */
export async function supplyValue(
  deps: SupplyDeps,
  secret: SuppliedSecret,
  input: SuppliedValue,
  suppliedBy: string,
  origin?: RequestOrigin,
): Promise<{ rotationId: string; version: number; expiresAt: string | null }> {
  const checked = checkSuppliedValue(secret.type, input, deps.maxValueBytes);
  const handle = deps.temporal.workflow.getHandle(secret.workflowId);
  const status = await handle.query(statusQuery).catch((err: unknown) => {
    if (err instanceof WorkflowNotFoundError)
      throw new SupplyRefusedError('this secret has no running lifecycle');
    throw err;
  });
  const pending = status.pendingSupply;
  if (!pending) throw new SupplyRefusedError('no rotation of this secret is waiting for a value');
  const rotationId = pending.rotationId;

  const path = secret.vaultPath;
  const meta = await deps.vault.metadata(path);
  const stagingPath = pending.stagingPath;
  // Staged aside (consumer-safe layout), the value waits where consumers cannot read it, as the
  // consumer version it becomes; before that layout, it was the consumer path's newest version.
  const version = stagingPath
    ? await writeStaged(deps.vault, stagingPath, rotationId, meta.latestVersion + 1, checked.data)
    : await stageOnConsumerPath(deps, path, meta, rotationId, checked.data);
  try {
    await handle.executeUpdate(supplyValueUpdate, {
      args: [
        {
          rotationId,
          version,
          suppliedBy,
          expiresAt: checked.expiresAt,
          ...(origin ? { origin } : {}),
        },
      ],
    });
  } catch (err) {
    const cause = err instanceof WorkflowUpdateFailedError ? err.cause : undefined;
    if (stagingPath) await deps.vault.deleteAll(stagingPath).catch(() => undefined);
    else {
      await deps.vault.destroyVersions(path, [version]).catch(() => undefined);
      await deps.vault.setLabels(path, meta.labels).catch(() => undefined);
    }
    if (cause instanceof ApplicationFailure && cause.type === ErrorType.SupplyRefused)
      throw new SupplyRefusedError(cause.message);
    throw err;
  }
  return { rotationId, version, expiresAt: checked.expiresAt };
}

async function stageOnConsumerPath(
  deps: SupplyDeps,
  path: string,
  meta: Awaited<ReturnType<VaultKv['metadata']>>,
  rotationId: string,
  data: Record<string, unknown>,
): Promise<number> {
  const version = await deps.vault.write(
    path,
    { ...data, rotor_rotation_id: rotationId },
    meta.latestVersion,
  );
  await deps.vault.setLabels(path, {
    ...meta.labels,
    pending: version,
    pendingRotationId: rotationId,
  });
  return version;
}
