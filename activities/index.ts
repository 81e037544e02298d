import type { ActivityDeps } from './deps';
import { createApprovalRecords } from './lifecycle/approvals';
import { createCountBulkOutcomes, createRecordBulkSignalled } from './lifecycle/bulk';
import { createDiscardPendingVersion } from './lifecycle/discard';
import { createPromoteVersion } from './lifecycle/promote';
import { createRegisterSecret } from './lifecycle/register';
import { createRetireSecret } from './lifecycle/retire';
import { createRevokeVersion } from './lifecycle/revoke';
import { createRotationRecords } from './lifecycle/rotation-record';
import { createStageVersion } from './lifecycle/stage';
import { createRecordStateChange } from './lifecycle/state-change';
import { createVerifyVersion } from './lifecycle/verify';
import { createDeliveryActivities } from './notify/deliver';
import { createEnqueueNotification, notifierWakeupsOf } from './notify/enqueue';
import { createOutboxRetentionActivities } from './notify/outbox-retention';
import { createWebhookActivities } from './notify/webhooks';
import { createReportActivities } from './report/deliver';
import { createRetentionActivities } from './audit/retention';
import { computeNextRotation } from './schedule/compute';
import { createTargetActivities } from './targets/activities';

export type { ActivityDeps } from './deps';
export { generateValue, canGenerate } from './generate/generators';
export { renderDigest } from './notify/templates';
export type { NotifyDeps } from './notify/deps';
export { createTargetRegistry } from './targets/registry';
export type { TargetDeps } from './targets/registry';
export type { ConnectionResolver } from './targets/connections';
export { redisPasswordHash } from './targets/redis-acl';
export type { RedisAdmin, RedisTargetDeps } from './targets/redis-acl';
export type { PostgresTargetDeps } from './targets/postgres-role/driver';

/** Every activity the worker registers, built over injected clients. */
export function createActivities(deps: ActivityDeps) {
  const wakeups = notifierWakeupsOf(deps.notify);
  return {
    registerSecret: createRegisterSecret(deps),
    ...createRotationRecords(deps),
    stageVersion: createStageVersion(deps),
    verifyVersion: createVerifyVersion(deps),
    promoteVersion: createPromoteVersion(deps, wakeups),
    discardPendingVersion: createDiscardPendingVersion(deps),
    revokeVersion: createRevokeVersion(deps),
    retireSecret: createRetireSecret(deps),
    recordStateChange: createRecordStateChange(deps),
    ...createTargetActivities(deps),
    ...createApprovalRecords(deps),
    countBulkOutcomes: createCountBulkOutcomes(deps),
    recordBulkSignalled: createRecordBulkSignalled(deps),
    computeNextRotation,
    enqueueNotification: createEnqueueNotification(deps, wakeups),
    ...createDeliveryActivities({ db: deps.db, ...deps.notify }),
    ...createWebhookActivities({
      db: deps.db,
      vault: deps.vault,
      allowedNetworks: deps.notify.config.webhookAllowedNetworks ?? [],
    }),
    ...createReportActivities({ db: deps.db, ...deps.notify }),
    ...createRetentionActivities(deps),
    ...createOutboxRetentionActivities(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
