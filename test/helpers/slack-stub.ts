import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackPost {
  channel: string;
  text: string;
  blocks: { type: string }[];
  at: number;
}

/**
 * The one stand-in allowed: Slack's chat.postMessage on loopback. It checks the bearer token and
 * the payload shape as Slack does, and can be told to answer 429 (with Retry-After) or an error.
 */
export class SlackStub {
  readonly posts: SlackPost[] = [];
  /** Every request, accepted or not, for asserting retries. */
  readonly requests: { channel: string; at: number; status: number }[] = [];
  /** channel → number of 429 answers still to give. */
  readonly rateLimit = new Map<string, number>();
  /** channel → Slack error code to answer with (ok: false), e.g. channel_not_found. */
  readonly failWith = new Map<string, string>();
  private server: http.Server | undefined;

  constructor(readonly token: string) {}

  get apiUrl(): string {
    return `http://127.0.0.1:${(this.server?.address() as AddressInfo).port}/api/`;
  }

  async start(): Promise<void> {
    this.server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => this.handle(req, body, res));
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): void {
    const reply = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(JSON.stringify(json));
    };
    if (req.method !== 'POST' || req.url !== '/api/chat.postMessage')
      return reply(404, { ok: false, error: 'unknown_method' });
    if (req.headers.authorization !== `Bearer ${this.token}`)
      return reply(200, { ok: false, error: 'invalid_auth' });
    const type = req.headers['content-type'] ?? '';
    const params: Record<string, unknown> = type.includes('application/json')
      ? (JSON.parse(body) as Record<string, unknown>)
      : Object.fromEntries(new URLSearchParams(body));
    const channel = typeof params.channel === 'string' ? params.channel : '';
    const at = Date.now();
    const limited = this.rateLimit.get(channel) ?? 0;
    if (limited > 0) {
      this.rateLimit.set(channel, limited - 1);
      this.requests.push({ channel, at, status: 429 });
      return reply(429, { ok: false, error: 'ratelimited' }, { 'retry-after': '1' });
    }
    this.requests.push({ channel, at, status: 200 });
    const failure = this.failWith.get(channel);
    if (failure) return reply(200, { ok: false, error: failure });
    if (!channel) return reply(200, { ok: false, error: 'channel_not_found' });
    const blocks: unknown =
      typeof params.blocks === 'string' ? JSON.parse(params.blocks) : params.blocks;
    const valid =
      Array.isArray(blocks) &&
      blocks.length > 0 &&
      blocks.length <= 50 &&
      blocks.every(
        (b) =>
          typeof b === 'object' && b !== null && typeof (b as { type?: unknown }).type === 'string',
      );
    if (!valid || typeof params.text !== 'string')
      return reply(200, { ok: false, error: 'invalid_blocks' });
    this.posts.push({ channel, text: params.text, blocks: blocks as { type: string }[], at });
    return reply(200, { ok: true, channel, ts: `${at / 1000}` });
  }
}
