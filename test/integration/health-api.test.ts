import { Connection } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { loadConfig } from '../../config';
import { buildEngineClients, buildHealthChecks } from '../../engine';
import type { EngineClients } from '../../engine';
import { testConfig } from '../helpers/stack';

describe('GET /healthz and /readyz', () => {
  let clients: EngineClients;
  let broken: EngineClients;
  let temporal: Connection;
  beforeAll(async () => {
    const config = testConfig();
    clients = buildEngineClients(config);
    // A Vault nobody listens on, with a token that must never appear in a response.
    broken = buildEngineClients(
      loadConfig({
        DATABASE_URL: config.databaseUrl,
        VAULT_ADDR: 'http://127.0.0.1:9',
        VAULT_TOKEN: 'hvs.do-not-leak-this-token',
      }),
    );
    temporal = await Connection.connect({ address: config.temporal.address });
  });
  afterAll(async () => {
    await temporal?.close();
    await clients?.db.destroy();
    await broken?.db.destroy();
  });

  it('reports Temporal, Vault and the database as up when they answer', async () => {
    const app = buildApp({ checks: buildHealthChecks(clients, temporal), logLevel: 'silent' });
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'ok',
      dependencies: {
        temporal: { status: 'up' },
        vault: { status: 'up' },
        database: { status: 'up' },
      },
    });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
  });

  it('names the dependency that is down, without leaking addresses or tokens', async () => {
    const app = buildApp({ checks: buildHealthChecks(broken, temporal), logLevel: 'silent' });
    const health = await app.inject({ method: 'GET', url: '/healthz' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({
      status: 'degraded',
      dependencies: { vault: { status: 'down' } },
    });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    expect(ready.statusCode).toBe(503);
    for (const body of [health.body, ready.body]) {
      expect(body).not.toContain('do-not-leak');
      expect(body).not.toContain('127.0.0.1:9');
    }
  });

  it('answers an unknown route with a coded 404', async () => {
    const app = buildApp({ checks: {}, logLevel: 'silent' });
    const res = await app.inject({ method: 'GET', url: '/nope' });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ error: { code: 'ROT_ERR_NOT_FOUND' } });
  });
});
