import type { Client } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import type { Config } from '../config';
import { KV_PATH } from '../config';
import { ErrorType, isValidName } from '../domain';
import type { RequestOrigin, SecretType } from '../domain';
import { createSecret } from './create-secret';
import { ValidationError } from './errors';
import { AlreadyManagedError, checkInitialValue } from './import-value';
import type { ImportVault } from './import-value';
import type { ConnectionLookup } from './target-connection';
import { validateCreateSecret } from './validate-secret';

/** The most keys one KV import reads: one request, one bounded amount of work. */
export const MAX_KV_IMPORT_KEYS = 100;

/** What happened (or would happen) to one key of the source secret. Never carries its value. */
export const KvImportOutcome = {
  Created: 'created',
  WouldCreate: 'would_create',
  Exists: 'exists',
  InvalidName: 'invalid_name',
  InvalidValue: 'invalid_value',
  DuplicateName: 'duplicate_name',
  NotImported: 'not_imported',
  Failed: 'failed',
} as const;
export type KvImportOutcome = (typeof KvImportOutcome)[keyof typeof KvImportOutcome];

export interface KvImportResult {
  key: string;
  /** The secret name the key maps to (`DB_PASSWORD` → `db-password`); null when none is valid. */
  name: string | null;
  outcome: KvImportOutcome;
  /** Why, for the outcomes that are not success: a rule, never the value. */
  reason?: string;
}

export interface KvImportRequest {
  tenantId: string;
  /** The source: a KV v2 secret under Rotor's mount, such as `legacy/orders`. */
  path: string;
  type: SecretType;
  policy?: Record<string, unknown>;
  dryRun: boolean;
  partial: boolean;
  requestedBy: string;
  /** The API caller's IP and user agent, for the rows each created secret's provisioning writes. */
  origin?: RequestOrigin;
}

/** A coded refusal of the whole import: the status, and a message naming the field. */
export class KvImportError extends Error {
  constructor(
    readonly statusCode: 400 | 403 | 404,
    readonly code: `ROT_ERR_${string}`,
    message: string,
    readonly issues?: { field: string; message: string }[],
  ) {
    super(message);
    this.name = 'KvImportError';
  }
}

/** `DB_PASSWORD` → `db-password`: the .env import's rule, so both imports name keys alike. */
export const kvSecretName = (key: string): string => key.toLowerCase().replace(/_/g, '-');

/** Whether `path` is one of `prefixes` or lies under one (whole segments only). */
export function kvPathAllowed(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => path === p || path.startsWith(`${p}/`));
}

export interface KvImportDeps {
  client: Client;
  config: Pick<Config, 'policy' | 'temporal'> & { api: Pick<Config['api'], 'importKvPrefixes'> };
  vault: ImportVault;
  /** Whether the tenant already has a secret of this name (dry run: exists vs would create). */
  managed: (tenantId: string, name: string) => Promise<boolean>;
  connections?: ConnectionLookup;
}

/**
 * Brings every key of an existing KV v2 secret under management, one Rotor secret per key,
 * each through createSecret with the key's value as its initial value (staged in Vault by this
 * process, never workflow input). Every key is checked first; unless `partial`, one bad key
 * means nothing is created. Results and errors name keys and rules, never values.
 */
export async function importFromKv(
  deps: KvImportDeps,
  request: KvImportRequest,
): Promise<KvImportResult[]> {
  const prefixes = deps.config.api.importKvPrefixes ?? [];
  if (prefixes.length === 0) {
    throw new KvImportError(
      403,
      'ROT_ERR_IMPORT_KV_DISABLED',
      'KV import is off: set ROTOR_IMPORT_KV_PREFIXES on the API to the KV paths it may read (e.g. legacy/orders), and grant its Vault token read on them',
    );
  }
  const path = request.path.replace(/^\/+|\/+$/g, '');
  if (!KV_PATH.test(path) || path.split('/').some((s) => s === '..' || s === '.')) {
    throw new KvImportError(400, 'ROT_ERR_VALIDATION', 'invalid request', [
      { field: 'path', message: 'must be a KV path under the mount, such as legacy/orders' },
    ]);
  }
  if (!kvPathAllowed(path, prefixes)) {
    throw new KvImportError(
      403,
      'ROT_ERR_IMPORT_KV_PATH_NOT_ALLOWED',
      'path is outside the KV paths this API may import from (ROTOR_IMPORT_KV_PREFIXES)',
      [{ field: 'path', message: 'is not under an allowed prefix' }],
    );
  }
  const source = await deps.vault.read(path).catch((err: unknown) => {
    if (err instanceof ApplicationFailure && err.type === ErrorType.VaultPermissionDenied) {
      throw new KvImportError(
        403,
        'ROT_ERR_IMPORT_KV_FORBIDDEN',
        "Vault refused to let the API read this path: grant the API's Vault token read on it (README, Bringing existing secrets in)",
        [{ field: 'path', message: 'is not readable by the API’s Vault token' }],
      );
    }
    throw err;
  });
  if (!source) {
    throw new KvImportError(
      404,
      'ROT_ERR_IMPORT_KV_NOT_FOUND',
      'no KV v2 secret at this path (or its newest version is deleted)',
      [{ field: 'path', message: 'names no secret' }],
    );
  }
  const keys = Object.keys(source.data).sort();
  if (keys.length > MAX_KV_IMPORT_KEYS) {
    throw new KvImportError(
      400,
      'ROT_ERR_IMPORT_KV_TOO_MANY_KEYS',
      `the secret at this path has more than ${MAX_KV_IMPORT_KEYS} keys; split it first`,
      [{ field: 'path', message: `holds more than ${MAX_KV_IMPORT_KEYS} keys` }],
    );
  }

  // First pass: every key checked, nothing written.
  const planned: { result: KvImportResult; value?: string }[] = [];
  const seen = new Set<string>();
  for (const key of keys) {
    const name = kvSecretName(key);
    const raw = source.data[key];
    if (!isValidName(name)) {
      planned.push({
        result: {
          key,
          name: null,
          outcome: KvImportOutcome.InvalidName,
          reason: 'maps to no valid secret name',
        },
      });
      continue;
    }
    if (seen.has(name)) {
      planned.push({
        result: {
          key,
          name,
          outcome: KvImportOutcome.DuplicateName,
          reason: 'another key maps to the same secret name',
        },
      });
      continue;
    }
    seen.add(name);
    if (typeof raw !== 'string') {
      planned.push({
        result: { key, name, outcome: KvImportOutcome.InvalidValue, reason: 'is not a string' },
      });
      continue;
    }
    try {
      // The whole create request, as POST /secrets would check it (policy, type rules), and
      // the value against its type's rules: issues name fields and rules only.
      const checkedRequest = validateCreateSecret(
        createInput(request, name, raw),
        deps.config.policy,
      );
      checkInitialValue(checkedRequest.type, raw, undefined, deps.config.policy.maxValueBytes);
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      const valueIssue = err.issues.find((i) => i.field === 'initialValue');
      if (!valueIssue) {
        // A bad policy or type is the request's fault, the same for every key: refuse it all.
        throw new KvImportError(400, 'ROT_ERR_VALIDATION', 'invalid request', err.issues);
      }
      planned.push({
        result: { key, name, outcome: KvImportOutcome.InvalidValue, reason: valueIssue.message },
      });
      continue;
    }
    planned.push({ result: { key, name, outcome: KvImportOutcome.WouldCreate }, value: raw });
  }

  const bad = planned.some((p) => p.value === undefined);
  for (const p of planned) {
    if (p.value === undefined || p.result.name === null) continue;
    if (await deps.managed(request.tenantId, p.result.name)) {
      p.result.outcome = KvImportOutcome.Exists;
      delete p.value;
    }
  }
  if (request.dryRun) return planned.map((p) => p.result);
  if (bad && !request.partial) {
    return planned.map((p) =>
      p.value === undefined
        ? p.result
        : {
            ...p.result,
            outcome: KvImportOutcome.NotImported,
            reason: 'another key is invalid; nothing was imported (partial imports the rest)',
          },
    );
  }

  for (const p of planned) {
    if (p.value === undefined || p.result.name === null) continue;
    try {
      await createSecret(
        deps.client,
        deps.config,
        createInput(request, p.result.name, p.value),
        deps.vault,
        deps.connections,
        request.origin,
      );
      p.result.outcome = KvImportOutcome.Created;
    } catch (err) {
      if (err instanceof AlreadyManagedError) p.result.outcome = KvImportOutcome.Exists;
      else if (err instanceof ValidationError) {
        p.result.outcome = KvImportOutcome.InvalidValue;
        p.result.reason = err.issues.map((i) => `${i.field} ${i.message}`).join('; ');
      } else {
        // Not retried here, never echoed: the type says which failure it was.
        p.result.outcome = KvImportOutcome.Failed;
        p.result.reason =
          err instanceof ApplicationFailure ? (err.type ?? 'failed') : 'could not be created';
      }
    }
    delete p.value;
  }
  return planned.map((p) => p.result);
}

function createInput(request: KvImportRequest, name: string, value: string) {
  return {
    tenantId: request.tenantId,
    name,
    type: request.type,
    requestedBy: request.requestedBy,
    initialValue: value,
    ...(request.policy ? { policy: request.policy } : {}),
  };
}
