import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';
import { createToken, identify } from '../../api/auth/tokens';
import { CredentialCache } from '../../api/credential-cache';
import { apiKeyHash } from '../../api-keys';
import { Role, SecretState, TENANT_API_KEY_PREFIX } from '../../domain';
import { engineListenerClients } from '../../engine';
import { pollUntil } from '../helpers/poll';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

/**
 * The API's verified-credential cache against the real engine database: entries are dropped by
 * migration 0019's notifications when another connection changes a token, a key or a secret's
 * current version; nothing is served while the LISTEN connection is down; expiry and a TTL of 0
 * are honoured. Changes are made with plain SQL on a connection of the test's own, as another
 * API process or the worker would make them.
 */
describe('the verified-credential cache', () => {
  let rotor: TestRotor;
  let other: pg.Client;
  let app: FastifyInstance;
  let cache: CredentialCache;
  const tenantId = uniqueName('cache');
  const pepper = () => rotor.config.targets.apiKeyPepper ?? '';

  const build = (seconds: number): FastifyInstance =>
    buildApp({
      checks: {},
      logLevel: 'silent',
      services: {
        db: rotor.clients.db,
        temporal: rotor.client,
        config: { ...rotor.config, api: { ...rotor.config.api, credentialCacheSeconds: seconds } },
        listenerClient: engineListenerClients(rotor.config.databaseUrl),
      },
    });
  const tenantToken = () =>
    createToken(rotor.clients.db, { name: uniqueName('t'), role: Role.Tenant, tenantId });
  const verify = async (on: FastifyInstance, token: string, key: string) => {
    const res = await on.inject({
      method: 'POST',
      url: '/api/v1/api-keys/verify',
      headers: { authorization: `Bearer ${token}` },
      payload: { key },
    });
    return { status: res.statusCode, body: res.json<Record<string, unknown>>() };
  };
  /** A secret at `current` version with one active key per version; the keys, by version. */
  async function secretWithKeys(versions: number[], current: number) {
    const db = rotor.clients.db;
    const name = uniqueName('key');
    const { id: secretId } = await db
      .insertInto('secrets')
      .values({
        tenant_id: tenantId,
        name,
        type: 'api_key',
        policy: JSON.stringify({}),
        state: SecretState.Active,
        workflow_id: `secret/${tenantId}/${name}`,
        vault_path: `rotor/${tenantId}/${name}`,
        current_version: current,
        updated_at: new Date(),
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const keys = new Map<number, { key: string; id: string }>();
    for (const version of versions) {
      const key = `${TENANT_API_KEY_PREFIX}${randomBytes(24).toString('base64url')}`;
      const { id } = await db
        .insertInto('api_keys')
        .values({
          tenant_id: tenantId,
          secret_id: secretId,
          vault_version: version,
          key_hash: apiKeyHash(pepper(), key),
          status: 'active',
        })
        .returning('id')
        .executeTakeFirstOrThrow();
      keys.set(version, { key, id });
    }
    return { secretId, keys };
  }
  const keyOf = (keys: Map<number, { key: string; id: string }>, version: number) => {
    const found = keys.get(version);
    if (!found) throw new Error(`no key for version ${version}`);
    return found;
  };
  /** Until the cache no longer holds anything from the row `tag` names (its notification came). */
  const dropped = (on: CredentialCache, tag: string) =>
    pollUntil(
      `the cache dropping ${tag}`,
      () => Promise.resolve(on.holds(tag)),
      (h) => !h,
      {
        timeout: 30_000,
        interval: 20,
      },
    );

  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.clients.db.insertInto('tenants').values({ id: tenantId, name: tenantId }).execute();
    other = new pg.Client({ connectionString: rotor.config.databaseUrl });
    await other.connect();
    app = build(60);
    const decorated = app.credentialCache;
    if (!decorated) throw new Error('the app has no credential cache');
    cache = decorated;
    await pollUntil('the cache listening', () => Promise.resolve(cache.serving), Boolean);
  });
  afterAll(async () => {
    await app?.close();
    await other?.end();
    await rotor?.close();
  });

  it('serves a verified token and key from memory on the next request', async () => {
    const { token } = await tenantToken();
    const { keys } = await secretWithKeys([1], 1);
    const { key } = keyOf(keys, 1);
    expect((await verify(app, token, key)).body).toMatchObject({ valid: true, current: true });
    const hits = cache.stats.hits;
    expect((await verify(app, token, key)).body).toMatchObject({ valid: true, current: true });
    // One hit for the token, one for the key: no database read answered this request.
    expect(cache.stats.hits - hits).toBe(2);
  });

  it('refuses a token revoked by another connection from the first request after its notification', async () => {
    const { id, token } = await tenantToken();
    const { keys } = await secretWithKeys([1], 1);
    const { key } = keyOf(keys, 1);
    expect((await verify(app, token, key)).status).toBe(200);
    expect(cache.holds(`token:${id}`)).toBe(true);
    await other.query('update api_tokens set revoked_at = now() where id = $1', [id]);
    await dropped(cache, `token:${id}`);
    const after = await verify(app, token, key);
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: { code: 'ROT_ERR_TOKEN_REVOKED' } });
  });

  it('answers invalid for an API key revoked by another connection once its notification arrives', async () => {
    const { token } = await tenantToken();
    const { keys } = await secretWithKeys([1], 1);
    const { key, id } = keyOf(keys, 1);
    expect((await verify(app, token, key)).body).toMatchObject({ valid: true });
    expect(cache.holds(`key:${id}`)).toBe(true);
    await other.query(`update api_keys set status = 'revoked', revoked_at = now() where id = $1`, [
      id,
    ]);
    await dropped(cache, `key:${id}`);
    expect((await verify(app, token, key)).body).toEqual({ valid: false });
  });

  it("flips a cached key's current flag when its secret's current version changes", async () => {
    const { token } = await tenantToken();
    const { secretId, keys } = await secretWithKeys([1, 2], 1);
    const one = keyOf(keys, 1).key;
    const two = keyOf(keys, 2).key;
    expect((await verify(app, token, one)).body).toMatchObject({ version: 1, current: true });
    expect((await verify(app, token, two)).body).toMatchObject({ version: 2, current: false });
    await other.query('update secrets set current_version = 2 where id = $1', [secretId]);
    await dropped(cache, `secret:${secretId}`);
    expect((await verify(app, token, one)).body).toMatchObject({ version: 1, current: false });
    expect((await verify(app, token, two)).body).toMatchObject({ version: 2, current: true });
  });

  it('keeps notifying nothing for usage bookkeeping, so a usage flush leaves the cache warm', async () => {
    const { id, token } = await tenantToken();
    const { keys } = await secretWithKeys([1], 1);
    const { key, id: keyId } = keyOf(keys, 1);
    expect((await verify(app, token, key)).status).toBe(200);
    await app.apiKeyUsage?.flush();
    await other.query('update api_tokens set last_used_at = now() where id = $1', [id]);
    // A change that does notify, made after the bookkeeping ones: once it has arrived, the
    // bookkeeping ones (committed earlier, delivered in commit order) would have too.
    const marker = await tenantToken();
    expect((await verify(app, marker.token, key)).status).toBe(200);
    await other.query(`update api_tokens set revoked_reason = 'marker' where id = $1`, [marker.id]);
    await dropped(cache, `token:${marker.id}`);
    expect(cache.holds(`token:${id}`)).toBe(true);
    expect(cache.holds(`key:${keyId}`)).toBe(true);
  });

  /** An admin, and a tenant token that has just verified a key and so sits in the cache. */
  const cachedTenantToken = async () => {
    const admin = await createToken(rotor.clients.db, {
      name: uniqueName('adm'),
      role: Role.Admin,
    });
    const { id, token } = await tenantToken();
    const { keys } = await secretWithKeys([1], 1);
    const { key } = keyOf(keys, 1);
    expect((await verify(app, token, key)).status).toBe(200);
    expect(cache.holds(`token:${id}`)).toBe(true);
    return { admin, id, token, key };
  };

  it('drops a token this process revokes before answering the revocation', async () => {
    const { admin, id, token, key } = await cachedTenantToken();
    const revoked = await app.inject({
      method: 'POST',
      url: `/api/v1/tokens/${id}/revoke`,
      headers: { authorization: `Bearer ${admin.token}` },
      payload: { reason: 'cache test' },
    });
    expect(revoked.statusCode).toBe(200);
    // No waiting for the notification: the very next request is refused.
    expect(cache.holds(`token:${id}`)).toBe(false);
    expect((await verify(app, token, key)).status).toBe(401);
  });

  it('drops a token this process rotates before answering with its replacement', async () => {
    const { admin, id, token, key } = await cachedTenantToken();
    const rotated = await app.inject({
      method: 'POST',
      url: `/api/v1/tokens/${id}/rotate`,
      headers: { authorization: `Bearer ${admin.token}` },
      payload: { reason: 'cache test' },
    });
    expect(rotated.statusCode).toBe(201);
    expect(cache.holds(`token:${id}`)).toBe(false);
    expect((await verify(app, token, key)).body).toMatchObject({
      error: { code: 'ROT_ERR_TOKEN_REVOKED' },
    });
    const replacement = rotated.json<{ token: string }>().token;
    expect((await verify(app, replacement, key)).body).toMatchObject({ valid: true });
  });

  it('never serves a token past its expiry by the database clock, whatever the TTL', async () => {
    const { expires } = (
      await sql<{ expires: Date }>`select now() + interval '2 seconds' as expires`.execute(
        rotor.clients.db,
      )
    ).rows[0] ?? { expires: new Date(0) };
    const { id, token } = await createToken(rotor.clients.db, {
      name: uniqueName('exp'),
      role: Role.Tenant,
      tenantId,
      expiresAt: expires,
    });
    const { keys } = await secretWithKeys([1], 1);
    const { key } = keyOf(keys, 1);
    expect((await verify(app, token, key)).status).toBe(200);
    const hits = cache.stats.hits;
    expect((await verify(app, token, key)).status).toBe(200);
    expect(cache.stats.hits).toBeGreaterThan(hits);
    await pollUntil(
      'the database clock passing the expiry',
      async () =>
        (
          await sql<{ past: boolean }>`select now() >= ${expires}::timestamptz as past`.execute(
            rotor.clients.db,
          )
        ).rows[0]?.past,
      Boolean,
      { interval: 100 },
    );
    // Nothing notified (the row did not change) and the 60 s TTL has not run out.
    expect(cache.holds(`token:${id}`)).toBe(true);
    const after = await verify(app, token, key);
    expect(after.status).toBe(401);
    expect(after.body).toMatchObject({ error: { code: 'ROT_ERR_TOKEN_EXPIRED' } });
  });

  it('reads the database on every request with a TTL of 0', async () => {
    const off = build(0);
    try {
      const off_cache = off.credentialCache;
      const { token } = await tenantToken();
      const { keys } = await secretWithKeys([1], 1);
      const { key } = keyOf(keys, 1);
      for (let i = 0; i < 3; i++) {
        expect((await verify(off, token, key)).body).toMatchObject({ valid: true });
      }
      expect(off_cache?.serving).toBe(false);
      expect(off_cache?.size).toBe(0);
      expect(off_cache?.stats.hits).toBe(0);
      // Two lookups (token, key) per request, each straight to the database.
      expect(off_cache?.stats.bypassed).toBe(6);
    } finally {
      await off.close();
    }
  });

  it('bypasses the cache while its listener connection is down, and starts empty when it is back', async () => {
    const db = rotor.clients.db;
    const name = `rotor-cache-test-${randomBytes(4).toString('hex')}`;
    const own = new CredentialCache({
      ttlSeconds: 60,
      // Its own application name, so this test kills its listener and no other.
      connect: () =>
        new pg.Client({ connectionString: rotor.config.databaseUrl, application_name: name }),
      // Long enough to act while it is down; the test waits for each state, never for a time.
      retryMs: 3_000,
    });
    own.start();
    try {
      await pollUntil('the listener', () => Promise.resolve(own.serving), Boolean);
      const first = await tenantToken();
      const header = `Bearer ${first.token}`;
      expect(await identify(db, header, own)).toHaveProperty('principal');
      const hits = own.stats.hits;
      expect(await identify(db, header, own)).toHaveProperty('principal');
      expect(own.stats.hits).toBe(hits + 1);

      await other.query(
        'select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1',
        [name],
      );
      await pollUntil(
        'the listener lost',
        () => Promise.resolve(own.serving),
        (s) => !s,
        {
          interval: 10,
        },
      );
      expect(own.size).toBe(0);
      // Revoked while nobody listens: its notification is lost, the database still decides.
      await other.query('update api_tokens set revoked_at = now() where id = $1', [first.id]);
      const bypassed = own.stats.bypassed;
      expect(await identify(db, header, own)).toMatchObject({ refused: 'ROT_ERR_TOKEN_REVOKED' });
      expect(own.stats.bypassed).toBeGreaterThan(bypassed);
      const second = await tenantToken();
      expect(await identify(db, `Bearer ${second.token}`, own)).toHaveProperty('principal');
      expect(own.size).toBe(0);

      await pollUntil('the listener back', () => Promise.resolve(own.serving), Boolean, {
        timeout: 30_000,
      });
      expect(await identify(db, header, own)).toMatchObject({ refused: 'ROT_ERR_TOKEN_REVOKED' });
      const again = own.stats.hits;
      expect(await identify(db, `Bearer ${second.token}`, own)).toHaveProperty('principal');
      expect(await identify(db, `Bearer ${second.token}`, own)).toHaveProperty('principal');
      expect(own.stats.hits).toBe(again + 1);
    } finally {
      await own.stop();
    }
  });
});
