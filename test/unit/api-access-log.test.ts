import { describe, expect, it } from 'vitest';
import { buildApp } from '../../api/app';

function appWithLog() {
  const lines: Record<string, unknown>[] = [];
  const app = buildApp({
    checks: {},
    logLevel: 'info',
    logStream: {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    },
  });
  return { app, lines };
}

describe("the API's access log", () => {
  it('writes one line per answered request, with the method, URL, status and time taken', async () => {
    const { app, lines } = appWithLog();
    const res = await app.inject({ method: 'GET', url: '/healthz' });
    await app.close();
    const requestLines = lines.filter((l) => l.reqId !== undefined);
    expect(requestLines).toHaveLength(1);
    const [line] = requestLines;
    expect(line).toMatchObject({
      msg: 'request completed',
      req: { method: 'GET', url: '/healthz' },
      res: { statusCode: res.statusCode },
    });
    expect(typeof line?.responseTime).toBe('number');
    expect(lines.map((l) => l.msg)).not.toContain('incoming request');
  });

  it("names Rotor's error code on a refused request, and never logs its headers or body", async () => {
    const { app, lines } = appWithLog();
    const planted = 'Bearer planted-t0ken-value';
    const res = await app.inject({
      method: 'POST',
      url: '/healthz?name=a%01b',
      headers: { authorization: planted, 'content-type': 'application/json' },
      payload: { value: 'planted-b0dy-value' },
    });
    await app.close();
    expect(res.statusCode).toBe(400);
    const line = lines.find((l) => l.msg === 'request completed');
    expect(line).toMatchObject({ res: { statusCode: 400 }, code: 'ROT_ERR_VALIDATION' });
    const all = JSON.stringify(lines);
    expect(all).not.toContain('planted-t0ken-value');
    expect(all).not.toContain('planted-b0dy-value');
  });
});
