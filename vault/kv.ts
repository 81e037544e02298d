import { ApplicationFailure } from '@temporalio/common';
import type NodeVault from 'node-vault';
import { ErrorType } from '../domain';

/** Rotor's bookkeeping on a KV v2 secret, kept in the secret's custom_metadata (strings only). */
export interface RotorLabels {
  current?: number;
  previous?: number;
  pending?: number;
  pendingRotationId?: string;
}

export interface KvVersion {
  version: number;
  data: Record<string, unknown>;
}

/** What a Vault request did, for the worker's `vault_request_duration_seconds`. */
export const VaultOperation = {
  Write: 'write',
  Read: 'read',
  Metadata: 'metadata',
  SetLabels: 'set_labels',
  DestroyVersions: 'destroy_versions',
  DeleteAll: 'delete_all',
} as const;
export type VaultOperation = (typeof VaultOperation)[keyof typeof VaultOperation];

/** How it ended: a small fixed set, so the metric's label values stay bounded. */
export const VaultOutcome = {
  Success: 'success',
  NotFound: 'not_found',
  PermissionDenied: 'permission_denied',
  VersionConflict: 'version_conflict',
  Rejected: 'rejected',
  Unavailable: 'unavailable',
} as const;
export type VaultOutcome = (typeof VaultOutcome)[keyof typeof VaultOutcome];

/** Told about every request once it ends; injected so the adapter stays free of metrics code. */
export type VaultRequestObserver = (
  operation: VaultOperation,
  outcome: VaultOutcome,
  seconds: number,
) => void;

export interface KvMetadata {
  /** Newest version number written (0 when the secret does not exist yet). */
  latestVersion: number;
  labels: RotorLabels;
}

/**
 * The small part of Vault KV v2 Rotor needs, over node-vault. Every failure becomes an
 * ApplicationFailure with a type from domain/error-types; messages carry the path and status,
 * never request or response bodies (which could hold a value).
 */
export class VaultKv {
  constructor(
    private readonly client: Pick<NodeVault.client, 'request'>,
    private readonly mount: string,
    private readonly observe: VaultRequestObserver = () => undefined,
  ) {}

  /** Writes a new version with check-and-set: it succeeds only if the newest version is `cas`. */
  async write(path: string, data: Record<string, unknown>, cas: number): Promise<number> {
    const res = (await this.call(VaultOperation.Write, 'POST', `data/${path}`, {
      data,
      options: { cas },
    })) as {
      data: { version: number };
    };
    return res.data.version;
  }

  async read(path: string, version?: number): Promise<KvVersion | undefined> {
    const query = version === undefined ? '' : `?version=${version}`;
    const res = (await this.call(VaultOperation.Read, 'GET', `data/${path}${query}`, undefined, {
      allow404: true,
    })) as
      { data: { data: Record<string, unknown> | null; metadata: { version: number } } } | undefined;
    if (!res?.data.data) return undefined;
    return { version: res.data.metadata.version, data: res.data.data };
  }

  async metadata(path: string): Promise<KvMetadata> {
    const res = (await this.call(VaultOperation.Metadata, 'GET', `metadata/${path}`, undefined, {
      allow404: true,
    })) as
      | { data: { current_version: number; custom_metadata: Record<string, string> | null } }
      | undefined;
    if (!res) return { latestVersion: 0, labels: {} };
    return {
      latestVersion: res.data.current_version,
      labels: parseLabels(res.data.custom_metadata ?? {}),
    };
  }

  async setLabels(path: string, labels: RotorLabels, maxVersions?: number): Promise<void> {
    await this.call(VaultOperation.SetLabels, 'POST', `metadata/${path}`, {
      custom_metadata: formatLabels(labels),
      ...(maxVersions === undefined ? {} : { max_versions: maxVersions }),
    });
  }

  /** Permanently removes the given versions' data (a discarded pending value, a revoked one). */
  async destroyVersions(path: string, versions: number[]): Promise<void> {
    if (versions.length === 0) return;
    await this.call(VaultOperation.DestroyVersions, 'PUT', `destroy/${path}`, { versions });
  }

  /** Removes the secret, every version and its metadata (retire). */
  async deleteAll(path: string): Promise<void> {
    await this.call(VaultOperation.DeleteAll, 'DELETE', `metadata/${path}`, undefined, {
      allow404: true,
    });
  }

  private async call(
    operation: VaultOperation,
    method: string,
    apiPath: string,
    json?: unknown,
    options: { allow404?: boolean } = {},
  ): Promise<unknown> {
    const fullPath = `/${this.mount}/${apiPath}`;
    const started = performance.now();
    const done = (outcome: VaultOutcome) =>
      this.observe(operation, outcome, (performance.now() - started) / 1000);
    try {
      const res: unknown = await this.client.request({ path: fullPath, method, json });
      done(VaultOutcome.Success);
      return res;
    } catch (err) {
      const status = (err as { response?: { statusCode?: number } }).response?.statusCode;
      if (status === 404 && options.allow404) {
        done(VaultOutcome.NotFound);
        return undefined;
      }
      const failure = toFailure(method, fullPath.split('?')[0] ?? fullPath, status, err);
      done(outcomeOf(failure));
      throw failure;
    }
  }
}

function toFailure(
  method: string,
  path: string,
  status: number | undefined,
  err: unknown,
): ApplicationFailure {
  const where = `Vault ${method} ${path}`;
  if (status === 403 || status === 401) {
    return ApplicationFailure.nonRetryable(
      `${where}: permission denied (HTTP ${status})`,
      ErrorType.VaultPermissionDenied,
    );
  }
  if (status === 400 && /check-and-set/i.test(err instanceof Error ? err.message : '')) {
    return ApplicationFailure.retryable(
      `${where}: check-and-set version mismatch`,
      ErrorType.VaultVersionConflict,
    );
  }
  if (status !== undefined && status >= 400 && status < 500) {
    return ApplicationFailure.nonRetryable(
      `${where}: rejected (HTTP ${status})`,
      ErrorType.ValidationFailed,
    );
  }
  const code = (err as { code?: string }).code;
  return ApplicationFailure.retryable(
    `${where}: unavailable (${status === undefined ? (code ?? 'network error') : `HTTP ${status}`})`,
    ErrorType.VaultUnavailable,
  );
}

function outcomeOf(failure: ApplicationFailure): VaultOutcome {
  switch (failure.type) {
    case ErrorType.VaultPermissionDenied:
      return VaultOutcome.PermissionDenied;
    case ErrorType.VaultVersionConflict:
      return VaultOutcome.VersionConflict;
    case ErrorType.ValidationFailed:
      return VaultOutcome.Rejected;
    default:
      return VaultOutcome.Unavailable;
  }
}

const LABEL_KEYS = {
  current: 'rotor_current_version',
  previous: 'rotor_previous_version',
  pending: 'rotor_pending_version',
} as const;

function parseLabels(meta: Record<string, string>): RotorLabels {
  const labels: RotorLabels = {};
  for (const [label, key] of Object.entries(LABEL_KEYS) as [keyof typeof LABEL_KEYS, string][]) {
    const value = meta[key];
    if (value) labels[label] = Number(value);
  }
  if (meta.rotor_pending_rotation_id) labels.pendingRotationId = meta.rotor_pending_rotation_id;
  return labels;
}

function formatLabels(labels: RotorLabels): Record<string, string> {
  // POST replaces the whole custom_metadata map, and values may not be empty: a label that is
  // not set is simply left out.
  const out: Record<string, string> = {};
  for (const [label, key] of Object.entries(LABEL_KEYS) as [keyof typeof LABEL_KEYS, string][]) {
    const value = labels[label];
    if (value !== undefined) out[key] = String(value);
  }
  if (labels.pendingRotationId) out.rotor_pending_rotation_id = labels.pendingRotationId;
  return out;
}
