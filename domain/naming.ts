/** Tenant ids and secret names: lowercase, digits, dot, underscore, dash; no traversal. */
export const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;

export function isValidName(name: string): boolean {
  return NAME_PATTERN.test(name) && !name.includes('..');
}

/** One workflow per secret: the id is derived, so starting the same secret twice finds one. */
export function secretWorkflowId(tenantId: string, name: string): string {
  return `secret/${tenantId}/${name}`;
}

/** Where the secret's versions live under the KV v2 mount. */
export function secretVaultPath(tenantId: string, name: string): string {
  return `rotor/${tenantId}/${name}`;
}
