import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CliError, apiClient } from '../../cli/api-client';
import { REPO_ROOT } from '../../devstack/paths';

describe('the CLI talking to something that is not the Rotor API', () => {
  let server: http.Server;
  let url = '';
  beforeAll(async () => {
    // What a load balancer answers while the API behind it is down: an HTML error page.
    server = http.createServer((_req, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end('<html><body><h1>502 Bad Gateway</h1></body></html>');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  it('raises a coded error naming the status and content type, not a JSON parse error', async () => {
    const failure = await apiClient(url, 'rtr_x')
      .request('GET', '/api/v1/secrets')
      .catch((err: unknown) => err);
    expect(failure).toBeInstanceOf(CliError);
    expect(failure).toMatchObject({ code: 'ROT_ERR_NOT_ROTOR', exitCode: 1 });
    expect((failure as CliError).message).toContain('HTTP 502');
    expect((failure as CliError).message).toContain('text/html');
  });

  it('prints one coded line and a hint, and exits 1', async () => {
    const run = await new Promise<{ code: number; stderr: string }>((resolve) => {
      execFile(
        'bin/rotor',
        ['secrets', 'list'],
        {
          cwd: REPO_ROOT,
          env: { PATH: process.env.PATH, ROTOR_API_URL: url, ROTOR_TOKEN: 'rtr_x' },
        },
        (err, _stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stderr }),
      );
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^✗ ROT_ERR_NOT_ROTOR: .*HTTP 502/);
    expect(run.stderr).toContain('→ check that ROTOR_API_URL is the Rotor API');
    expect(run.stderr).not.toContain('is not valid JSON');
  });
});
