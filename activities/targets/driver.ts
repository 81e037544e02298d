import type { TargetKind, TargetSpec } from '../../domain';

/** A credential as staged in Vault: the value and, for roles, which role it logs in as. */
export interface StagedCredential {
  version: number;
  value: string;
  username?: string;
}

/** Ids every target step is keyed by; never a value. */
export interface TargetStep {
  rotationId: string;
  secretId: string;
  tenantId: string;
  vaultPath: string;
}

/**
 * What a rotation target must do. Each method is idempotent: a retried or replayed step finds the
 * target already in the state it would put it in and does nothing harmful.
 */
// Constrained to a kind, not to TargetSpec, so a driver can be built and tested before its spec
// joins TargetSpec; the exhaustive registry below still admits only TargetSpec's kinds.
export interface TargetDriver<S extends { kind: string }> {
  /** Non-secret fields written beside the new value (e.g. which role), and a value prefix. */
  stageFields(
    spec: S,
    current: StagedCredential | null,
  ): { fields: Record<string, string>; prefix?: string };
  /**
   * Whether apply makes the target stop accepting the credential consumers hold (one PostgreSQL
   * role, one password). Then apply, verify and the write consumers read are done in one step,
   * so the window in which consumers hold a refused credential is as short as it can be.
   */
  oldStopsAtApply(spec: S): boolean;
  /** Make the target accept the staged credential (apply/issue). */
  apply(spec: S, staged: StagedCredential, step: TargetStep): Promise<void>;
  /** Prove the staged credential works against the real target. */
  verify(spec: S, staged: StagedCredential, step: TargetStep): Promise<void>;
  /** Undo apply after a failure, so the credential in use keeps working. */
  compensate(
    spec: S,
    staged: StagedCredential,
    current: StagedCredential | null,
    step: TargetStep,
  ): Promise<void>;
  /** End of grace: the previous credential stops working at the target. */
  revoke(
    spec: S,
    revoked: { version: number },
    current: StagedCredential | null,
    step: TargetStep,
  ): Promise<void>;
  /** The secret is retired: nothing it issued keeps working. */
  retire(spec: S, step: Omit<TargetStep, 'rotationId'>): Promise<void>;
}

/** One driver per target kind; a kind without one does not compile. */
export type TargetRegistry = { [K in TargetKind]: TargetDriver<Extract<TargetSpec, { kind: K }>> };
