import { InvalidArgumentError } from 'commander';
import type { ApiClient } from '../api-client';

/** What a group of commands needs from the program: the API client and the output mode. */
export interface CliContext {
  api(): ApiClient;
  /** Whether --json was given. */
  json(): boolean;
}

/** A query string from the options that were given. */
export function qs(params: Record<string, string | number | undefined>): string {
  const entries = Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]): [string, string] => [k, String(v)]);
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
