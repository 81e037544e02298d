import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { Role } from '../../domain';
import type { TestRotor } from './stack';
import { uniqueName } from './stack';

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface TestApi {
  app: FastifyInstance;
  /** Two tenants of this file's own, each with a tenant token. */
  tenantA: string;
  tenantB: string;
  tokens: { admin: string; security: string; operator: string; a: string; b: string };
  call(
    token: string | undefined,
    method: Method,
    url: string,
    payload?: unknown,
    headers?: Record<string, string>,
  ): Promise<LightMyRequestResponse>;
}

/**
 * The API over a test rotor's real clients, with one token per role and two tenants. `api`
 * overrides the rotor's API settings for this app only (e.g. the KV import prefixes).
 */
export async function createTestApi(
  rotor: TestRotor,
  api: Partial<TestRotor['config']['api']> = {},
): Promise<TestApi> {
  const app = buildApp({
    checks: {},
    logLevel: 'silent',
    services: {
      db: rotor.clients.db,
      temporal: rotor.client,
      config: { ...rotor.config, api: { ...rotor.config.api, ...api } },
      vault: rotor.clients.vault,
    },
  });
  const db = rotor.clients.db;
  const tenantA = uniqueName('tenant-a');
  const tenantB = uniqueName('tenant-b');
  for (const tenant of [tenantA, tenantB]) {
    await db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
  }
  const mint = async (name: string, role: Role, tenantId?: string) =>
    (await createToken(db, { name, role, tenantId: tenantId ?? null })).token;
  const tokens = {
    admin: await mint(uniqueName('admin'), Role.Admin),
    security: await mint(uniqueName('sec'), Role.Security),
    operator: await mint(uniqueName('ops'), Role.Operator),
    a: await mint(uniqueName('alice'), Role.Tenant, tenantA),
    b: await mint(uniqueName('bert'), Role.Tenant, tenantB),
  };
  return {
    app,
    tenantA,
    tenantB,
    tokens,
    call: (token, method, url, payload, headers = {}) =>
      app.inject({
        method,
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
        ...(payload === undefined ? {} : { payload: payload as Record<string, unknown> }),
      }),
  };
}
