import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createToken, ensureBootstrapAdmin, hashToken } from '../../api/auth/tokens';
import { Role } from '../../domain';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { runCli } from '../helpers/cli';
import { withFreshDatabase } from '../helpers/fresh-db';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

interface Issued {
  id: string;
  token: string;
  subject: string;
  expiresAt: string | null;
}
interface Listed {
  id: string;
  subject: string;
  status: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedBy: string | null;
}

describe('API tokens expire, are listed with their last use, and are refused at once when revoked', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let url = '';
  let adminSubject = '';
  beforeAll(async () => {
    rotor = await createTestRotor();
    api = await createTestApi(rotor);
    url = await api.app.listen({ host: '127.0.0.1', port: 0 });
    adminSubject = (
      await rotor.clients.db
        .selectFrom('api_tokens')
        .select('subject')
        .where('token_hash', '=', hashToken(api.tokens.admin))
        .executeTakeFirstOrThrow()
    ).subject;
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const create = async (body: Record<string, unknown>): Promise<Issued> => {
    const res = await api.call(api.tokens.admin, 'POST', '/api/v1/tokens', body);
    expect(res.statusCode, res.body).toBe(201);
    return res.json<Issued>();
  };
  const listed = async (id: string): Promise<Listed | undefined> => {
    const res = await api.call(api.tokens.admin, 'GET', '/api/v1/tokens?limit=200');
    expect(res.statusCode, res.body).toBe(200);
    return res.json<{ items: Listed[] }>().items.find((t) => t.id === id);
  };
  const whoAmI = (token: string) => api.call(token, 'GET', '/api/v1/types');
  const codeOf = (res: { json<T>(): T }) => res.json<{ error: { code: string } }>().error.code;

  it('gives a new token the configured lifetime by default, and its own when asked', async () => {
    const byDefault = await create({ name: uniqueName('ttl'), role: Role.Operator });
    const own = await create({
      name: uniqueName('ttl'),
      role: Role.Operator,
      expiresInSeconds: 600,
    });
    const row = async (id: string) =>
      rotor.clients.db
        .selectFrom('api_tokens')
        .select([
          sql<number>`extract(epoch from expires_at - created_at)::int`.as('lifetime'),
          'expires_at',
        ])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
    // The lifetime is expires_at - created_at, both written by one request: seconds apart at most.
    expect((await row(byDefault.id)).lifetime).toBeGreaterThanOrEqual(
      rotor.config.api.tokenTtlSeconds - 5,
    );
    expect((await row(byDefault.id)).lifetime).toBeLessThanOrEqual(
      rotor.config.api.tokenTtlSeconds,
    );
    expect((await row(own.id)).lifetime).toBeGreaterThanOrEqual(595);
    expect((await row(own.id)).lifetime).toBeLessThanOrEqual(600);
    expect(new Date(own.expiresAt ?? 0).toISOString()).toBe(
      (await row(own.id)).expires_at?.toISOString(),
    );
    const refused = await api.call(api.tokens.admin, 'POST', '/api/v1/tokens', {
      name: 'x',
      role: Role.Operator,
      expiresInSeconds: 5,
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.body).toContain('body.expiresInSeconds');
  });

  it('refuses an expired token with 401 ROT_ERR_TOKEN_EXPIRED from its next request', async () => {
    const issued = await create({ name: uniqueName('exp'), role: Role.Operator });
    expect((await whoAmI(issued.token)).statusCode).toBe(200);
    // Expiry is the database's clock passing expires_at; move expires_at rather than wait.
    await rotor.clients.db
      .updateTable('api_tokens')
      .set({ expires_at: sql<Date>`now() - interval '1 second'` })
      .where('id', '=', issued.id)
      .execute();
    const res = await whoAmI(issued.token);
    expect(res.statusCode).toBe(401);
    expect(codeOf(res)).toBe('ROT_ERR_TOKEN_EXPIRED');
    expect((await listed(issued.id))?.status).toBe('expired');
  });

  it('revokes a token: the next request gets 401 ROT_ERR_TOKEN_REVOKED, a second revoke is a no-op, and both are audited once', async () => {
    const issued = await create({ name: uniqueName('rev'), role: Role.Operator });
    expect((await whoAmI(issued.token)).statusCode).toBe(200);
    const revoke = () =>
      api.call(api.tokens.admin, 'POST', `/api/v1/tokens/${issued.id}/revoke`, {
        reason: 'left the team',
      });
    const first = await revoke();
    expect(first.statusCode, first.body).toBe(200);
    expect(first.json()).toMatchObject({
      alreadyRevoked: false,
      token: { status: 'revoked', revokedBy: adminSubject },
    });
    const refused = await whoAmI(issued.token);
    expect(refused.statusCode).toBe(401);
    expect(codeOf(refused)).toBe('ROT_ERR_TOKEN_REVOKED');
    expect((await revoke()).json()).toMatchObject({ alreadyRevoked: true });
    const audit = await rotor.clients.db
      .selectFrom('audit_events')
      .select(['actor', 'action', 'details'])
      .where('action', 'like', 'token.%')
      .where(sql<string>`details->>'token'`, '=', issued.subject)
      .orderBy('id')
      .execute();
    expect(audit.map((a) => [a.action, a.actor])).toEqual([
      ['token.created', adminSubject],
      ['token.revoked', adminSubject],
    ]);
    expect(JSON.stringify(audit)).not.toContain(issued.token);
  });

  it('lists tokens with status and last use, and never the token or its hash', async () => {
    const issued = await create({ name: uniqueName('list'), role: Role.Security });
    expect((await listed(issued.id))?.lastUsedAt).toBeNull();
    expect((await whoAmI(issued.token)).statusCode).toBe(200);
    const seen = await listed(issued.id);
    expect(seen).toMatchObject({ subject: issued.subject, status: 'active' });
    expect(seen?.lastUsedAt).not.toBeNull();
    const all = await api.call(api.tokens.admin, 'GET', '/api/v1/tokens?limit=200');
    expect(all.body).not.toContain(issued.token);
    expect(all.body).not.toContain(hashToken(issued.token));
    const active = await api.call(
      api.tokens.admin,
      'GET',
      '/api/v1/tokens?status=active&limit=200',
    );
    expect(active.json<{ items: Listed[] }>().items.every((t) => t.status === 'active')).toBe(true);
    for (const token of [api.tokens.operator, api.tokens.security, api.tokens.a]) {
      expect((await api.call(token, 'GET', '/api/v1/tokens')).statusCode).toBe(403);
    }
  });

  it('rotates a never-expiring admin token like the bootstrap one: the new one works, the old one is refused', async () => {
    const bootstrapLike = await createToken(rotor.clients.db, {
      name: 'bootstrap-admin',
      role: Role.Admin,
    });
    const res = await api.call(
      bootstrapLike.token,
      'POST',
      `/api/v1/tokens/${bootstrapLike.id}/rotate`,
      { reason: 'first start token, replaced' },
    );
    expect(res.statusCode, res.body).toBe(201);
    const next = res.json<Issued & { replaces: string }>();
    expect(next).toMatchObject({ replaces: bootstrapLike.id, expiresAt: null });
    expect(next.token).not.toBe(bootstrapLike.token);
    expect(next.subject).toMatch(/^bootstrap-admin#[0-9a-f]{8}$/);
    expect(codeOf(await whoAmI(bootstrapLike.token))).toBe('ROT_ERR_TOKEN_REVOKED');
    expect((await whoAmI(next.token)).statusCode).toBe(200);
    const again = await api.call(next.token, 'POST', `/api/v1/tokens/${bootstrapLike.id}/rotate`, {
      reason: 'twice',
    });
    expect(again.statusCode).toBe(409);
  });

  it('never revokes the last working admin token: the bootstrap token is rotated instead, or revoked once another admin exists', async () => {
    await withFreshDatabase(async (db) => {
      const app = buildApp({
        checks: {},
        logLevel: 'silent',
        services: { db, temporal: rotor.client, config: rotor.config },
      });
      try {
        const bootstrap = (await ensureBootstrapAdmin(db)) ?? '';
        const call = (token: string, url: string, payload?: Record<string, unknown>) =>
          app.inject({
            method: payload ? 'POST' : 'GET',
            url,
            headers: { authorization: `Bearer ${token}` },
            ...(payload ? { payload } : {}),
          });
        const [only] = (await call(bootstrap, '/api/v1/tokens')).json<{ items: Listed[] }>().items;
        expect(only).toMatchObject({ status: 'active', expiresAt: null });
        const refused = await call(bootstrap, `/api/v1/tokens/${only?.id}/revoke`, {
          reason: 'oops',
        });
        expect(refused.statusCode, refused.body).toBe(409);
        expect(codeOf(refused)).toBe('ROT_ERR_LAST_ADMIN_TOKEN');
        expect((await call(bootstrap, '/api/v1/types')).statusCode).toBe(200);
        const second = await call(bootstrap, '/api/v1/tokens', {
          name: 'ops-admin',
          role: 'admin',
        });
        expect(second.statusCode, second.body).toBe(201);
        const revoked = await call(bootstrap, `/api/v1/tokens/${only?.id}/revoke`, {
          reason: 'bootstrap retired',
        });
        expect(revoked.statusCode, revoked.body).toBe(200);
        expect(codeOf(await call(bootstrap, '/api/v1/types'))).toBe('ROT_ERR_TOKEN_REVOKED');
        expect((await call(second.json<Issued>().token, '/api/v1/types')).statusCode).toBe(200);
      } finally {
        await app.close();
      }
    });
  });

  it('does all of it from the CLI: create with a lifetime, list, revoke, and a refused token says what to do', async () => {
    const name = uniqueName('cli');
    const created = await runCli(
      url,
      api.tokens.admin,
      '--json',
      'tokens',
      'create',
      name,
      '--role',
      'operator',
      '--expires-in',
      '3600',
    );
    expect(created.code, created.stderr).toBe(0);
    const issued = JSON.parse(created.stdout) as Issued;
    expect(issued.token).toMatch(/^rtr_/);
    const table = await runCli(url, api.tokens.admin, 'tokens', 'list', '--role', 'operator');
    expect(table.code, table.stderr).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+SUBJECT\s+ROLE\s+TENANTID\s+STATUS/);
    expect(table.stdout).toMatch(
      new RegExp(`${issued.id}\\s+${issued.subject.replace('#', '#')}\\s+operator`),
    );
    expect(table.stdout).not.toContain(issued.token);
    const revoked = await runCli(
      url,
      api.tokens.admin,
      'tokens',
      'revoke',
      issued.id,
      '--reason',
      'cli test',
    );
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toMatch(/status\s+revoked/);
    const refused = await runCli(url, issued.token, 'secrets', 'list');
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('✗ ROT_ERR_TOKEN_REVOKED');
    expect(refused.stderr).toContain('→ this token was revoked: ask an admin for a new one');
  });
});
