import { InvalidArgumentError } from 'commander';
import type { ApiClient } from '../api-client';
import { checkName } from './names';

/** What a group of commands needs from the program: the API client and the output mode. */
export interface CliContext {
  api(): ApiClient;
  /** Whether --json was given. */
  json(): boolean;
}

/** Query parameters that carry a tenant id or secret name, with the option that sets each. */
const NAME_PARAMS: Record<string, string> = { tenantId: '--tenant', secret: '--secret' };

/**
 * A query string from the options that were given. Tenant ids and secret names are checked
 * against the naming rule first, so a bad one is refused before anything is sent.
 */
export function queryString(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]): [string, string] => {
      const option = NAME_PARAMS[k];
      return [k, option ? checkName(String(v), option) : String(v)];
    });
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
}
export const qs = queryString;

/** Parses a whole-number option; commander reports anything else as an invalid argument. */
export function intOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) {
    throw new InvalidArgumentError('must be a whole number.');
  }
  return n;
}
