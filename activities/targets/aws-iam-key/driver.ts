import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  ListAccessKeysCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../../../domain';
import { activityLog } from '../../log';
import type { AwsTargetDeps } from '../../../engine/target-deps';
import { awsErrorCode, awsFailure, isNotFound } from './errors';
import type { IssuingTargetDriver } from './issued';
import { iamUserName } from './spec';
import type { AwsIamAccessKeyTarget } from './spec';

export interface AwsIamKeyDeps extends AwsTargetDeps {
  /**
   * IAM is eventually consistent: a key just created can be refused for a few seconds. Verify
   * asks STS up to this many times (default 5), `verifyDelayMs` apart (default 2 000), before it
   * fails; the activity's own retry policy then tries again on its schedule.
   */
  verifyAttempts?: number;
  verifyDelayMs?: number;
}

interface KeyInfo {
  id: string;
  active: boolean;
}

/**
 * IAM access keys, rotated the two-key way: apply issues a second key beside the one consumers
 * hold (IAM allows two per user), verify signs STS GetCallerIdentity with it, and the old key
 * keeps working through grace, after which revoke deactivates and deletes it. AWS generates the
 * secret, so apply returns it for Vault (see IssuingTargetDriver). Every step is idempotent.
 */
export function createAwsIamKeyDriver(
  deps: AwsIamKeyDeps,
): IssuingTargetDriver<AwsIamAccessKeyTarget> {
  const attempts = Math.max(1, deps.verifyAttempts ?? 5);
  const delayMs = deps.verifyDelayMs ?? 2_000;

  /** The user's keys; a user that does not exist is a typed TargetNotFound. */
  const listKeys = async (user: string): Promise<KeyInfo[]> => {
    try {
      const out = await deps.iam.send(new ListAccessKeysCommand({ UserName: user }));
      return (out.AccessKeyMetadata ?? []).flatMap((k) =>
        k.AccessKeyId ? [{ id: k.AccessKeyId, active: k.Status !== 'Inactive' }] : [],
      );
    } catch (err) {
      throw awsFailure(err, 'ListAccessKeys', user);
    }
  };

  /** Deactivates (so a consumer still holding it fails at once, visibly) and deletes a key. */
  const removeKey = async (user: string, key: KeyInfo): Promise<void> => {
    let action = 'UpdateAccessKey';
    try {
      if (key.active) {
        await deps.iam.send(
          new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: key.id, Status: 'Inactive' }),
        );
      }
      action = 'DeleteAccessKey';
      await deps.iam.send(new DeleteAccessKeyCommand({ UserName: user, AccessKeyId: key.id }));
    } catch (err) {
      // Already gone: what this step wanted.
      if (isNotFound(err)) return;
      throw awsFailure(err, action, user);
    }
    activityLog().info('Deactivated and deleted an IAM access key', { accessKeyId: key.id });
  };

  const isUserArn = (arn: string | undefined, user: string): boolean => {
    // arn:<partition>:iam::<account>:user/<path>/<name>
    const resource = arn?.split(':')[5] ?? '';
    return resource.startsWith('user/') && resource.split('/').at(-1) === user;
  };

  return {
    oldStopsAtApply() {
      // Two keys live side by side: the one consumers hold works until revoke.
      return false;
    },

    stageFields() {
      // The staged value is a placeholder until apply writes the key AWS issued over it.
      return { fields: {} };
    },

    async apply(spec, staged, current, _step, recordPriorIds) {
      const user = iamUserName(spec);
      let keys = await listKeys(user);
      // A retried apply whose key is already staged: nothing to issue (no third key).
      if (staged.username && keys.some((k) => k.id === staged.username)) return null;
      const currentId = current?.username;
      if (staged.priorIds) {
        // A retried apply whose earlier key never reached Vault (the worker died in between):
        // a key the user did not have before that apply is the lost one, whose secret AWS will
        // never show again. It is Rotor's, so it goes; a fresh one is issued below.
        const prior = new Set(staged.priorIds);
        const lost = keys.filter((k) => !prior.has(k.id) && k.id !== currentId);
        for (const key of lost) await removeKey(user, key);
        keys = keys.filter((k) => !lost.includes(k));
      }
      if (keys.length >= 2) {
        // IAM's limit is two keys. The one consumers hold is never touched; the other is not one
        // Rotor holds (the previous key is revoked before a rotation starts).
        if (!currentId || !keys.some((k) => k.id === currentId)) {
          throw ApplicationFailure.nonRetryable(
            `IAM user ${user} already has two access keys and neither is the one Rotor holds as current; delete one of them, then retry`,
            ErrorType.TargetRejected,
          );
        }
        const stale = keys.filter((k) => k.id !== currentId);
        if (spec.staleKeys !== 'delete') {
          throw ApplicationFailure.nonRetryable(
            `IAM user ${user} already has two access keys, and ${stale.map((k) => k.id).join(', ')} is not one Rotor issued; delete it, or set the target's staleKeys to 'delete' to let Rotor do so, then retry`,
            ErrorType.TargetRejected,
          );
        }
        for (const key of stale) await removeKey(user, key);
        keys = keys.filter((k) => k.id === currentId);
      }
      // Recorded before the key exists, so whatever happens next, the key this apply issues can be
      // told apart from the ones the user already had.
      await recordPriorIds?.(keys.map((k) => k.id));
      let created;
      try {
        created = await deps.iam.send(new CreateAccessKeyCommand({ UserName: user }));
      } catch (err) {
        throw awsFailure(err, 'CreateAccessKey', user);
      }
      const accessKeyId = created.AccessKey?.AccessKeyId;
      const secretAccessKey = created.AccessKey?.SecretAccessKey;
      if (!accessKeyId || !secretAccessKey) {
        throw ApplicationFailure.retryable(
          `CreateAccessKey for IAM user ${user} answered without a key`,
          ErrorType.TargetRejected,
        );
      }
      activityLog().info('Issued an IAM access key', { accessKeyId, version: staged.version });
      return { accessKeyId, secretAccessKey };
    },

    async verify(spec, staged, _step) {
      const user = iamUserName(spec);
      const accessKeyId = staged.username;
      if (!accessKeyId) {
        throw ApplicationFailure.retryable(
          `no access key was issued for version ${staged.version} yet`,
          ErrorType.VerificationFailed,
        );
      }
      let reason = '';
      for (let attempt = 1; attempt <= attempts; attempt += 1) {
        const sts = deps.stsFor({ accessKeyId, secretAccessKey: staged.value });
        try {
          const me = await sts.send(new GetCallerIdentityCommand({}));
          if (isUserArn(me.Arn, user)) return;
          reason = 'STS answered for another principal';
        } catch (err) {
          // The error's code only: AWS messages are not ours to pass on.
          reason = `STS refused it (${awsErrorCode(err)})`;
        } finally {
          sts.destroy();
        }
        if (attempt < attempts) await sleep(delayMs);
      }
      throw ApplicationFailure.retryable(
        `access key ${accessKeyId} (version ${staged.version}) does not authenticate as IAM user ${user} after ${attempts} tries: ${reason}`,
        ErrorType.VerificationFailed,
      );
    },

    async compensate(spec, staged, current, _step) {
      const user = iamUserName(spec);
      const currentId = current?.username;
      const keys = await listKeys(user);
      const prior = staged.priorIds ? new Set(staged.priorIds) : null;
      const doomed = staged.username
        ? keys.filter((k) => k.id === staged.username && k.id !== currentId)
        : // Apply issued a key whose secret never reached Vault: the key the user did not have
          // before that apply (recorded on the placeholder first). Without that record, apply
          // never got as far as issuing, and nothing is touched.
          prior
          ? keys.filter((k) => !prior.has(k.id) && k.id !== currentId)
          : [];
      for (const key of doomed) await removeKey(user, key);
    },

    async revoke(spec, revoked, current, _step) {
      const user = iamUserName(spec);
      const currentId = current?.username;
      const keys = await listKeys(user);
      if (!currentId || !keys.some((k) => k.id === currentId)) {
        // Revoking blind could delete the key consumers hold; refuse, say so, and let the
        // workflow's revoke retries (and an operator) sort it out.
        throw ApplicationFailure.nonRetryable(
          `IAM user ${user} does not have the access key Rotor holds as current; not revoking version ${revoked.version}`,
          ErrorType.TargetRejected,
        );
      }
      // Only the key the revoked version named: a key Rotor did not issue is never touched. A
      // version whose data is gone already had its key revoked (revoke runs before Vault
      // destroys the version), so there is nothing left to do.
      if (revoked.username === undefined) {
        activityLog().info('No access key named for the revoked version; nothing to revoke', {
          version: revoked.version,
        });
        return;
      }
      const doomed = keys.filter((k) => k.id !== currentId && k.id === revoked.username);
      for (const key of doomed) await removeKey(user, key);
    },

    async retire(spec, _step, held) {
      const user = iamUserName(spec);
      let all: KeyInfo[];
      try {
        all = await listKeys(user);
      } catch (err) {
        // A user that is gone has no keys left to retire.
        if (err instanceof ApplicationFailure && err.type === ErrorType.TargetNotFound) return;
        throw err;
      }
      // Told which keys Rotor holds (the wired activity always says), only those go; keys Rotor
      // did not issue are left, and said so. Not told: every key of the user.
      const mine = held ? new Set(held) : null;
      const keys = mine ? all.filter((k) => mine.has(k.id)) : all;
      const left = all.filter((k) => !keys.includes(k)).map((k) => k.id);
      if (left.length > 0) {
        activityLog().warn('Left IAM access keys Rotor did not issue', { accessKeyIds: left });
      }
      // Every key stops working first, then each is deleted.
      for (const key of keys) {
        if (!key.active) continue;
        try {
          await deps.iam.send(
            new UpdateAccessKeyCommand({ UserName: user, AccessKeyId: key.id, Status: 'Inactive' }),
          );
        } catch (err) {
          if (!isNotFound(err)) throw awsFailure(err, 'UpdateAccessKey', user);
        }
      }
      for (const key of keys) await removeKey(user, { ...key, active: false });
    },
  };
}
