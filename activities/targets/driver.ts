import type { TargetKind, TargetSpec } from '../../domain';

/** A credential as staged in Vault: the value and, for roles, which role it logs in as. */
export interface StagedCredential {
  version: number;
  value: string;
  username?: string;
  /**
   * For a target that issues its credential: the credential ids the target held before this
   * rotation's apply issued one (recorded on the staged placeholder first), so a retried apply or
   * a compensation can tell a key it issued but lost from one it did not issue.
   */
  priorIds?: string[];
}

/** A credential the target itself generated (AWS makes the secret; Rotor cannot choose it). */
export interface IssuedCredential {
  accessKeyId: string;
  secretAccessKey: string;
}

/**
 * What apply is also given, for a target that issues its own credential: the credential consumers
 * hold, and a way to record on the staged placeholder which credentials existed before it issues
 * one (see StagedCredential.priorIds). Drivers that take Rotor's generated value ignore it.
 */
export interface IssueContext {
  /** Read from Vault only when asked: drivers that take Rotor's value never pay for it. */
  current: () => Promise<StagedCredential | null>;
  recordPriorIds: (ids: string[]) => Promise<void>;
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
  /**
   * Make the target accept the staged credential. A target that issues its own (AWS access keys)
   * returns what it issued instead, and the apply activity writes that over the staged value;
   * null: the staged value already is what it issued (a retried apply).
   */
  apply(
    spec: S,
    staged: StagedCredential,
    step: TargetStep,
    issue?: IssueContext,
  ): Promise<void | IssuedCredential | null>;
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
    /** The version revoked, and its username while Vault still holds it (read before destroy). */
    revoked: { version: number; username?: string },
    current: StagedCredential | null,
    step: TargetStep,
  ): Promise<void>;
  /**
   * The secret is retired: nothing it issued keeps working. `held` lists the usernames of the
   * credentials Vault holds for it (current, previous), for targets that must touch only those.
   */
  retire(spec: S, step: Omit<TargetStep, 'rotationId'>, held?: string[]): Promise<void>;
}

/** One driver per target kind; a kind without one does not compile. */
export type TargetRegistry = { [K in TargetKind]: TargetDriver<Extract<TargetSpec, { kind: K }>> };
