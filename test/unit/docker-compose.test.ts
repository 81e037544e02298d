import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { envSchema } from '../../config';
import { SEARCH_ATTRIBUTES } from '../../domain';

interface Service {
  environment?: Record<string, string>;
  command?: string[];
  ports?: string[];
}
const compose = parse(readFileSync(path.join(__dirname, '../../docker-compose.yml'), 'utf8'), {
  merge: true,
}) as { services: Record<string, Service> };
const rotorServices = ['rotor-migrate', 'rotor-worker', 'rotor-api'] as const;
const service = (name: string): Service => {
  const s = compose.services[name];
  if (!s) throw new Error(`docker-compose.yml has no service ${name}`);
  return s;
};

describe('docker-compose.yml', () => {
  it('runs Temporal, its UI, PostgreSQL, OpenBao, Mailpit, and Rotor’s API and worker', () => {
    expect(Object.keys(compose.services)).toEqual(
      expect.arrayContaining([
        'temporal',
        'temporal-ui',
        'postgres',
        'openbao',
        'mailpit',
        'rotor-api',
        'rotor-worker',
      ]),
    );
  });

  it('gives Rotor only variables its config schema knows', () => {
    const known = Object.keys(envSchema.shape);
    for (const name of rotorServices) {
      for (const key of Object.keys(service(name).environment ?? {}))
        expect(known, `${name}: ${key}`).toContain(key);
    }
  });

  it('passes every variable the schema requires, each one a valid value once secrets are filled in', () => {
    for (const name of rotorServices) {
      const env = Object.fromEntries(
        Object.entries(service(name).environment ?? {}).map(([k, v]) => [
          k,
          String(v).replace(/\$\{[A-Z_]+:\?[^}]*\}/g, 'filled-in'),
        ]),
      );
      expect(envSchema.safeParse(env).error?.issues ?? [], name).toEqual([]);
    }
  });

  it('takes secrets from the operator, never from a literal in the file', () => {
    for (const name of rotorServices) {
      const env = service(name).environment ?? {};
      expect(env.VAULT_TOKEN).toMatch(/^\$\{ROTOR_VAULT_TOKEN:\?/);
      expect(env.DATABASE_URL).toMatch(/:\$\{ROTOR_DB_PASSWORD:\?[^}]*\}@/);
    }
  });

  it('points Rotor at the services by their compose names', () => {
    const env = service('rotor-worker').environment ?? {};
    expect(env.TEMPORAL_ADDRESS).toBe('temporal:7233');
    expect(env.VAULT_ADDR).toBe('http://openbao:8200');
    expect(env.DATABASE_URL).toContain('@postgres:5432/');
  });

  it('publishes the API on the port it listens on', () => {
    const api = service('rotor-api');
    expect(api.ports).toContain(`${api.environment?.API_PORT}:${api.environment?.API_PORT}`);
  });

  it('registers every search attribute Rotor’s workflows set, with the same types', () => {
    const script = (service('temporal-setup').command ?? []).join(' ');
    for (const [name, type] of Object.entries(SEARCH_ATTRIBUTES)) {
      expect(script).toContain(`--name ${name} --type ${type}`);
    }
  });
});
