import { EventEmitter } from 'node:events';
import type pg from 'pg';
import { describe, expect, it } from 'vitest';
import { CredentialCache } from '../../api/credential-cache';

/**
 * The outer edge only: a stand-in for the LISTEN connection that connects at once, so the fill
 * rules can be driven step by step (test/integration/credential-cache.test.ts runs the real one).
 */
function listening(): { cache: CredentialCache; connection: EventEmitter } {
  const connection = Object.assign(new EventEmitter(), {
    connect: () => Promise.resolve(),
    query: () => Promise.resolve(),
    end: () => Promise.resolve(),
  });
  const cache = new CredentialCache({
    ttlSeconds: 60,
    connect: () => connection as unknown as pg.Client,
    retryMs: 60_000,
  });
  cache.start();
  return { cache, connection };
}
const ready = async (cache: CredentialCache) => {
  while (!cache.serving) await new Promise((r) => setTimeout(r, 1));
};

describe('the credential cache fill rules', () => {
  it('stores a read that no change overtook, and serves it', async () => {
    const { cache } = listening();
    await ready(cache);
    const ticket = cache.ticket();
    cache.put(ticket, 'token:h1', 'alice', { tags: ['token:1'] });
    expect(cache.get('token:h1')).toBe('alice');
    await cache.stop();
  });

  it('does not store a read overtaken by a change to its own row', async () => {
    const { cache } = listening();
    await ready(cache);
    const ticket = cache.ticket();
    cache.invalidate('token:1');
    cache.put(ticket, 'token:h1', 'alice', { tags: ['token:1'] });
    expect(cache.get('token:h1')).toBeUndefined();
    await cache.stop();
  });

  it('stores a read that only changes to other rows overtook', async () => {
    const { cache } = listening();
    await ready(cache);
    const ticket = cache.ticket();
    cache.invalidate('token:2');
    cache.invalidate('secret:9');
    cache.put(ticket, 'key:h1', 'v1', { tags: ['key:1', 'secret:1'] });
    expect(cache.get('key:h1')).toBe('v1');
    cache.invalidate('secret:1');
    expect(cache.get('key:h1')).toBeUndefined();
    await cache.stop();
  });

  it('voids every read in flight when more changes arrive than it remembers', async () => {
    const { cache } = listening();
    await ready(cache);
    const ticket = cache.ticket();
    for (let i = 0; i < 2_000; i++) cache.invalidate(`token:other-${i}`);
    cache.put(ticket, 'token:h1', 'alice', { tags: ['token:1'] });
    expect(cache.get('token:h1')).toBeUndefined();
    cache.put(cache.ticket(), 'token:h1', 'alice', { tags: ['token:1'] });
    expect(cache.get('token:h1')).toBe('alice');
    await cache.stop();
  });

  it('serves nothing once the connection errors, and voids the reads in flight', async () => {
    const { cache, connection } = listening();
    await ready(cache);
    cache.put(cache.ticket(), 'token:h1', 'alice', { tags: ['token:1'] });
    const inFlight = cache.ticket();
    connection.emit('error', new Error('terminated'));
    expect(cache.serving).toBe(false);
    expect(cache.size).toBe(0);
    expect(cache.ticket()).toBeUndefined();
    cache.put(inFlight, 'token:h2', 'bert', { tags: ['token:2'] });
    expect(cache.size).toBe(0);
    await cache.stop();
  });

  it('never keeps an entry with no time left (a token expiring before it was read)', async () => {
    const { cache } = listening();
    await ready(cache);
    cache.put(cache.ticket(), 'token:h1', 'alice', { tags: ['token:1'], validForMs: 0 });
    expect(cache.size).toBe(0);
    await cache.stop();
  });
});
