import { randomUUID } from 'node:crypto';
import { createActivities } from '../activities';
import type { ActivityDeps } from '../activities';
import { writeToOutbox } from '../activities/notify/outbox';
import {
  NotificationKind,
  RotationStatus,
  SecretState,
  secretStagingPath,
  secretVaultPath,
} from '../domain';
import type { Policy, SecretType } from '../domain';

/** A secret the baseline manages itself: what the workflow would otherwise remember. */
export interface DirectSecret {
  tenantId: string;
  name: string;
  secretId: string;
  vaultPath: string;
  latestVersion: number;
  currentVersion: number | null;
}

/** Told each direct call's duration under the activity's name (the unloaded phase asks). */
export type StepRecorder = (step: string, millis: number) => void;

type Activities = ReturnType<typeof createActivities>;

/** The same activities, each call timed: the baseline's per-step figures. */
function timedActivities(activities: Activities, onStep: StepRecorder): Activities {
  const timed = Object.entries(activities).map(([name, fn]) => [
    name,
    async (...args: unknown[]) => {
      const started = performance.now();
      try {
        return await (fn as (...a: unknown[]) => Promise<unknown>)(...args);
      } finally {
        onStep(name, performance.now() - started);
      }
    },
  ]);
  return Object.fromEntries(timed) as Activities;
}

/**
 * The baseline: the same activity code the workflow runs for a rotate-now on its current path
 * (`fold-begin-next-v1` and `promote-announces-v1` in workflows/lifecycle/rotate.ts), in the same
 * order and with the same inputs, called directly in this process with no Temporal: stage aside
 * with begin and verify, promote with finish, the next rotation computed from the policy and the
 * "rotation completed" event (one transaction: promoted, completed, the secret row, their audit
 * rows, the outbox row). It writes the same rows and makes the same Vault calls. Where a folded
 * step says it could not do its share (`verified`, `finished` absent), the separate step runs, as
 * in the workflow. The one thing it leaves out is waking the tenant's notifier workflow (a
 * Temporal signal); its outbox rows are simply left for no one to deliver.
 *
 * Keep it in step with workflows/rotation.ts and workflows/lifecycle/: when the workflow folds or
 * adds a step, this does the same, or the ratio compares different work.
 */
export function createDirectPath(deps: ActivityDeps, type: SecretType, policy: Policy) {
  const activities = createActivities(deps);

  async function rotate(
    secret: DirectSecret,
    rotationId: string,
    requestedBy: string,
    onStep?: StepRecorder,
  ) {
    const acts = onStep ? timedActivities(activities, onStep) : activities;
    const { tenantId, name } = secret;
    const ids = { rotationId, secretId: secret.secretId, tenantId };
    const stagingPath = secretStagingPath(tenantId, name);
    const begin = { ...ids, reason: 'bench', requestedBy, fromVersion: secret.currentVersion };
    const stage = await acts.stageVersion({
      ...ids,
      vaultPath: secret.vaultPath,
      type,
      expectedLatestVersion: secret.latestVersion,
      versionsKept: policy.versionsKept,
      stagingPath,
      verify: true,
      begin,
    });
    const { version } = stage;
    if (stage.verified !== true) {
      await acts.verifyVersion({ rotationId, vaultPath: secret.vaultPath, version, stagingPath });
    }
    const promoted = await acts.promoteVersion({
      ...ids,
      vaultPath: secret.vaultPath,
      version,
      stagingPath,
      versionsKept: policy.versionsKept,
      finish: { actor: requestedBy, nextRotationFor: policy },
      announce: {
        secretName: name,
        secretType: type,
        workflowId: `direct/${tenantId}/${name}`,
        graceSeconds: policy.graceSeconds,
      },
    });
    const { previousVersion } = promoted;
    secret.latestVersion = Math.max(secret.latestVersion, version);
    secret.currentVersion = version;
    const graceEndsAt = promoted.announced
      ? promoted.announced.graceEndsAt
      : previousVersion === null
        ? null
        : new Date(Date.now() + policy.graceSeconds * 1000).toISOString();
    // completeRotation: a promote or stage that could not do its share leaves it to finish.
    const nextRotationAt =
      promoted.nextRotationAt ??
      (await acts.computeNextRotation({ policy, from: new Date().toISOString() }));
    if (!promoted.finished || promoted.nextRotationAt === undefined || stage.begun !== true) {
      await acts.finishRotation({
        ...ids,
        status: RotationStatus.Completed,
        secretState: graceEndsAt ? SecretState.InGrace : SecretState.Active,
        toVersion: version,
        nextRotationAt,
        actor: requestedBy,
        begin,
      });
    }
    // notify: promote wrote the event to the outbox (promote-announces-v1); a promote that could
    // not (an older worker) leaves it to the enqueue's write. The wake-up needs Temporal.
    if (!promoted.announced) {
      const outboxStarted = performance.now();
      await writeToOutbox(deps.db, `direct/${tenantId}/${name}/${rotationId}/completed`, {
        kind: NotificationKind.RotationCompleted,
        audience: 'tenant',
        tenantId,
        secretName: name,
        secretType: type,
        workflowId: `direct/${tenantId}/${name}`,
        at: new Date().toISOString(),
        rotationId,
        version,
        previousVersion,
        graceEndsAt,
        nextRotationAt,
      });
      onStep?.('outbox', performance.now() - outboxStarted);
    }
  }

  return {
    /** Registers the secret and rotates in its first version, as a new lifecycle does. */
    async provision(tenantId: string, name: string): Promise<DirectSecret> {
      const vaultPath = secretVaultPath(tenantId, name);
      const secretId = await activities.registerSecret({
        tenantId,
        name,
        type,
        policy,
        workflowId: `direct/${tenantId}/${name}`,
        vaultPath,
        requestedBy: 'bench',
      });
      const secret: DirectSecret = {
        tenantId,
        name,
        secretId,
        vaultPath,
        latestVersion: 0,
        currentVersion: null,
      };
      await rotate(secret, randomUUID(), 'bench');
      return secret;
    },
    /** One rotate-now, from its request to finished; the caller watches it reach promoted. */
    rotate,
  };
}
