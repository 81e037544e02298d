import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createWebhookVerifier } from '../../consumers/webhooks';
import { freePort } from '../../devstack';
import { createAddressGuard, sendWebhook } from '../../webhooks';
import type { ResolveHost, WebhookMessage } from '../../webhooks';
import { selfSignedCertificate } from '../helpers/tls';
import { WebhookReceiver } from '../helpers/webhook-receiver';

const SECRET = `whsec_${Buffer.alloc(32, 3).toString('base64')}`;
const message = (url: string): WebhookMessage => ({
  url,
  id: 'msg_test_1',
  body: JSON.stringify({ type: 'webhook.test', timestamp: new Date().toISOString(), data: {} }),
  secrets: [SECRET],
});

/** A resolver that answers `names` from a table, as DNS would, and ENOTFOUND for the rest. */
function resolverOf(names: Record<string, string[]>): ResolveHost & { asked: string[] } {
  const asked: string[] = [];
  const resolve = (hostname: string) => {
    asked.push(hostname);
    const addresses = names[hostname];
    if (!addresses) return Promise.reject(Object.assign(new Error('nx'), { code: 'ENOTFOUND' }));
    return Promise.resolve(
      addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })),
    );
  };
  return Object.assign(resolve, { asked });
}

const loopbackAllowed = createAddressGuard(['127.0.0.1/32']);

describe('sending a webhook to where its URL points', () => {
  const receiver = new WebhookReceiver();
  let port = 0;
  beforeAll(async () => {
    port = Number(new URL(await receiver.start()).port);
  });
  afterAll(() => receiver.stop());

  it('refuses a name that resolves to loopback before connecting: BLOCKED_ADDRESS, no HTTP status, nothing received', async () => {
    const resolve = resolverOf({ 'hooks.rebind.test': ['127.0.0.1'] });
    const before = receiver.received.length;
    const attempt = await sendWebhook(message(`http://hooks.rebind.test:${port}/hooks/rotor`), {
      resolve,
    });
    expect(attempt).toEqual({ ok: false, httpStatus: null, error: 'BLOCKED_ADDRESS' });
    expect(resolve.asked).toEqual(['hooks.rebind.test']);
    expect(receiver.received.length).toBe(before);
  });

  it('refuses a name when any one of its addresses is internal, even with a public one first', async () => {
    const resolve = resolverOf({ 'hooks.mixed.test': ['93.184.216.34', '127.0.0.1'] });
    const attempt = await sendWebhook(message(`http://hooks.mixed.test:${port}/x`), { resolve });
    expect(attempt).toEqual({ ok: false, httpStatus: null, error: 'BLOCKED_ADDRESS' });
  });

  it('refuses the system resolver’s localhost by default (a real lookup, no stand-in)', async () => {
    const before = receiver.received.length;
    const attempt = await sendWebhook(message(`http://localhost:${port}/hooks/rotor`));
    expect(attempt).toEqual({ ok: false, httpStatus: null, error: 'BLOCKED_ADDRESS' });
    expect(receiver.received.length).toBe(before);
  });

  it('refuses internal IP literals without resolving or connecting', async () => {
    const resolve = resolverOf({});
    const before = receiver.received.length;
    for (const url of [
      `http://127.0.0.1:${port}/hooks/rotor`,
      `http://[::1]:${port}/hooks/rotor`,
      `http://[::ffff:127.0.0.1]:${port}/hooks/rotor`,
      `http://2130706433:${port}/hooks/rotor`,
      'http://169.254.169.254/latest/meta-data/',
    ]) {
      expect(await sendWebhook(message(url), { resolve }), url).toEqual({
        ok: false,
        httpStatus: null,
        error: 'BLOCKED_ADDRESS',
      });
    }
    expect(resolve.asked).toEqual([]);
    expect(receiver.received.length).toBe(before);
  });

  it('delivers, signed, to a name that resolves into an allowed network', async () => {
    const resolve = resolverOf({ 'hooks.allowed.test': ['127.0.0.1'] });
    const attempt = await sendWebhook(message(`http://hooks.allowed.test:${port}/hooks/rotor`), {
      resolve,
      guard: loopbackAllowed,
    });
    expect(attempt).toEqual({ ok: true, httpStatus: 204 });
    const got = receiver.received.at(-1);
    if (!got) throw new Error('nothing arrived');
    expect(got.headers.host).toBe(`hooks.allowed.test:${port}`);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['user-agent']).toBe('Rotor-Webhooks/1');
    expect(
      await createWebhookVerifier({ secret: SECRET }).verify(got.headers, got.body),
    ).toMatchObject({ type: 'webhook.test' });
  });

  it('delivers to an allowed IP literal, and counts a redirect as a failed attempt it never follows', async () => {
    expect(
      await sendWebhook(message(`http://127.0.0.1:${port}/hooks/rotor`), {
        guard: loopbackAllowed,
      }),
    ).toEqual({ ok: true, httpStatus: 204 });
    receiver.status = 307;
    try {
      const before = receiver.received.length;
      expect(
        await sendWebhook(message(`http://127.0.0.1:${port}/hooks/rotor`), {
          guard: loopbackAllowed,
        }),
      ).toEqual({ ok: false, httpStatus: 307, error: 'HTTP 307' });
      expect(receiver.received.length).toBe(before + 1);
    } finally {
      receiver.status = 204;
    }
  });

  it('names a refused connection and an unknown name by their codes', async () => {
    const closed = await freePort();
    expect(
      await sendWebhook(message(`http://127.0.0.1:${closed}/x`), { guard: loopbackAllowed }),
    ).toEqual({ ok: false, httpStatus: null, error: 'ECONNREFUSED' });
    expect(
      await sendWebhook(message('http://nowhere.invalid/x'), { resolve: resolverOf({}) }),
    ).toEqual({ ok: false, httpStatus: null, error: 'ENOTFOUND' });
  });

  it('gives up on a receiver that never answers, as TIMEOUT', async () => {
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const silentPort = (silent.address() as AddressInfo).port;
      expect(
        await sendWebhook(message(`http://127.0.0.1:${silentPort}/x`), {
          guard: loopbackAllowed,
          timeoutMs: 300,
        }),
      ).toEqual({ ok: false, httpStatus: null, error: 'TIMEOUT' });
    } finally {
      silent.closeAllConnections();
      await new Promise<void>((resolve) => silent.close(() => resolve()));
    }
  });
});

describe('sending a webhook over https', () => {
  const HOST = 'hooks.rotor.test';
  const { cert, key } = selfSignedCertificate(1, HOST);
  const seen: { servername: string | false | null; body: string }[] = [];
  const server = https.createServer({ cert, key }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({
        servername: (req.socket as TLSSocket).servername,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(200).end('ignored');
    });
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('connects to the approved address but verifies the certificate for the hostname, sent as SNI', async () => {
    const attempt = await sendWebhook(message(`https://${HOST}:${port}/hooks`), {
      resolve: resolverOf({ [HOST]: ['127.0.0.1'] }),
      guard: loopbackAllowed,
      ca: cert,
    });
    expect(attempt).toEqual({ ok: true, httpStatus: 200 });
    expect(seen.at(-1)?.servername).toBe(HOST);
  });

  it('refuses a certificate that names another host, and one nobody vouches for', async () => {
    const before = seen.length;
    const wrongName = await sendWebhook(message(`https://other.rotor.test:${port}/hooks`), {
      resolve: resolverOf({ 'other.rotor.test': ['127.0.0.1'] }),
      guard: loopbackAllowed,
      ca: cert,
    });
    expect(wrongName).toEqual({
      ok: false,
      httpStatus: null,
      error: 'ERR_TLS_CERT_ALTNAME_INVALID',
    });
    const untrusted = await sendWebhook(message(`https://${HOST}:${port}/hooks`), {
      resolve: resolverOf({ [HOST]: ['127.0.0.1'] }),
      guard: loopbackAllowed,
    });
    expect(untrusted.ok).toBe(false);
    expect(untrusted.httpStatus).toBeNull();
    expect(untrusted.ok ? '' : untrusted.error).toMatch(/SELF_SIGNED|UNABLE_TO_VERIFY/);
    expect(seen.length).toBe(before);
  });
});
