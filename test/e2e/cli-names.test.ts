import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli';

/**
 * The CLI against a recording HTTP server that answers every request with an empty listing: what it records is
 * exactly what the CLI sent, so "nothing was sent" can be proved, not assumed.
 */
describe('the rotor CLI checks and encodes every name it puts into a URL', () => {
  let server: Server;
  let url = '';
  const received: { method: string; url: string; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        received.push({ method: req.method ?? '', url: req.url ?? '', body });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"items":[]}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    received.length = 0;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const NAME_RULE = "lowercase letters, digits, '.', '_' and '-'";

  it.each([
    ['a tenant-relative traversal in a name', ['secrets', 'rotate', 'acme', '../probe/k3']],
    ['a traversal into another tenant', ['secrets', 'status', 'nosuch', '../other/secret']],
    ['a slash inside a name', ['secrets', 'pause', 'acme', 'k3/../x']],
    ['a bare `..` as the tenant', ['secrets', 'retry', '..', 'k3']],
    ['a `..` inside an otherwise valid name', ['secrets', 'value', 'acme', 'a..b']],
    ['a control character', ['secrets', 'resume', 'acme', 'k\u00073']],
    ['a newline', ['secrets', 'rotate', 'acme', 'k3\nx']],
    ['a percent-encoded traversal', ['approvals', 'approve', 'acme', '%2e%2e', '--rotation', 'r']],
    ['upper-case letters', ['approvals', 'reject', 'ACME', 'k3', '--rotation', 'r']],
    ['a traversal in --secret', ['audit', 'events', '--tenant', 'acme', '--secret', '../x']],
    ['a traversal in --tenant', ['secrets', 'list', '--tenant', '../x']],
    ['a traversal in a query option', ['rotations', 'list', '--secret', 'a/b']],
  ])('refuses %s with the name rule and exit status 2, sending nothing', async (_, args) => {
    const needsReason = ['rotate', 'pause', 'resume', 'retry', 'value', 'reject'].includes(
      args[1] ?? '',
    );
    const run = await runCli(url, 'rtr_test', ...args, ...(needsReason ? ['--reason', 'r'] : []));
    expect(run.code, run.stderr).toBe(2);
    expect(run.stderr).toContain('✗ ROT_ERR_VALIDATION');
    expect(run.stderr).toContain('nothing was sent');
    expect(run.stderr).toContain(NAME_RULE);
    expect(run.stderr).not.toContain('../');
    expect(run.stdout).toBe('');
    expect(received).toEqual([]);
  });

  it('refuses a traversal in a rotation id, naming the id rule, and sends nothing', async () => {
    const run = await runCli(url, 'rtr_test', 'rotations', 'show', '../../secrets/acme/k3');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('id is not a valid id; nothing was sent');
    expect(received).toEqual([]);
  });

  it('sends valid names as single path segments, exactly as given', async () => {
    const ok = async (...args: string[]) => {
      const run = await runCli(url, 'rtr_test', ...args);
      expect(run.code, run.stderr).toBe(0);
    };
    await ok('secrets', 'status', 'acme', 'k3');
    await ok('secrets', 'pause', 'acme', 'db.main_1-x', '--reason', 'maintenance window');
    await ok('secrets', 'retry', 'acme', 'k3', '--reason', 'vault fixed');
    await ok('audit', 'events', '--tenant', 'acme', '--secret', 'k3');
    await ok('rotations', 'show', '5a4c3b2a-0000-4000-8000-000000000001');
    expect(received.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /api/v1/secrets/acme/k3',
      'POST /api/v1/secrets/acme/db.main_1-x/pause',
      'POST /api/v1/secrets/acme/k3/retry',
      'GET /api/v1/secrets/acme/k3/audit?limit=100&offset=0',
      'GET /api/v1/rotations/5a4c3b2a-0000-4000-8000-000000000001',
    ]);
    expect(JSON.parse(received[1]?.body ?? '')).toEqual({ reason: 'maintenance window' });
  });
});
