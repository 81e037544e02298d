import { RotorReadError, RotorReadErrorCode } from '../../consumers';
import type { Credential, RotorReader } from '../../consumers';
import { CliError } from '../api-client';
import type { ApiClient } from '../api-client';
import { secretPath } from './names';

/** What `rotor run` needs of a reader: the current credential, and its version to watch. */
export type RunReader = Pick<RotorReader, 'readCurrent' | 'currentVersion'>;

/**
 * Reads current values through Rotor's audited value API (`POST …/value`, allowed only where the
 * secret's policy sets allowValueRead), for hosts that hold a Rotor token but no Vault token.
 * Every read writes an audit row with `reason`; watching reads only version numbers.
 */
export function createApiReader(api: ApiClient, reason: string): RunReader {
  const fail = (tenant: string, name: string, err: unknown): never => {
    if (!(err instanceof CliError)) throw err;
    const code =
      err.code === 'ROT_ERR_NOT_FOUND' || err.code === 'ROT_ERR_NO_CURRENT_VALUE'
        ? RotorReadErrorCode.NotFound
        : err.code === 'ROT_ERR_UNREACHABLE' ||
            err.code.endsWith('_UNAVAILABLE') ||
            err.code.startsWith('HTTP_5')
          ? RotorReadErrorCode.Unavailable
          : RotorReadErrorCode.PermissionDenied;
    throw new RotorReadError(
      code,
      tenant,
      name,
      secretPath(tenant, name),
      undefined,
      `${err.code}: ${err.message}`,
    );
  };
  return {
    async readCurrent(tenant, name): Promise<Credential> {
      const read = await api
        .request<{ version: number; value: string }>('POST', secretPath(tenant, name, '/value'), {
          reason,
        })
        .catch((err: unknown) => fail(tenant, name, err));
      return { value: read.value, version: read.version, fields: { value: read.value } };
    },
    async currentVersion(tenant, name): Promise<number> {
      const shown = await api
        .request<{ currentVersion: number | null }>('GET', secretPath(tenant, name))
        .catch((err: unknown) => fail(tenant, name, err));
      return shown.currentVersion ?? 0;
    },
  };
}
