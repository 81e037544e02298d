import net from 'node:net';
import { Client, Connection } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import nodeVault from 'node-vault';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { Dependency, dependencyMessage, dependencyOutage } from '../../api/dependency-errors';
import { ApiError } from '../../api/errors';
import { freePort } from '../../devstack';
import { ErrorType } from '../../domain';
import { VaultKv } from '../../vault';

/** What a promise rejects with (the test fails if it resolves). */
async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

// Real clients pointed at a loopback port nobody listens on: the errors are the ones an outage
// really gives, not shapes written from memory.
describe('telling a dependency outage from other errors', () => {
  it('names Vault for the Vault adapter’s unavailable failure, and nothing of its path', async () => {
    const port = await freePort();
    const vault = new VaultKv(
      nodeVault({ apiVersion: 'v1', endpoint: `http://127.0.0.1:${port}`, token: 'not-a-token' }),
      'secret',
    );
    const err = await rejection(vault.read('rotor/acme/billing-key'));
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(dependencyOutage(err)).toEqual({
      dependency: Dependency.Vault,
      kind: 'VaultUnavailable',
    });
    expect(
      dependencyMessage({ dependency: Dependency.Vault, kind: 'VaultUnavailable' }),
    ).not.toContain('acme');
  });

  it('names the engine database for a refused pg connection, a dropped one and a server shutting down', async () => {
    const port = await freePort();
    const client = new pg.Client({ connectionString: `postgres://u:pw@127.0.0.1:${port}/db` });
    const refused = await rejection(client.connect());
    expect(dependencyOutage(refused)).toEqual({
      dependency: Dependency.Database,
      kind: 'ECONNREFUSED',
    });
    expect(dependencyOutage(new Error('Connection terminated unexpectedly'))).toMatchObject({
      dependency: Dependency.Database,
    });
    for (const code of ['57P01', '57P02', '57P03', '08006', '08001']) {
      const shutdown = Object.assign(new pg.DatabaseError('the server is going away', 0, 'error'), {
        code,
      });
      expect(dependencyOutage(shutdown), code).toEqual({
        dependency: Dependency.Database,
        kind: code,
      });
    }
  });

  it('names Temporal for the client’s gRPC UNAVAILABLE, and for a call past its deadline', async () => {
    const port = await freePort();
    // No retry interceptor, so the first refused call fails at once (the default retries ~20 s).
    const connection = Connection.lazy({ address: `127.0.0.1:${port}`, interceptors: [] });
    const refused = await rejection(
      new Client({ connection }).workflow.getHandle('secret/acme/billing-key').signal('x'),
    );
    await connection.close();
    expect(dependencyOutage(refused)).toEqual({
      dependency: Dependency.Temporal,
      kind: 'UNAVAILABLE',
    });

    // A peer that takes the connection and never answers: the call runs past its deadline.
    const sockets = new Set<net.Socket>();
    const silent = net.createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const silentPort = (silent.address() as net.AddressInfo).port;
    const slow = Connection.lazy({ address: `127.0.0.1:${silentPort}`, interceptors: [] });
    const client = new Client({ connection: slow });
    const late = await rejection(
      client.withDeadline(Date.now() + 300, () =>
        client.workflow.getHandle('secret/acme/billing-key').signal('x'),
      ),
    );
    await slow.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => silent.close(resolve));
    const deadline = dependencyOutage(late);
    expect(deadline).toEqual({ dependency: Dependency.Temporal, kind: 'DEADLINE_EXCEEDED' });
    // Past a deadline the worker may be what is slow; the message does not blame Temporal alone.
    expect(deadline && dependencyMessage(deadline)).toBe(
      'Temporal (or the worker running this secret) did not answer in time; retry in 5 seconds',
    );
  });

  it('leaves bugs, refusals and client errors alone', () => {
    for (const err of [
      new Error('boom'),
      new TypeError("Cannot read properties of undefined (reading 'x')"),
      new ApiError(409, 'ROT_ERR_NOT_RUNNING', 'the lifecycle has ended'),
      ApplicationFailure.nonRetryable('permission denied', ErrorType.VaultPermissionDenied),
      Object.assign(new pg.DatabaseError('duplicate key', 0, 'error'), { code: '23505' }),
      Object.assign(new pg.DatabaseError('syntax error', 0, 'error'), { code: '42601' }),
      'a string',
      undefined,
    ]) {
      expect(dependencyOutage(err), String(err)).toBeNull();
    }
  });

  it('looks through causes, as when a failure wraps the one that matters', () => {
    const inner = ApplicationFailure.retryable(
      'Vault GET …: unavailable',
      ErrorType.VaultUnavailable,
    );
    const outer = new Error('import failed', { cause: inner });
    expect(dependencyOutage(outer)?.dependency).toBe(Dependency.Vault);
  });

  it('says which dependency and to retry, in words a client can act on', () => {
    expect(dependencyMessage({ dependency: Dependency.Database, kind: 'ECONNREFUSED' })).toBe(
      'The engine database is not reachable right now; retry in 5 seconds',
    );
    expect(dependencyMessage({ dependency: Dependency.Temporal, kind: 'UNAVAILABLE' })).toBe(
      'Temporal is not reachable right now; retry in 5 seconds',
    );
  });
});
