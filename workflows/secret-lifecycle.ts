import {
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities';
import { NON_RETRYABLE_ERROR_TYPES, RotationStatus, SecretState } from '../domain';
import type { Policy, SecretType } from '../domain';
import { retireSignal, statusQuery } from './messages';
import type { SecretStatus } from './messages';
import { RotationStateKey, SecretNameKey, SecretTypeKey, TenantIdKey } from './search-attributes';

export interface SecretLifecycleInput {
  tenantId: string;
  name: string;
  type: SecretType;
  policy: Policy;
  vaultPath: string;
  requestedBy: string;
}

const activities = proxyActivities<Activities>({
  startToCloseTimeout: '30s',
  retry: {
    initialInterval: '1s',
    backoffCoefficient: 2,
    maximumInterval: '30s',
    maximumAttempts: 5,
    nonRetryableErrorTypes: [...NON_RETRYABLE_ERROR_TYPES],
  },
});

/**
 * One long-running workflow per managed secret. It carries ids, paths and version numbers only;
 * values are generated and read inside activities.
 */
export async function secretLifecycle(input: SecretLifecycleInput): Promise<SecretStatus> {
  const { workflowId } = workflowInfo();
  const status: SecretStatus = {
    tenantId: input.tenantId,
    name: input.name,
    type: input.type,
    state: SecretState.Rotating,
    secretId: null,
    currentVersion: null,
    previousVersion: null,
    nextRotationAt: null,
    lastErrorType: null,
  };
  let retireRequest: { requestedBy: string; reason: string } | undefined;
  setHandler(statusQuery, () => status);
  setHandler(retireSignal, (request) => {
    retireRequest ??= request;
  });
  const setState = (state: SecretState): void => {
    status.state = state;
    upsertSearchAttributes([{ key: RotationStateKey, value: state }]);
  };
  upsertSearchAttributes([
    { key: TenantIdKey, value: input.tenantId },
    { key: SecretTypeKey, value: input.type },
    { key: SecretNameKey, value: input.name },
  ]);
  setState(SecretState.Rotating);

  const secretId = await activities.registerSecret({
    tenantId: input.tenantId,
    name: input.name,
    type: input.type,
    policy: input.policy,
    workflowId,
    vaultPath: input.vaultPath,
    requestedBy: input.requestedBy,
  });
  status.secretId = secretId;

  // The first version is provisioned like any rotation, so it is audited the same way.
  const rotationId = uuid4();
  const ids = { rotationId, secretId, tenantId: input.tenantId };
  await activities.beginRotation({
    ...ids,
    reason: 'initial',
    requestedBy: input.requestedBy,
    fromVersion: null,
  });
  const { version } = await activities.stageVersion({
    ...ids,
    vaultPath: input.vaultPath,
    type: input.type,
    expectedLatestVersion: 0,
    versionsKept: input.policy.versionsKept,
  });
  await activities.promoteVersion({ ...ids, vaultPath: input.vaultPath, version });
  status.currentVersion = version;
  setState(SecretState.Active);
  await activities.finishRotation({
    ...ids,
    status: RotationStatus.Completed,
    secretState: SecretState.Active,
    toVersion: version,
    actor: input.requestedBy,
  });

  await condition(() => retireRequest !== undefined);
  setState(SecretState.Retired);
  return status;
}
