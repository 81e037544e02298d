import net from 'node:net';
import { DevstackError } from './errors';

/** Asks the kernel for a free loopback port (tests run everything on such ports). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new Error('could not allocate a port'));
      });
    });
  });
}

/** Fails with a message naming the port, its use and how to move it, instead of a bind error later. */
export function assertPortFree(port: number, what: string, envVar: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(
        new DevstackError(
          'ROT_DEV_PORT_IN_USE',
          `Port ${port} (${what}) is ${err.code === 'EADDRINUSE' ? 'already in use' : `unavailable: ${err.code}`}.`,
          `Stop whatever is listening on ${port} (\`ss -ltnp 'sport = :${port}'\` shows it), or choose another port with ${envVar}=<port>.`,
        ),
      );
    });
    server.listen(port, '127.0.0.1', () => server.close(() => resolve()));
  });
}

/** Polls until check() succeeds, failing with the last error when the deadline passes. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T>,
  options: { timeoutMs: number; intervalMs?: number; abort?: Promise<unknown> },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  let aborted: unknown;
  void options.abort?.then((reason) => (aborted = reason ?? 'exited'));
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (aborted !== undefined) throw new Error(`${what}: the process exited during start-up`);
    try {
      return await check();
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, options.intervalMs ?? 250));
  }
  const reason = lastError instanceof Error ? lastError.message : String(lastError);
  throw new Error(`${what} was not ready after ${options.timeoutMs / 1000}s (${reason})`);
}
