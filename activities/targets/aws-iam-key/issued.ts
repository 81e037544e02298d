import type { IssuedCredential, StagedCredential, TargetStep } from '../driver';

export type { IssuedCredential } from '../driver';

/**
 * The Vault fields of an issued key, written over the rotation's staged placeholder and then
 * promoted like any value. Consumers read `accessKeyId` and `secretAccessKey` (the AWS SDK's
 * names); `value` and `username` carry the same pair for Rotor's own steps and the consumer
 * reader, which know every credential as a value plus the name it logs in as. Only the access key
 * id (an identifier AWS shows in consoles and CloudTrail) is ever logged.
 */
export function issuedVaultFields(issued: IssuedCredential): Record<string, string> {
  return {
    accessKeyId: issued.accessKeyId,
    secretAccessKey: issued.secretAccessKey,
    username: issued.accessKeyId,
    value: issued.secretAccessKey,
  };
}

/**
 * The driver interface of a target that issues its own secret. It is `TargetDriver` (../driver.ts)
 * with two differences, the smallest that let a target generate the credential:
 * - `apply` is also given the current credential and may return the credential it issued, which
 *   the apply activity writes over the staged placeholder (same staging path, same rotation id and
 *   version, check-and-set) before verify reads it back;
 * - `revoke` may be told which credential it revokes (`revoked.username`), read from Vault before
 *   the version is destroyed.
 */
export interface IssuingTargetDriver<S> {
  stageFields(
    spec: S,
    current: StagedCredential | null,
  ): { fields: Record<string, string>; prefix?: string };
  oldStopsAtApply(spec: S): boolean;
  /**
   * Issues a credential for this rotation, or returns null when `staged` already is one. Before
   * issuing, it records on the staged placeholder which credentials existed (`recordPriorIds`),
   * so a retry or compensation can find a key issued but lost (see StagedCredential.priorIds).
   */
  apply(
    spec: S,
    staged: StagedCredential,
    current: StagedCredential | null,
    step: TargetStep,
    recordPriorIds?: (ids: string[]) => Promise<void>,
  ): Promise<IssuedCredential | null>;
  verify(spec: S, staged: StagedCredential, step: TargetStep): Promise<void>;
  compensate(
    spec: S,
    staged: StagedCredential,
    current: StagedCredential | null,
    step: TargetStep,
  ): Promise<void>;
  revoke(
    spec: S,
    revoked: { version: number; username?: string },
    current: StagedCredential | null,
    step: TargetStep,
  ): Promise<void>;
  /** `held`: the key ids Vault holds for the secret; only those are deleted (all when absent). */
  retire(spec: S, step: Omit<TargetStep, 'rotationId'>, held?: string[]): Promise<void>;
}
