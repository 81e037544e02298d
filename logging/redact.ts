/**
 * Keys whose values pino replaces with [Redacted], wherever they sit in a log line: a secret
 * value, a token, a password, an HTTP credential header. Rotor never logs a value on purpose;
 * this is the net under that rule, shared by the API and the worker.
 */
export const REDACT_KEYS = [
  'password',
  'token',
  'secret',
  'value',
  'initialValue',
  'authorization',
  'x-vault-token',
  // A webhook endpoint's signing secret (shown once by the API) and a delivery's signature.
  'signingSecret',
  'webhook-signature',
] as const;

// pino's redaction has no recursive wildcard, so each key is listed at the top level and up to
// three objects deep (e.g. `req.headers.authorization`, `error.details.value`).
const MAX_DEPTH = 3;

/** The redaction paths for pino's `redact` option, built from {@link REDACT_KEYS}. */
export const REDACT_PATHS: string[] = REDACT_KEYS.flatMap((key) =>
  Array.from({ length: MAX_DEPTH + 1 }, (_, depth) => {
    const parents = Array<string>(depth).fill('*').join('.');
    if (!/^[A-Za-z_$][\w$]*$/.test(key)) return `${parents}["${key}"]`;
    return parents ? `${parents}.${key}` : key;
  }),
);
