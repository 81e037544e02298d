import { ApplicationFailure } from '@temporalio/common';
import type { Kysely } from 'kysely';
import { ErrorType, TENANT_API_KEY_PREFIX } from '../../../domain';
import type { TenantApiKeyTarget } from '../../../domain';
import type { Database } from '../../../db/schema';
import type { TargetDriver } from '../driver';
import { apiKeyHash, lookupApiKey } from '../../../api-keys';

export interface TenantApiKeyDeps {
  db: Kysely<Database>;
  /** Server-side HMAC key; absent when ROTOR_API_KEY_PEPPER is not configured. */
  pepper: string | undefined;
}

/**
 * Tenant API keys. Rotor keeps only each key's keyed hash, one row per Vault version, so a key
 * is verified by one indexed lookup, and the previous key keeps verifying until grace ends.
 */
export function createTenantApiKeyDriver(deps: TenantApiKeyDeps): TargetDriver<TenantApiKeyTarget> {
  const pepper = (): string => {
    if (!deps.pepper) {
      throw ApplicationFailure.nonRetryable(
        'tenant API keys need ROTOR_API_KEY_PEPPER to be configured',
        ErrorType.TargetRejected,
      );
    }
    return deps.pepper;
  };
  const revokeVersions = async (secretId: string, version?: number): Promise<void> => {
    let query = deps.db
      .updateTable('api_keys')
      .set({ status: 'revoked', revoked_at: new Date() })
      .where('secret_id', '=', secretId)
      .where('status', '=', 'active');
    if (version !== undefined) query = query.where('vault_version', '=', version);
    await query.execute();
  };

  return {
    oldStopsAtApply() {
      // The previous key keeps verifying until revoke.
      return false;
    },

    stageFields() {
      return { fields: {}, prefix: TENANT_API_KEY_PREFIX };
    },

    async apply(_spec, staged, step) {
      const keyHash = apiKeyHash(pepper(), staged.value);
      await deps.db
        .insertInto('api_keys')
        .values({
          tenant_id: step.tenantId,
          secret_id: step.secretId,
          vault_version: staged.version,
          key_hash: keyHash,
          status: 'active',
        })
        .onConflict((oc) =>
          oc
            .columns(['secret_id', 'vault_version'])
            .doUpdateSet({ key_hash: keyHash, status: 'active', revoked_at: null }),
        )
        .execute();
    },

    async verify(_spec, staged, step) {
      const found = await lookupApiKey(deps.db, pepper(), staged.value);
      if (found?.secretId !== step.secretId || found.version !== staged.version) {
        throw ApplicationFailure.retryable(
          `the issued key for version ${staged.version} does not verify`,
          ErrorType.VerificationFailed,
        );
      }
    },

    async compensate(_spec, staged, _current, step) {
      await revokeVersions(step.secretId, staged.version);
    },

    async revoke(_spec, revoked, _current, step) {
      await revokeVersions(step.secretId, revoked.version);
    },

    async retire(_spec, step) {
      await revokeVersions(step.secretId);
    },
  };
}
