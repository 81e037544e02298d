import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { SecretState, SecretType } from '../domain';

/** What the status query returns: ids, versions and states, never a value. */
export interface SecretStatus {
  tenantId: string;
  name: string;
  type: SecretType;
  state: SecretState;
  secretId: string | null;
  currentVersion: number | null;
  previousVersion: number | null;
  nextRotationAt: string | null;
  lastErrorType: string | null;
}

export const statusQuery = defineQuery<SecretStatus>('status');
export const retireSignal = defineSignal<[{ requestedBy: string; reason: string }]>('retire');
