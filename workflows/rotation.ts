import {
  ActivityFailure,
  ApplicationFailure,
  TimeoutFailure,
  proxyActivities,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES } from '../domain';
import type { Policy, SecretType, TargetSpec } from '../domain';

export interface RotationTarget {
  secretId: string;
  tenantId: string;
  type: SecretType;
  vaultPath: string;
  policy: Policy;
  /** The check-and-set base: the newest KV version written so far. */
  latestVersion: number;
  currentVersion: number | null;
  /** Where the value must also be accepted (a PostgreSQL role, the API-key registry). */
  spec?: TargetSpec;
  /** A value its owner supplied, already written to Vault as this pending version. */
  supplied?: { version: number };
}

export type RotationOutcome =
  | { ok: true; rotationId: string; version: number; previousVersion: number | null }
  | { ok: false; rotationId: string; errorType: string; latestVersion: number };

/** Activities for one rotation, retried with backoff up to the policy's limit. */
export function rotationActivities(policy: Policy) {
  return proxyActivities<Activities>({
    startToCloseTimeout: '30s',
    retry: {
      initialInterval: '1s',
      backoffCoefficient: 2,
      maximumInterval: '30s',
      maximumAttempts: policy.maxAttempts,
      nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
    },
  });
}

/**
 * One rotation, once its row exists and any approval is given: stage → apply → verify → promote. A failure after staging runs the compensations
 * in reverse (discard the pending version), so the old credential keeps working. Each attempt
 * has a fresh rotation id, so a retried rotation generates a fresh value.
 */
export async function runRotation(
  target: RotationTarget,
  rotationId: string,
): Promise<RotationOutcome> {
  const acts = rotationActivities(target.policy);
  const ids = { rotationId, secretId: target.secretId, tenantId: target.tenantId };
  let latestVersion = target.latestVersion;
  const compensations: (() => Promise<void>)[] = [];

  try {
    // Supplied values were staged by the API; generated ones are made and staged here.
    const { version } =
      target.supplied ??
      (await acts.stageVersion({
        ...ids,
        vaultPath: target.vaultPath,
        type: target.type,
        expectedLatestVersion: target.latestVersion,
        versionsKept: target.policy.versionsKept,
        ...(target.spec ? { target: target.spec } : {}),
      }));
    latestVersion = version;
    compensations.unshift(() =>
      acts.discardPendingVersion({ ...ids, vaultPath: target.vaultPath, version }),
    );
    // apply: secrets without an external target live in Vault alone. Secrets without a target
    // schedule no commands here, so their recorded histories replay unchanged.
    if (target.spec) {
      const step = { ...ids, vaultPath: target.vaultPath, target: target.spec, version };
      // Registered before apply runs: an apply that half-happened is undone as well.
      compensations.unshift(() => acts.compensateTarget(step));
      await acts.applyTarget(step);
      await acts.verifyTarget(step);
    }
    await acts.verifyVersion({ rotationId, vaultPath: target.vaultPath, version });
    compensations.length = 0; // Past verification the new value is good; promote is idempotent.
    const { previousVersion } = await acts.promoteVersion({
      ...ids,
      vaultPath: target.vaultPath,
      version,
    });
    return { ok: true, rotationId, version, previousVersion };
  } catch (err) {
    const errorType = errorTypeOf(err);
    for (const compensate of compensations) {
      try {
        await compensate();
      } catch (compensationError) {
        // The rotation already failed; a failed compensation is recorded, not hidden.
        return {
          ok: false,
          rotationId,
          errorType: `${errorType}+${errorTypeOf(compensationError)}`,
          latestVersion,
        };
      }
    }
    return { ok: false, rotationId, errorType, latestVersion };
  }
}

/** The failure's type, for the rotation row and alerts. Anything but an activity failure is a bug. */
function errorTypeOf(err: unknown): string {
  if (err instanceof ActivityFailure) {
    if (err.cause instanceof ApplicationFailure) return err.cause.type ?? 'ApplicationFailure';
    if (err.cause instanceof TimeoutFailure) return 'ActivityTimeout';
    return 'ActivityFailure';
  }
  throw err;
}
