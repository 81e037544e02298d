import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface MetricsServer {
  /** e.g. http://127.0.0.1:9464/metrics */
  url: string;
  close(): Promise<void>;
}

/**
 * A worker's `/metrics`: its prom-client registry followed by the Temporal SDK's exposition,
 * fetched from the SDK's exporter on loopback. One scrape target per worker, and the SDK's
 * exporter never has to listen beyond loopback. SDK names all start with `temporal_`, so the two
 * never clash.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  /** The Temporal SDK's exporter, e.g. http://127.0.0.1:PORT/metrics. */
  sdkMetricsUrl?: string;
}): Promise<MetricsServer> {
  const server = createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '').split('?')[0] !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found: try /metrics\n');
      return;
    }
    void exposition(options.registry, options.sdkMetricsUrl).then(
      (body) => res.writeHead(200, { 'content-type': options.registry.contentType }).end(body),
      () => res.writeHead(500, { 'content-type': 'text/plain' }).end('metrics unavailable\n'),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(
        err.code === 'EADDRINUSE'
          ? new Error(
              `worker metrics port ${options.host}:${options.port} is in use: set ROTOR_WORKER_METRICS_PORT (0 picks a free one)`,
            )
          : err,
      ),
    );
    server.listen(options.port, options.host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host === '0.0.0.0' ? '127.0.0.1' : host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function exposition(registry: Registry, sdkMetricsUrl?: string): Promise<string> {
  const own = await registry.metrics();
  if (!sdkMetricsUrl) return own;
  try {
    const res = await fetch(sdkMetricsUrl, { signal: AbortSignal.timeout(2000) });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    return `${own}\n${await res.text()}`;
  } catch {
    // The SDK's exporter lives only while the worker's Temporal runtime does (it shuts down when
    // the last worker and connection close); Rotor's own metrics are still worth serving.
    return `${own}\n# Temporal SDK metrics unavailable\n`;
  }
}
