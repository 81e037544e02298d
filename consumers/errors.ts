/** Why a read failed: a small fixed set, so callers can branch without parsing messages. */
export const RotorReadErrorCode = {
  /** The tenant id or secret name is not a valid Rotor name. */
  InvalidName: 'invalid_name',
  /** Nothing at the consumer path, or its latest version was deleted or destroyed. */
  NotFound: 'not_found',
  /** Vault refused the token for this path (no consumer policy for the tenant, or a bad token). */
  PermissionDenied: 'permission_denied',
  /** The version exists but lacks what Rotor writes (a `value` string). */
  Malformed: 'malformed',
  /** Vault could not be reached, timed out, or answered 5xx. */
  Unavailable: 'unavailable',
} as const;
export type RotorReadErrorCode = (typeof RotorReadErrorCode)[keyof typeof RotorReadErrorCode];

/**
 * A failed read. The message names the tenant, the secret, the Vault path and the HTTP status;
 * it never holds a value, a token or a response body.
 */
export class RotorReadError extends Error {
  constructor(
    readonly code: RotorReadErrorCode,
    readonly tenant: string,
    readonly secretName: string,
    /** The Vault API path, e.g. `secret/data/rotor/acme/orders-db` (no query string). */
    readonly path: string,
    readonly status: number | undefined,
    detail: string,
  ) {
    const status_ = status === undefined ? '' : ` (HTTP ${status})`;
    super(`rotor: cannot read ${tenant}/${secretName} at ${path}${status_}: ${detail}`);
    this.name = 'RotorReadError';
  }
}

export class SecretNotFoundError extends RotorReadError {
  constructor(
    tenant: string,
    secretName: string,
    path: string,
    status: number | undefined,
    detail: string,
  ) {
    super(RotorReadErrorCode.NotFound, tenant, secretName, path, status, detail);
    this.name = 'SecretNotFoundError';
  }
}

export class PermissionDeniedError extends RotorReadError {
  constructor(tenant: string, secretName: string, path: string, status: number) {
    super(
      RotorReadErrorCode.PermissionDenied,
      tenant,
      secretName,
      path,
      status,
      `permission denied: the token needs the consumer policy for tenant ${tenant} (deploy/vault/consumer.hcl.tmpl)`,
    );
    this.name = 'PermissionDeniedError';
  }
}

export class VaultUnavailableError extends RotorReadError {
  constructor(
    tenant: string,
    secretName: string,
    path: string,
    status: number | undefined,
    detail: string,
  ) {
    super(RotorReadErrorCode.Unavailable, tenant, secretName, path, status, detail);
    this.name = 'VaultUnavailableError';
  }
}
