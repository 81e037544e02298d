import { ApplicationFailure } from '@temporalio/common';
import { VaultKv } from '../../vault';
import type { RotorLabels } from '../../vault';

/** The real Vault client, except that promote's label write fails while `failPromote` is on. */
export class PromoteOutageVault extends VaultKv {
  failPromote = false;
  override async setLabels(path: string, labels: RotorLabels, maxVersions?: number) {
    // Promote is the one label write that names current and no pending version.
    if (this.failPromote && labels.current !== undefined && labels.pending === undefined) {
      throw ApplicationFailure.retryable('injected: Vault unavailable', 'VaultUnavailable');
    }
    return super.setLabels(path, labels, maxVersions);
  }
}
