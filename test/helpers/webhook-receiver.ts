import http from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedWebhook {
  headers: IncomingHttpHeaders;
  /** The raw body, exactly as it arrived. */
  body: string;
}

/** A real HTTP server on a loopback port that keeps every POST and answers `status`. */
export class WebhookReceiver {
  readonly received: ReceivedWebhook[] = [];
  status = 204;
  private server?: http.Server;

  /** Listens on `port` (0: any free one) and returns the URL to register. */
  async start(port = 0): Promise<string> {
    const server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.received.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(this.status).end();
      });
    });
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/rotor`;
  }

  /** Those whose JSON body has this `type`. */
  ofType(type: string): ReceivedWebhook[] {
    return this.received.filter((r) => (JSON.parse(r.body) as { type?: string }).type === type);
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
