/** Tenant ids and secret names: lowercase, digits, dot, underscore, dash; no traversal. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !name.includes('..');
}

/** One workflow per secret: the id is derived, so starting the same secret twice finds one. */
export function secretWorkflowId(tenantId: string, name: string): string {
  return `secret/${tenantId}/${name}`;
}

/**
 * The consumer path: where applications read the secret under the KV v2 mount. Its newest version
 * is always the promoted current value; the one before it, the previous value during grace.
 */
export function secretVaultPath(tenantId: string, name: string): string {
  return `rotor/${tenantId}/${name}`;
}

/**
 * Where a rotation's pending value waits before it is applied, verified and promoted: a path no
 * consumer policy can read (deploy/vault/), emptied once the rotation is promoted or undone.
 */
export function secretStagingPath(tenantId: string, name: string): string {
  return `rotor-staging/${tenantId}/${name}`;
}
