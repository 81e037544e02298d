import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import type { Client } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../../api/app';
import { createToken } from '../../api/auth/tokens';
import { GENESIS_HASH, appendAudit, auditHash, verifyAuditTrail } from '../../audit';
import { migrateOrThrow } from '../../db';
import { Role } from '../../domain';
import { connectTemporalClient } from '../../engine';
import { runCli } from '../helpers/cli';
import { createFreshDatabase } from '../helpers/fresh-db';
import type { FreshDatabase } from '../helpers/fresh-db';
import { testConfig, uniqueName } from '../helpers/stack';

/** The value of one sample in a Prometheus text body, or null when the series is absent. */
function sample(body: string, name: string, labels: Record<string, string> = {}): number | null {
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const got = new Map(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => got.get(k) === v)) return Number(m[3]);
  }
  return null;
}

const rules = (
  parse(readFileSync(path.join(__dirname, '../../deploy/prometheus/alerts.yml'), 'utf8')) as {
    groups: { name: string; rules: { alert: string; expr: string }[] }[];
  }
).groups.flatMap((g) => g.rules);

describe('who, from where: client IP and user agent on audit rows, and refusal metrics', () => {
  let fresh: FreshDatabase;
  let temporal: Client;
  let admin: string;
  const apps: FastifyInstance[] = [];
  const logLines: string[] = [];

  beforeAll(async () => {
    fresh = await createFreshDatabase('rotor_origin');
    await migrateOrThrow(fresh.db);
    temporal = await connectTemporalClient(testConfig());
    admin = (await createToken(fresh.db, { name: 'origin-admin', role: Role.Admin })).token;
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await temporal?.connection.close();
    await fresh?.drop();
  });

  /** A real API on a loopback port, trusting these proxies; returns its base URL. */
  async function serve(env: Record<string, string> = {}): Promise<string> {
    const app = buildApp({
      checks: {},
      logLevel: 'warn',
      logStream: new Writable({
        write(chunk: Buffer, _enc, done) {
          logLines.push(chunk.toString());
          done();
        },
      }),
      services: { db: fresh.db, temporal, config: testConfig(env) },
    });
    apps.push(app);
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no port');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Creates a tenant token over real HTTP (audited in the tenant's chain); returns the tenant. */
  async function createTenantToken(
    base: string,
    headers: Record<string, string>,
  ): Promise<{ tenant: string; token: string }> {
    const tenant = uniqueName('origin');
    const res = await fetch(`${base}/api/v1/tokens`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${admin}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify({ name: 'svc', role: Role.Tenant, tenantId: tenant }),
    });
    expect(res.status).toBe(201);
    const { token } = (await res.json()) as { token: string };
    return { tenant, token };
  }

  const rowsOf = (tenant: string) =>
    fresh.db
      .selectFrom('audit_events')
      .select(['id', 'action', 'client_ip', 'user_agent', 'chain_format'])
      .where('tenant_id', '=', tenant)
      .orderBy('chain_seq')
      .execute();

  it('records the socket’s address and the user agent of a real HTTP call, ignoring X-Forwarded-For from an untrusted peer', async () => {
    // Trusts a proxy range the loopback peer is not in: the header is the client's own claim.
    const base = await serve({ ROTOR_TRUSTED_PROXIES: '10.0.0.0/8' });
    const { tenant } = await createTenantToken(base, {
      'user-agent': 'rotor-test/1.0 (+origin)',
      'x-forwarded-for': '203.0.113.9',
    });
    expect(await rowsOf(tenant)).toEqual([
      expect.objectContaining({
        action: 'token.created',
        client_ip: '127.0.0.1',
        user_agent: 'rotor-test/1.0 (+origin)',
        chain_format: 2,
      }),
    ]);
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).ok).toBe(true);
  });

  it('believes X-Forwarded-For from a configured trusted proxy, and shows IP and user agent in the audit listing', async () => {
    const base = await serve({ ROTOR_TRUSTED_PROXIES: '192.0.2.1, 127.0.0.1/32' });
    const { tenant, token } = await createTenantToken(base, {
      'user-agent': 'curl/8.5.0',
      'x-forwarded-for': '198.51.100.23',
    });
    expect(await rowsOf(tenant)).toEqual([
      expect.objectContaining({ client_ip: '198.51.100.23', user_agent: 'curl/8.5.0' }),
    ]);
    const listed = await fetch(`${base}/api/v1/tenants/${tenant}/audit`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { items: unknown[] }).items).toEqual([
      expect.objectContaining({
        action: 'token.created',
        clientIp: '198.51.100.23',
        userAgent: 'curl/8.5.0',
      }),
    ]);
    // The CLI's table has both columns.
    const shown = await runCli(base, token, 'audit', 'events', '--tenant', tenant);
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toMatch(/CLIENTIP\s+USERAGENT/);
    expect(shown.stdout).toMatch(/198\.51\.100\.23\s+curl\/8\.5\.0\s+token\.created/);
  });

  it('keeps a Rotor token pasted into the user agent out of the row, and caps its length', async () => {
    const base = await serve();
    const pasted = `client/1 rtr_${'A'.repeat(43)} ${'x'.repeat(400)}`;
    const { tenant } = await createTenantToken(base, { 'user-agent': pasted });
    const [row] = await rowsOf(tenant);
    expect(row?.user_agent).toMatch(/^client\/1 rtr_\[redacted\] x+$/);
    expect(row?.user_agent).toHaveLength(256);
    expect(row?.user_agent).not.toContain('AAAAAAAA');
  });

  it('verifies the chain after, and names a row whose client IP or user agent was tampered with', async () => {
    const base = await serve();
    const { tenant } = await createTenantToken(base, { 'user-agent': 'first' });
    await createToken(fresh.db, { name: 'x', role: Role.Tenant, tenantId: tenant });
    for (const ua of ['second', 'third']) {
      const res = await fetch(`${base}/api/v1/tokens`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${admin}`,
          'content-type': 'application/json',
          'user-agent': ua,
        },
        body: JSON.stringify({ name: ua, role: Role.Tenant, tenantId: tenant }),
      });
      expect(res.status).toBe(201);
    }
    const rows = await rowsOf(tenant);
    expect(rows.map((r) => r.user_agent)).toEqual(['first', 'second', 'third']);
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).ok).toBe(true);

    await fresh.tamper((db) =>
      db
        .updateTable('audit_events')
        .set({ client_ip: '192.0.2.66' } as never)
        .where('id', '=', rows[1]?.id ?? '')
        .execute(),
    );
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).firstBreak).toMatchObject({
      id: rows[1]?.id,
      seq: 2,
      reason: 'altered',
    });

    const other = (await createTenantToken(base, { 'user-agent': 'honest' })).tenant;
    const [row] = await rowsOf(other);
    await fresh.tamper((db) =>
      db
        .updateTable('audit_events')
        .set({ user_agent: null } as never)
        .where('id', '=', row?.id ?? '')
        .execute(),
    );
    expect((await verifyAuditTrail(fresh.db, { tenantId: other })).firstBreak).toMatchObject({
      id: row?.id,
      reason: 'altered',
    });
  });

  it('keeps rows hashed before migration 0013 (format 1) verifying beside new ones, and names an origin added to one or a format flipped', async () => {
    const tenant = uniqueName('legacy');
    // Two rows exactly as the code before 0013 wrote them: v1 hash, no origin, format 1.
    let prev = GENESIS_HASH;
    const legacyIds: string[] = [];
    for (const seq of [1, 2]) {
      const occurredAt = new Date();
      const key = randomUUID();
      const hash = auditHash({
        tenantId: tenant,
        secretId: null,
        rotationId: null,
        actor: 'old-admin#0000',
        action: 'legacy.event',
        outcome: 'info',
        details: { seq },
        idempotencyKey: key,
        occurredAt,
        seq,
        prevHash: prev,
      });
      const { id } = await fresh.db
        .insertInto('audit_events')
        .values({
          tenant_id: tenant,
          actor: 'old-admin#0000',
          action: 'legacy.event',
          outcome: 'info',
          details: JSON.stringify({ seq }),
          idempotency_key: key,
          occurred_at: occurredAt,
          chain_seq: seq,
          prev_hash: prev,
          hash,
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      legacyIds.push(id);
      await sql`insert into audit_chain_heads (chain_key, last_seq, last_hash) values (${tenant}, ${seq}, ${hash})
        on conflict (chain_key) do update set last_seq = excluded.last_seq, last_hash = excluded.last_hash`.execute(
        fresh.db,
      );
      prev = hash;
    }
    await appendAudit(fresh.db, {
      tenantId: tenant,
      actor: 'new-admin#1111',
      action: 'after.upgrade',
      outcome: 'info',
      idempotencyKey: randomUUID(),
      origin: { ip: '127.0.0.1', userAgent: 'rotor-cli' },
    });
    expect((await rowsOf(tenant)).map((r) => r.chain_format)).toEqual([1, 1, 2]);
    expect(await verifyAuditTrail(fresh.db, { tenantId: tenant })).toMatchObject({
      ok: true,
      chains: [expect.objectContaining({ rows: 3 })],
    });

    // An origin written onto an old row afterwards: v1 covers none, so it cannot be vouched for.
    await fresh.tamper((db) =>
      db
        .updateTable('audit_events')
        .set({ client_ip: '127.0.0.1' } as never)
        .where('id', '=', legacyIds[1] ?? '')
        .execute(),
    );
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).firstBreak).toMatchObject({
      id: legacyIds[1],
      reason: 'altered',
    });
    await fresh.tamper((db) =>
      db
        .updateTable('audit_events')
        .set({ client_ip: null, chain_format: 2 } as never)
        .where('id', '=', legacyIds[1] ?? '')
        .execute(),
    );
    expect((await verifyAuditTrail(fresh.db, { tenantId: tenant })).firstBreak).toMatchObject({
      id: legacyIds[1],
      reason: 'altered',
    });
  });

  it('counts refused value reads and 401/403 answers, raises the burst counter once for repeated 401s with one warning line and no token, and exports every metric the access alert rules name', async () => {
    const base = await serve({
      ROTOR_AUTH_BURST_THRESHOLD: '5',
      ROTOR_AUTH_BURST_WINDOW_SECONDS: '600',
    });
    const scrape = async () => (await fetch(`${base}/metrics`)).text();
    expect(sample(await scrape(), 'api_auth_refusal_bursts_total', { kind: 'token' })).toBe(0);

    const { tenant, token: tenantToken } = await createTenantToken(base, {});
    const security = (await createToken(fresh.db, { name: 'sec', role: Role.Security })).token;
    const read = (token: string, tenantId: string, name: string) =>
      fetch(`${base}/api/v1/secrets/${tenantId}/${name}/value`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'metrics test' }),
      });
    expect((await read(tenantToken, tenant, 'missing')).status).toBe(404);
    expect((await read(security, tenant, 'missing')).status).toBe(403);
    expect((await read(tenantToken, 'no-such-tenant-x', 'missing')).status).toBe(404);

    // A revoked token used again and again: a burst for its id (and for the IP).
    const revoked = await createToken(fresh.db, { name: 'gone', role: Role.Operator });
    await fresh.db
      .updateTable('api_tokens')
      .set({ revoked_at: new Date() })
      .where('id', '=', revoked.id)
      .execute();
    for (let i = 0; i < 7; i += 1) {
      const res = await fetch(`${base}/api/v1/tokens`, {
        headers: { authorization: `Bearer ${revoked.token}` },
      });
      expect(res.status).toBe(401);
    }

    const body = await scrape();
    expect(sample(body, 'secret_value_reads_refused_total', { tenant, reason: 'not_found' })).toBe(
      1,
    );
    expect(sample(body, 'secret_value_reads_refused_total', { tenant, reason: 'role' })).toBe(1);
    // A tenant the URL made up is not a label of its own.
    expect(
      sample(body, 'secret_value_reads_refused_total', {
        tenant: '(unknown)',
        reason: 'other_tenant',
      }),
    ).toBe(1);
    expect(
      sample(body, 'api_auth_refusals_total', { status: '401', code: 'ROT_ERR_TOKEN_REVOKED' }),
    ).toBe(7);
    expect(
      sample(body, 'api_auth_refusals_total', { status: '403', code: 'ROT_ERR_FORBIDDEN' }),
    ).toBe(1);
    // Seven refusals past a threshold of five: one burst per key, not one per request.
    expect(sample(body, 'api_auth_refusal_bursts_total', { kind: 'token' })).toBe(1);
    expect(sample(body, 'api_auth_refusal_bursts_total', { kind: 'ip' })).toBe(1);

    const warnings = logLines.filter((l) => l.includes('repeated 401/403 answers'));
    expect(warnings).toHaveLength(2);
    expect(warnings.join('')).toContain(revoked.id);
    expect(warnings.join('')).not.toContain(revoked.token);
    expect(warnings.join('')).not.toContain(revoked.token.slice(4, 20));

    // Every metric the access rules read is one this server really exports, with samples.
    const access = rules.filter((r) =>
      ['ValueReadRefused', 'AuthRefusalBurst', 'AuthRefusalsHigh'].includes(r.alert),
    );
    expect(access).toHaveLength(3);
    for (const rule of access) {
      const names = [...rule.expr.matchAll(/\b([a-z_]+_total)\b/g)].map((m) => m[1] ?? '');
      expect(names.length, rule.alert).toBeGreaterThan(0);
      for (const name of names) expect(sample(body, name), `${rule.alert}: ${name}`).not.toBeNull();
    }
  });
});
