import { ApplicationFailure } from '@temporalio/common';
import type { SecretType, TargetSpec } from '../../domain';
import { ErrorType } from '../../domain';
import { appendAudit } from '../audit/append';
import type { ActivityDeps } from '../deps';
import { activityLog } from '../log';
import { generateValue } from '../generate/generators';
import { stageFieldsFor } from '../targets/activities';

export interface StageInput {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
  type: SecretType;
  /** The newest KV version the workflow knows of; anything newer is someone else's write. */
  expectedLatestVersion: number;
  versionsKept: number;
  /** The secret's target, if any: it may add non-secret fields (the role) and a prefix. */
  target?: TargetSpec;
}

/**
 * Generates the new value here, inside the activity, and writes it to Vault as a new KV version
 * with check-and-set, labelled pending. Only the version number goes back to the workflow.
 * Idempotent by rotation id: a retry after a crash finds and reuses its own version.
 */
export function createStageVersion({ db, vault, targets }: ActivityDeps) {
  return async function stageVersion(input: StageInput): Promise<{ version: number }> {
    const meta = await vault.metadata(input.vaultPath);
    if (meta.labels.pendingRotationId === input.rotationId && meta.labels.pending) {
      return { version: meta.labels.pending };
    }
    let version: number;
    if (meta.latestVersion > input.expectedLatestVersion) {
      // Either our own write whose labelling crashed, or a write from outside Rotor.
      const latest = await vault.read(input.vaultPath, meta.latestVersion);
      if (latest?.data.rotor_rotation_id !== input.rotationId) {
        throw ApplicationFailure.nonRetryable(
          `Vault ${input.vaultPath} has version ${meta.latestVersion}, newer than the expected ${input.expectedLatestVersion}, written outside this rotation`,
          ErrorType.VaultVersionConflict,
        );
      }
      version = latest.version;
    } else {
      const extra = input.target
        ? await stageFieldsFor(
            { vault, targets },
            input.target,
            input.vaultPath,
            meta.labels.current,
          )
        : { fields: {} };
      const value = `${extra.prefix ?? ''}${generateValue(input.type)}`;
      version = await vault.write(
        input.vaultPath,
        { ...extra.fields, value, rotor_rotation_id: input.rotationId },
        meta.latestVersion,
      );
    }
    await vault.setLabels(
      input.vaultPath,
      { ...meta.labels, pending: version, pendingRotationId: input.rotationId },
      input.versionsKept,
    );
    await db
      .updateTable('secrets')
      .set({ pending_version: version, updated_at: new Date() })
      .where('id', '=', input.secretId)
      .execute();
    await db
      .updateTable('rotations')
      .set({ status: 'STAGED', to_version: version })
      .where('id', '=', input.rotationId)
      .execute();
    await appendAudit(db, {
      tenantId: input.tenantId,
      secretId: input.secretId,
      rotationId: input.rotationId,
      actor: 'rotor',
      action: 'rotation.staged',
      outcome: 'success',
      details: { version },
      idempotencyKey: `${input.rotationId}:staged`,
    });
    activityLog().info('Staged a new version in Vault', { version });
    return { version };
  };
}
