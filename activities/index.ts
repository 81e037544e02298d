import type { ActivityDeps } from './deps';
import { createPromoteVersion } from './lifecycle/promote';
import { createRegisterSecret } from './lifecycle/register';
import { createRotationRecords } from './lifecycle/rotation-record';
import { createStageVersion } from './lifecycle/stage';

export type { ActivityDeps } from './deps';
export { VaultKv } from './vault/kv';
export { appendAudit } from './audit/append';
export { generateValue, canGenerate } from './generate/generators';

/** Every activity the worker registers, built over injected clients. */
export function createActivities(deps: ActivityDeps) {
  return {
    registerSecret: createRegisterSecret(deps),
    ...createRotationRecords(deps),
    stageVersion: createStageVersion(deps),
    promoteVersion: createPromoteVersion(deps),
  };
}

export type Activities = ReturnType<typeof createActivities>;
