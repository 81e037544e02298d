import type { Policy } from '../domain';
import type { Requester, VaultDeletion } from './messages';

/**
 * Everything the lifecycle carries from one run to the next through continueAsNew, so a secret
 * rotated for years keeps a short history. Ids, versions and times only.
 */
export interface LifecycleState {
  secretId: string;
  policy: Policy;
  currentVersion: number | null;
  previousVersion: number | null;
  /** Newest KV version number written: the check-and-set base for the next stage. */
  latestVersion: number;
  nextRotationAt: string;
  lastRotatedAt: string | null;
  graceEndsAt: string | null;
  lastErrorType: string | null;
  needsAttention: boolean;
  paused: boolean;
  rotationsCompleted: number;
  rotateRequest: Requester | null;
  /** Rotations whose approval window expired (the last 20), to refuse late decisions clearly. */
  expiredApprovals?: string[];
  /** The due time the tenant was last told about (rotation.upcoming), so it is said once. */
  upcomingNoticeFor?: string;
  retireRequest: (Requester & { vaultDeletion?: VaultDeletion }) | null;
}
