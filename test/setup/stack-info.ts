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

declare module 'vitest' {
  export interface ProvidedContext {
    stack: StackInfo;
  }
}
