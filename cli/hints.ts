/**
 * What to do about each error code the API or the CLI gives, printed under the error. A code
 * missing here prints no hint; the message itself still says what went wrong.
 */
export const HINTS: Record<string, string> = {
  ROT_ERR_CONFIG: 'set ROTOR_TOKEN to an API token (npm start prints the bootstrap admin token)',
  ROT_ERR_UNREACHABLE: 'start Rotor (npm start) or point ROTOR_API_URL at it',
  ROT_ERR_NOT_ROTOR:
    'check that ROTOR_API_URL is the Rotor API; if a proxy is in front of it, the API may be down or restarting',
  ROT_ERR_UNAUTHENTICATED: 'check ROTOR_TOKEN: it must be a whole rtr_… token Rotor issued',
  ROT_ERR_TOKEN_REVOKED:
    'this token was revoked: ask an admin for a new one (rotor tokens create), then set ROTOR_TOKEN',
  ROT_ERR_TOKEN_EXPIRED:
    'this token has expired: ask an admin for a new one (rotor tokens create), then set ROTOR_TOKEN',
  ROT_ERR_FORBIDDEN: 'use a token with one of the roles named (rotor tokens list shows roles)',
  ROT_ERR_NOT_FOUND: 'check the tenant and name (rotor secrets list), or the id',
  ROT_ERR_VALIDATION: 'fix the fields listed above and run the command again',
  ROT_ERR_NEEDS_ATTENTION:
    'see what failed (rotor secrets status), fix it, then rotor secrets retry <tenant> <name> --reason …',
  ROT_ERR_NOT_NEEDS_ATTENTION:
    'retry is only for NEEDS_ATTENTION; rotor secrets status shows the state (use rotate or resume)',
  ROT_ERR_PAUSED: 'resume it first: rotor secrets resume <tenant> <name> --reason …',
  ROT_ERR_NOT_PAUSED: 'nothing to resume; rotor secrets status shows the state',
  ROT_ERR_NOT_RUNNING: 'the lifecycle has ended (retired?); rotor secrets status shows the state',
  ROT_ERR_RETIRING: 'the secret is being retired; nothing more can be rotated',
  ROT_ERR_RETIRED: 'the secret is retired; create a new one to manage it again',
  ROT_ERR_NOT_AWAITING_VALUE:
    'a value is only taken while a rotation waits for one (state AWAITING_VALUE): rotor secrets rotate first',
  ROT_ERR_APPROVAL_REFUSED: 'another approver must decide (the requester may not approve)',
  ROT_ERR_IDEMPOTENCY_KEY_REUSED: 'use a new --idempotency-key for a different request',
  ROT_ERR_IDEMPOTENCY_IN_PROGRESS:
    'the first request with this key is still running: retry shortly',
  ROT_ERR_LIFECYCLE_UNAVAILABLE:
    'no worker is answering for this secret: check the worker (npm start runs one), then retry',
  ROT_ERR_VALUE_READ_DISABLED:
    'its policy does not allow value reads: read Vault, or rotor secrets policy set … --allow-value-read',
  ROT_ERR_NOT_CONFIGURED: 'the API process lacks the configuration named above',
  ROT_ERR_IMPORT_KV_DISABLED:
    'set ROTOR_IMPORT_KV_PREFIXES on the API to the KV paths it may read, then restart it',
  ROT_ERR_IMPORT_KV_PATH_NOT_ALLOWED:
    'give a path under ROTOR_IMPORT_KV_PREFIXES, or add its prefix there (admin, API restart)',
  ROT_ERR_IMPORT_KV_FORBIDDEN:
    "grant the API's Vault token read on that path (README, Bringing existing secrets in)",
  ROT_ERR_IMPORT_KV_NOT_FOUND:
    'check the path: a KV v2 secret under the mount, without the mount name (bao kv get)',
  ROT_ERR_LAST_ADMIN_TOKEN:
    'rotate it (rotor tokens rotate <id>) or create another admin token first',
  ROT_ERR_CONNECTION_IN_USE:
    'retire the secrets whose target names this connection (rotor secrets list), then delete it',
  ROT_ERR_DEPENDENCY_UNAVAILABLE:
    'the service named above is down or restarting: retry shortly; if it lasts, /healthz on the API shows each dependency',
  ROT_ERR_INTERNAL: 'the API logged the detail; check its log, then retry',
};

export function hintFor(code: string): string | undefined {
  return HINTS[code];
}
