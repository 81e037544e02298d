import {
  PermissionDeniedError,
  RotorReadError,
  RotorReadErrorCode,
  SecretNotFoundError,
  VaultUnavailableError,
} from './errors';

/** Rotor's rule for tenant ids and secret names (domain/naming.ts), copied so this folder stands alone. */
const NAME_PATTERN = /^[a-z0-9][a-z0-9._-]{0,62}$/;
const PREVIOUS_LABEL = 'rotor_previous_version';
/** Waits before each re-read after an authentication failure: 3 re-reads within 0.8 s. */
const DEFAULT_RETRY_DELAYS_MS = [0, 200, 600] as const;

export interface RotorReaderOptions {
  /** e.g. `https://vault.example.com:8200` (VAULT_ADDR). */
  vaultAddr: string;
  /** A token with the tenant's consumer policy (VAULT_TOKEN). */
  token: string;
  /** The KV v2 mount Rotor writes to (VAULT_KV_MOUNT); default `secret`. */
  mount?: string;
  /** How long readCurrent may answer from memory; default 30 000 ms, 0 turns the cache off. */
  cacheTtlMs?: number;
  /** Per Vault request; default 5 000 ms. */
  requestTimeoutMs?: number;
  /** Sent as X-Vault-Namespace (Vault Enterprise / OpenBao namespaces). */
  namespace?: string;
}

/** One version of a Rotor-managed secret, as Rotor wrote it on the consumer path. */
export interface Credential {
  /** The secret itself. */
  value: string;
  /** The login name, for PostgreSQL role targets (it alternates with the alternating strategy). */
  username?: string;
  /** The KV v2 version number on the consumer path. */
  version: number;
  /** Every string field of the version except Rotor's bookkeeping (`rotor_*`), e.g. `private_key`. */
  fields: Readonly<Record<string, string>>;
}

export interface FreshCredentialOptions {
  /** Which errors thrown by `use` mean "credential refused"; default {@link isAuthenticationFailure}. */
  isAuthFailure?: (err: unknown) => boolean;
  /** Wait this long before each re-read; its length is the number of re-reads. */
  retryDelaysMs?: readonly number[];
  /** Told before each retry with a freshly read credential (for logs or metrics; no value). */
  onRetry?: (info: { attempt: number; version: number; previousVersion: number }) => void;
}

export interface RotorReader {
  /** The current credential: the newest version at `<mount>/data/rotor/<tenant>/<name>`. */
  readCurrent(tenant: string, name: string, options?: { fresh?: boolean }): Promise<Credential>;
  /** The previous credential during a grace period, or undefined when there is none (any more). */
  readPrevious(tenant: string, name: string): Promise<Credential | undefined>;
  /** The newest version number, from metadata only (no value crosses the wire); for watchers. */
  currentVersion(tenant: string, name: string): Promise<number>;
  /**
   * Runs `use` with the current credential. If it fails with an authentication error, re-reads
   * (bypassing the cache) and retries, waiting briefly between re-reads so a rotation that is
   * being promoted right now can finish. Other errors, and the last auth error, are rethrown.
   */
  withFreshCredential<T>(
    tenant: string,
    name: string,
    use: (credential: Credential) => Promise<T>,
    options?: FreshCredentialOptions,
  ): Promise<T>;
  /** Drops the cached credential, so the next readCurrent goes to Vault. */
  invalidate(tenant: string, name: string): void;
}

/**
 * True for errors that mean the server refused the credential: PostgreSQL SQLSTATE 28P01
 * (invalid_password), MySQL 1045 (access denied), HTTP 401.
 */
export function isAuthenticationFailure(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; errno?: unknown; status?: unknown; statusCode?: unknown };
  return (
    e.code === '28P01' ||
    e.code === 'ER_ACCESS_DENIED_ERROR' ||
    e.errno === 1045 ||
    e.status === 401 ||
    e.statusCode === 401
  );
}

/**
 * Reads Rotor-managed secrets from Vault KV v2 the way Rotor lays them out, with an in-memory
 * cache and a re-read on authentication failure. Uses only `fetch`.
 *
 * @example
 * const reader = createRotorReader({ vaultAddr: process.env.VAULT_ADDR!, token: process.env.VAULT_TOKEN! });
 * const { username, value } = await reader.readCurrent('acme', 'orders-db');
 */
export function createRotorReader(options: RotorReaderOptions): RotorReader {
  const base = options.vaultAddr.replace(/\/+$/, '');
  const mount = (options.mount ?? 'secret').replace(/^\/+|\/+$/g, '');
  const ttl = options.cacheTtlMs ?? 30_000;
  const timeout = options.requestTimeoutMs ?? 5_000;
  const cache = new Map<string, { credential: Credential; expiresAt: number }>();
  const inFlight = new Map<string, Promise<Credential>>();

  const where = (tenant: string, name: string, kind: 'data' | 'metadata'): string => {
    if (!validName(tenant) || !validName(name)) {
      throw new RotorReadError(
        RotorReadErrorCode.InvalidName,
        safe(tenant),
        safe(name),
        `${mount}/${kind}/rotor/…`,
        undefined,
        'tenant ids and secret names are lowercase letters, digits, ".", "_" and "-", up to 63',
      );
    }
    return `${mount}/${kind}/rotor/${tenant}/${name}`;
  };

  /** GET one Vault API path; the body is parsed but never quoted in an error. */
  async function get(
    tenant: string,
    name: string,
    path: string,
    query = '',
  ): Promise<{ status: number; body: unknown }> {
    let res: Response;
    try {
      res = await fetch(`${base}/v1/${path}${query}`, {
        headers: {
          'X-Vault-Token': options.token,
          ...(options.namespace ? { 'X-Vault-Namespace': options.namespace } : {}),
        },
        signal: AbortSignal.timeout(timeout),
      });
    } catch (err) {
      throw new VaultUnavailableError(tenant, name, path, undefined, networkReason(err, timeout));
    }
    const body: unknown = await res.json().catch(() => undefined);
    if (res.status === 401 || res.status === 403) {
      throw new PermissionDeniedError(tenant, name, path, res.status);
    }
    if (res.status >= 500) {
      throw new VaultUnavailableError(
        tenant,
        name,
        path,
        res.status,
        'Vault answered a server error',
      );
    }
    return { status: res.status, body };
  }

  async function readVersion(tenant: string, name: string, version?: number): Promise<Credential> {
    const path = where(tenant, name, 'data');
    const { status, body } = await get(
      tenant,
      name,
      path,
      version === undefined ? '' : `?version=${version}`,
    );
    const which = version === undefined ? 'its latest version' : `version ${version}`;
    const payload = (body as { data?: { data?: unknown; metadata?: { version?: unknown } } })?.data;
    if (status === 404 || (status === 200 && payload?.data === null)) {
      const gone = payload?.metadata !== undefined;
      throw new SecretNotFoundError(
        tenant,
        name,
        path,
        status,
        gone
          ? `${which} was deleted or destroyed`
          : 'no such secret (is it managed by Rotor, and under this mount?)',
      );
    }
    if (status !== 200) {
      throw new RotorReadError(
        RotorReadErrorCode.Malformed,
        tenant,
        name,
        path,
        status,
        'unexpected answer',
      );
    }
    const data = payload?.data;
    const number = payload?.metadata?.version;
    if (typeof data !== 'object' || data === null || typeof number !== 'number') {
      throw new RotorReadError(
        RotorReadErrorCode.Malformed,
        tenant,
        name,
        path,
        status,
        'not a KV v2 answer (is the mount KV v2?)',
      );
    }
    const fields: Record<string, string> = {};
    for (const [key, v] of Object.entries(data as Record<string, unknown>)) {
      if (typeof v === 'string' && !key.startsWith('rotor_')) fields[key] = v;
    }
    const value = fields.value;
    if (value === undefined) {
      throw new RotorReadError(
        RotorReadErrorCode.Malformed,
        tenant,
        name,
        path,
        status,
        `${which} has no string field "value"`,
      );
    }
    return {
      value,
      ...(fields.username === undefined ? {} : { username: fields.username }),
      version: number,
      fields,
    };
  }

  async function metadata(
    tenant: string,
    name: string,
  ): Promise<{ currentVersion: number; labels: Record<string, unknown> }> {
    const path = where(tenant, name, 'metadata');
    const { status, body } = await get(tenant, name, path);
    if (status === 404) throw new SecretNotFoundError(tenant, name, path, status, 'no such secret');
    const data = (body as { data?: { current_version?: unknown; custom_metadata?: unknown } })
      ?.data;
    if (status !== 200 || typeof data?.current_version !== 'number') {
      throw new RotorReadError(
        RotorReadErrorCode.Malformed,
        tenant,
        name,
        path,
        status,
        'not KV v2 metadata',
      );
    }
    const labels = data.custom_metadata;
    return {
      currentVersion: data.current_version,
      labels:
        typeof labels === 'object' && labels !== null ? (labels as Record<string, unknown>) : {},
    };
  }

  const reader: RotorReader = {
    async readCurrent(tenant, name, readOptions = {}) {
      const key = `${tenant}/${name}`;
      const hit = cache.get(key);
      if (!readOptions.fresh && hit && hit.expiresAt > Date.now()) return hit.credential;
      // Concurrent callers share one request (a fresh read never joins a cached-read request).
      const pending = readOptions.fresh ? undefined : inFlight.get(key);
      if (pending) return pending;
      const request = readVersion(tenant, name).then((credential) => {
        if (ttl > 0) cache.set(key, { credential, expiresAt: Date.now() + ttl });
        return credential;
      });
      if (!readOptions.fresh) inFlight.set(key, request);
      try {
        return await request;
      } finally {
        if (inFlight.get(key) === request) inFlight.delete(key);
      }
    },

    async readPrevious(tenant, name) {
      const { labels } = await metadata(tenant, name);
      const previous = Number(labels[PREVIOUS_LABEL]);
      if (!Number.isInteger(previous) || previous < 1) return undefined;
      try {
        return await readVersion(tenant, name, previous);
      } catch (err) {
        // Destroyed when grace ended, between the metadata read and this one.
        if (err instanceof SecretNotFoundError) return undefined;
        throw err;
      }
    },

    async currentVersion(tenant, name) {
      return (await metadata(tenant, name)).currentVersion;
    },

    async withFreshCredential(tenant, name, use, freshOptions = {}) {
      const isAuthFailure = freshOptions.isAuthFailure ?? isAuthenticationFailure;
      const delays = freshOptions.retryDelaysMs ?? DEFAULT_RETRY_DELAYS_MS;
      let credential = await reader.readCurrent(tenant, name);
      let lastError: unknown;
      try {
        return await use(credential);
      } catch (err) {
        if (!isAuthFailure(err)) throw err;
        lastError = err;
      }
      reader.invalidate(tenant, name);
      for (const [i, delay] of delays.entries()) {
        if (delay > 0) await new Promise((r) => setTimeout(r, delay));
        const previousVersion = credential.version;
        credential = await reader.readCurrent(tenant, name, { fresh: true });
        freshOptions.onRetry?.({ attempt: i + 1, version: credential.version, previousVersion });
        try {
          return await use(credential);
        } catch (err) {
          if (!isAuthFailure(err)) throw err;
          lastError = err;
        }
      }
      throw lastError;
    },

    invalidate(tenant, name) {
      cache.delete(`${tenant}/${name}`);
    },
  };
  return reader;
}

function validName(name: string): boolean {
  return typeof name === 'string' && NAME_PATTERN.test(name) && !name.includes('..');
}

/** An invalid name, shown so the caller can find it: printable, bounded. */
function safe(name: unknown): string {
  const text = typeof name === 'string' ? name : String(name);
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 80)}…` : text);
}

function networkReason(err: unknown, timeout: number): string {
  if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError')) {
    return `no answer within ${timeout} ms`;
  }
  const code = (err as { cause?: { code?: unknown } }).cause?.code;
  return `Vault unreachable (${typeof code === 'string' ? code : 'network error'})`;
}
