import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPostgresRoleDriver } from '../../activities/targets/postgres-role/driver';
import { ErrorType } from '../../domain';

// A target that accepts TCP and never speaks (a hung server, a half-open proxy): verification
// used to wait for it until the activity's own timeout, spending that attempt's whole budget.
describe('verifying a PostgreSQL password against a server that never answers', () => {
  const held: net.Socket[] = [];
  let server: net.Server;
  let port = 0;

  beforeAll(async () => {
    server = net.createServer((socket) => {
      held.push(socket);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  it('gives up on its own and fails the attempt as a retryable refusal naming the role, not the password', async () => {
    const driver = createPostgresRoleDriver({
      admin: { query: () => Promise.reject(new Error('verification must not use the admin pool')) },
      login: { host: '127.0.0.1', port, database: 'orders' },
    });
    const password = 'never-logged-hunter2';
    const failure = await driver
      .verify(
        { kind: 'postgres_role', strategy: 'single', role: 'orders_app' },
        { version: 2, value: password },
        { rotationId: 'r-1', secretId: 's-1', tenantId: 'acme', vaultPath: 'rotor/acme/orders-db' },
      )
      .then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    const af = failure as ApplicationFailure;
    expect(af.type).toBe(ErrorType.TargetRejected);
    expect(af.nonRetryable).toBe(false);
    expect(af.message).toContain('orders_app');
    expect(af.message).not.toContain(password);
    expect(held.length).toBeGreaterThan(0);
  }, 20_000);
});
