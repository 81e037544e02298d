import { ApplicationFailure } from '@temporalio/common';
import type { RequestOrigin, TargetSpec } from '../../domain';
import { ErrorType, RotationStatus } from '../../domain';
import type { ActivityDeps } from '../deps';
import type { VaultKv } from '../../vault';
import { isPublished, publishStaged, readStaged } from '../../vault';
import type { StagedCredential, TargetStep } from './driver';
import { driverFor } from './registry';
import { recordRotationStep } from '../lifecycle/record-step';
import { activityLog } from '../log';
import { PRIOR_IDS_FIELD, recordPriorIds, writeIssued } from './aws-iam-key/apply-issued';
import type { IssuedApplyInput } from './aws-iam-key/apply-issued';
import type { RotationStep } from '../lifecycle/record-step';

export interface TargetStepInput extends TargetStep {
  target: TargetSpec;
  /** The staged (pending) Vault version this step is about. */
  version: number;
  /** The consumer-safe layout's staging path, where the pending value waits (see stageVersion). */
  stagingPath?: string;
  /** Where the API request that asked for this rotation came from (none for a scheduled one). */
  origin?: RequestOrigin;
}

/** applyTarget's input: a target step, and whether to verify at the target in the same step. */
export interface ApplyTargetInput extends TargetStepInput {
  /**
   * Verify the credential at the target straight after apply (what verifyTarget does), and say
   * so with `verified`. A failure of either fails the step, and the workflow compensates both.
   */
  verify?: boolean;
}

/** A Vault version as a credential, or null if it is gone. Values stay inside activities. */
export async function credentialAt(
  vault: VaultKv,
  path: string,
  version: number | undefined,
): Promise<StagedCredential | null> {
  if (!version) return null;
  const read = await vault.read(path, version);
  const value = read?.data.value;
  if (!read || typeof value !== 'string') return null;
  const username = read.data.username;
  return { version: read.version, value, ...(typeof username === 'string' ? { username } : {}) };
}

/** A staged value's fields as a credential: value, username, and the ids recorded before issue. */
function asCredential(version: number, data: Record<string, unknown>): StagedCredential | null {
  const { value, username } = data;
  const prior = data[PRIOR_IDS_FIELD];
  if (typeof value !== 'string') return null;
  return {
    version,
    value,
    ...(typeof username === 'string' ? { username } : {}),
    ...(typeof prior === 'string' ? { priorIds: prior ? prior.split(',') : [] } : {}),
  };
}

/** The credential Vault labels current, which consumers are using now. */
async function currentCredential(vault: VaultKv, path: string): Promise<StagedCredential | null> {
  return credentialAt(vault, path, (await vault.metadata(path)).labels.current);
}

/** The pending credential this step is about, wherever the rotation staged it. */
async function pendingCredential(
  vault: VaultKv,
  input: TargetStepInput,
): Promise<StagedCredential | null> {
  if (!input.stagingPath) return credentialAt(vault, input.vaultPath, input.version);
  const pending = await readStaged(vault, input.stagingPath, input.rotationId);
  if (!pending || pending.version !== input.version) return null;
  return asCredential(pending.version, pending.data);
}

async function staged(vault: VaultKv, input: TargetStepInput): Promise<StagedCredential> {
  const cred = await pendingCredential(vault, input);
  if (!cred) {
    throw ApplicationFailure.nonRetryable(
      `Vault ${input.vaultPath} version ${input.version} is gone; nothing to apply`,
      ErrorType.VerificationFailed,
    );
  }
  return cred;
}

/** The rotation's record once the target accepts the credential. */
function appliedStep(input: TargetStepInput): RotationStep {
  return {
    rotationId: input.rotationId,
    secretId: input.secretId,
    tenantId: input.tenantId,
    status: RotationStatus.Applied,
    audit: {
      action: 'rotation.applied',
      outcome: 'success',
      details: { version: input.version, target: input.target.kind },
      idempotencyKey: `${input.rotationId}:applied`,
      origin: input.origin,
    },
  };
}

/** The rotation's record once the credential is proven at the target (a status, no audit row). */
function verifiedStep(input: TargetStepInput): RotationStep {
  return {
    rotationId: input.rotationId,
    secretId: input.secretId,
    tenantId: input.tenantId,
    status: RotationStatus.Verified,
  };
}

/** A step of a target that issues its credential: it needs the consumer-safe layout. */
function issuing(input: TargetStepInput): IssuedApplyInput {
  if (!input.stagingPath) {
    // Secrets created since staging paths all have one; the rotation is refused, not half-done.
    throw ApplicationFailure.nonRetryable(
      `a ${input.target.kind} target needs the consumer-safe layout (a staging path); this rotation has none`,
      ErrorType.ValidationFailed,
    );
  }
  return { ...input, stagingPath: input.stagingPath };
}

/**
 * Verification run inside applyTarget: a failure keeps its type, message and retry rule, and says
 * in its details that it was the verify step, so the alert names the step that failed.
 */
async function asVerifyStep(verifying: Promise<void>): Promise<void> {
  try {
    await verifying;
  } catch (err) {
    if (!(err instanceof ApplicationFailure)) throw err;
    throw ApplicationFailure.create({
      message: err.message,
      type: err.type ?? ErrorType.VerificationFailed,
      nonRetryable: err.nonRetryable === true,
      details: [{ step: 'verify' }],
    });
  }
}

/** apply → verify → (on failure) compensate, each against the secret's target. */
export function createTargetActivities({ db, vault, targets }: ActivityDeps) {
  const stepOf = (i: TargetStepInput): TargetStep => ({
    rotationId: i.rotationId,
    secretId: i.secretId,
    tenantId: i.tenantId,
    vaultPath: i.vaultPath,
  });

  /**
   * Undoes this attempt's apply where it stopped the old credential working: what the workflow's
   * compensation does, at once. The password put back is the one consumers read now (the consumer
   * path's newest version), so even an attempt that outlived its timeout, finishing after a later
   * attempt published, sets nothing consumers do not hold. Best effort: if it cannot, the
   * workflow's compensation still runs once retries are spent.
   */
  const restoreConsumed = async (input: TargetStepInput, cred: StagedCredential): Promise<void> => {
    try {
      const read = await vault.read(input.vaultPath);
      const consumed = read ? asCredential(read.version, read.data) : null;
      if (!consumed || read?.data.rotor_rotation_id === input.rotationId) return;
      await driverFor(targets, input.target).compensate(
        input.target,
        cred,
        consumed,
        stepOf(input),
      );
    } catch {
      activityLog().warn('Could not restore the credential consumers read after a failed verify', {
        version: input.version,
      });
    }
  };

  return {
    /**
     * Makes the target accept the staged credential. Where that stops the old one working (a
     * single PostgreSQL role) and the value is staged aside, it also verifies it and writes it
     * where consumers read, in this one step: `published` tells the workflow it can only go on.
     */
    async applyTarget(input: ApplyTargetInput): Promise<{ published: boolean; verified?: true }> {
      const driver = driverFor(targets, input.target);
      let cred = await staged(vault, input);
      const issued = await driver.apply(input.target, cred, stepOf(input), {
        current: () => currentCredential(vault, input.vaultPath),
        recordPriorIds: (ids) => recordPriorIds(vault, issuing(input), cred, ids),
      });
      if (issued) {
        // The target made the credential (an AWS access key): it replaces the staged placeholder,
        // and what follows (verify, promote) reads it from there, as for any value.
        await writeIssued(vault, issuing(input), issued);
        cred = await staged(vault, input);
      }
      const publish = input.stagingPath !== undefined && driver.oldStopsAtApply(input.target);
      if (publish && input.stagingPath) {
        try {
          await asVerifyStep(driver.verify(input.target, cred, stepOf(input)));
        } catch (err) {
          // The target now refuses the password consumers read, and nothing was published: put
          // it back before this attempt fails, or consumers are locked out for every retry until
          // the workflow's compensation runs (minutes). The next attempt applies again.
          await restoreConsumed(input, cred);
          throw err;
        }
        await publishStaged(vault, { ...input, stagingPath: input.stagingPath });
      }
      await recordRotationStep(db, appliedStep(input));
      // Published: verified already, and verifying again would only widen the window.
      if (!input.verify || publish) return { published: publish };
      await asVerifyStep(driver.verify(input.target, cred, stepOf(input)));
      await recordRotationStep(db, verifiedStep(input));
      return { published: false, verified: true };
    },

    async verifyTarget(input: TargetStepInput): Promise<void> {
      await driverFor(targets, input.target).verify(
        input.target,
        await staged(vault, input),
        stepOf(input),
      );
      await recordRotationStep(db, verifiedStep(input));
    },

    /**
     * Undoes apply, unless consumers already read the new value (published with apply): then
     * undoing would break them, and `published` tells the workflow to roll forward instead.
     */
    async compensateTarget(input: TargetStepInput): Promise<{ published: boolean }> {
      if (input.stagingPath && (await isPublished(vault, input))) return { published: true };
      const cred = await pendingCredential(vault, input);
      // Apply cannot have used a value that was never written; nothing to undo then.
      if (cred) {
        await driverFor(targets, input.target).compensate(
          input.target,
          cred,
          await currentCredential(vault, input.vaultPath),
          stepOf(input),
        );
      }
      await recordRotationStep(db, {
        rotationId: input.rotationId,
        secretId: input.secretId,
        tenantId: input.tenantId,
        audit: {
          action: 'rotation.compensated',
          outcome: 'info',
          details: { version: input.version, target: input.target.kind },
          idempotencyKey: `${input.rotationId}:compensated-target`,
          origin: input.origin,
        },
      });
      return { published: false };
    },
  };
}

/** End of grace at the target; called by revokeVersion before Vault destroys the version. */
export async function revokeAtTarget(
  { vault, targets }: Pick<ActivityDeps, 'vault' | 'targets'>,
  target: TargetSpec,
  step: TargetStep,
  version: number,
): Promise<void> {
  const current = await currentCredential(vault, step.vaultPath);
  // Read before Vault destroys it: a target with several credentials revokes the one it names.
  const revoked = await credentialAt(vault, step.vaultPath, version);
  await driverFor(targets, target).revoke(
    target,
    { version, ...(revoked?.username !== undefined ? { username: revoked.username } : {}) },
    current,
    step,
  );
}

/**
 * The usernames of the credentials Vault holds for a secret, for a retire that must touch only
 * what Rotor issued: current and previous, the consumer path's newest version (published by a
 * rotation whose promote is still owed), and a pending value on the staging path (issued by a
 * rotation whose compensation is still owed).
 */
export async function heldUsernames(
  vault: VaultKv,
  vaultPath: string,
  stagingPath?: string,
): Promise<string[]> {
  const [{ labels }, newest, pending] = await Promise.all([
    vault.metadata(vaultPath),
    vault.read(vaultPath),
    stagingPath ? vault.read(stagingPath) : Promise.resolve(undefined),
  ]);
  const held = new Set<string>();
  for (const version of [labels.current, labels.previous]) {
    const cred = await credentialAt(vault, vaultPath, version);
    if (cred?.username !== undefined) held.add(cred.username);
  }
  for (const read of [newest, pending]) {
    const username = read?.data.username;
    if (typeof username === 'string') held.add(username);
  }
  return [...held];
}

/** Stage-time fields and prefix the target wants next to the new value. */
export async function stageFieldsFor(
  { vault, targets }: Pick<ActivityDeps, 'vault' | 'targets'>,
  target: TargetSpec,
  vaultPath: string,
  currentVersion: number | undefined,
): Promise<{ fields: Record<string, string>; prefix?: string }> {
  const cur = await credentialAt(vault, vaultPath, currentVersion);
  return driverFor(targets, target).stageFields(target, cur);
}
