import { InvalidArgumentError } from 'commander';
import type { Command } from 'commander';
import { apiClient, CliError } from '../api-client';
import type { ApiClient } from '../api-client';
import { checkName } from './names';

/** What a group of commands needs from the program: the API client and the output mode. */
export interface CliContext {
  api(): ApiClient;
  /** Whether --json was given. */
  json(): boolean;
}

/**
 * The context every noun shares. ROTOR_API_URL (default http://127.0.0.1:8080) and ROTOR_TOKEN
 * (required) are read when a command calls the API, so `--help` works without a token.
 */
export function createContext(program: Command): CliContext {
  return {
    api(): ApiClient {
      const token = process.env.ROTOR_TOKEN;
      if (!token)
        throw new CliError(
          'ROT_ERR_CONFIG',
          'ROTOR_TOKEN is required: an API token (npm start prints the bootstrap admin token on first start).',
          [],
          78,
        );
      return apiClient(process.env.ROTOR_API_URL || 'http://127.0.0.1:8080', token);
    },
    json: () => program.opts<{ json: boolean }>().json,
  };
}

/** Query parameters that carry a tenant id or secret name, with the option that sets each. */
const NAME_PARAMS: Record<string, string> = { tenantId: '--tenant', secret: '--secret' };

/**
 * The query string of every command, from the options that were given. Tenant ids and secret
 * names are checked against the naming rule first, so a bad one is refused before anything is sent.
 */
export function qs(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]): [string, string] => {
      const option = NAME_PARAMS[k];
      return [k, option ? checkName(String(v), option) : String(v)];
    });
  return entries.length ? `?${new URLSearchParams(entries).toString()}` : '';
}

/** Parses a whole-number option; commander reports anything else as an invalid argument. */
export function intOption(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isInteger(n)) {
    throw new InvalidArgumentError('must be a whole number.');
  }
  return n;
}
