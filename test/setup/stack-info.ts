/** What the global setup hands to every test file (via vitest's provide/inject). */
export interface StackInfo {
  temporalAddress: string;
  temporalUiUrl: string;
  vaultAddr: string;
  vaultToken: string;
  kvMount: string;
  databaseUrl: string;
  targetDatabaseUrl: string;
  postgresAdminUrl: string;
  /** Redis as its `default` (admin) user: a target for Redis ACL users. */
  redisAdminUrl: string;
  /** A workflow bundle built once per run, so each test worker skips webpack. */
  workflowBundlePath: string;
}

/**
 * The run's one moto server (signatures and IAM policies enforced), or why it could not start.
 * The administrator's key signs the tests' own set-up; it is not a secret anyone rotates.
 */
export type MotoInfo =
  | {
      endpoint: string;
      logFile: string;
      /** moto's recording of every request it received, bodies included. */
      recordingFile: string;
      adminKey: { accessKeyId: string; secretAccessKey: string };
    }
  | { error: string };

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
    moto: MotoInfo;
  }
}
