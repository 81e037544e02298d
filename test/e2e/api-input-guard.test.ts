import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../audit';
import { rotateNowSignal } from '../../workflows';
import { createTestApi } from '../helpers/api';
import type { Method, TestApi } from '../helpers/api';
import { waitForStatus } from '../helpers/lifecycle';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

type ErrorBody = { error: { code: string; message: string; issues?: { field: string }[] } };

interface JsonSchema {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
}
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  schema?: JsonSchema;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { content: { 'application/json': { schema: JsonSchema } } };
  responses: Record<string, { content?: { 'application/json': { schema: unknown } } }>;
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

/** A marker that must never come back in an answer: the API does not echo what it refuses. */
const MARKER = 'probe-q7x';
/** U+0000-U+001F and U+007F. */
const CONTROLS = [...Array.from({ length: 32 }, (_, i) => String.fromCharCode(i)), '\u007f'];

/** Dotted paths of every string field in a body schema, nested objects and arrays included. */
function stringFields(schema: JsonSchema, path: string[] = []): string[][] {
  if (schema.type === 'string') return [path];
  if (schema.type === 'array' && schema.items) return stringFields(schema.items, [...path, '0']);
  return Object.entries(schema.properties ?? {}).flatMap(([key, child]) =>
    stringFields(child, [...path, key]),
  );
}

/** A body holding `value` at `path` and nothing else: the guard answers before any schema. */
function bodyWith(path: string[], value: string): unknown {
  const [head, ...rest] = path;
  if (head === undefined) return value;
  const inner = bodyWith(rest, value);
  return /^\d+$/.test(head) ? [inner] : { [head]: inner };
}

describe('control characters in any input: a coded 400 naming the field, on every operation', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let doc: OpenApi;
  let a = '';
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    api = await createTestApi(rotor);
    a = api.tenantA;
    doc = (await api.app.inject({ method: 'GET', url: '/openapi.json' })).json<OpenApi>();
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const refused = (
    res: { statusCode: number; body: string; json: <T>() => T },
    field: string,
    what: string,
  ) => {
    expect(res.statusCode, `${what}: ${res.body}`).toBe(400);
    const { error } = res.json<ErrorBody>();
    expect(error.code, what).toBe('ROT_ERR_VALIDATION');
    expect(
      error.issues?.map((i) => i.field),
      what,
    ).toContain(field);
    expect(res.body, what).not.toContain(MARKER);
  };

  /** Each operation's path with every parameter filled in with a valid value. */
  const validParams = (p: Parameter[]): Record<string, string> =>
    Object.fromEntries(
      p
        .filter((x) => x.in === 'path')
        .map((x) => [
          x.name,
          /Id$/.test(x.name) && x.name !== 'tenantId' ? crypto.randomUUID() : a,
        ]),
    );
  const urlOf = (path: string, params: Record<string, string>) =>
    path.replace(/\{(\w+)\}/g, (_, n: string) => params[n] ?? '');

  it('refuses a NUL in every path, query, header and body string of every documented operation', async () => {
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, ops]) => Object.entries(ops).map(([m, op]) => ({ path, op, method: m })));
    expect(operations.length).toBeGreaterThan(25);
    let probes = 0;
    for (const { path, op, method } of operations) {
      const verb = method.toUpperCase() as Method;
      const parameters = op.parameters ?? [];
      const params = validParams(parameters);
      const body = op.requestBody?.content['application/json'].schema;
      const send = (url: string, payload?: unknown, headers?: Record<string, string>) =>
        api.call(api.tokens.admin, verb, url, payload ?? (body ? {} : undefined), headers);
      for (const p of parameters) {
        const what = `${verb} ${path} ${p.in} ${p.name}`;
        probes += 1;
        if (p.in === 'path') {
          const url = urlOf(path, { ...params, [p.name]: `${MARKER}%00` });
          refused(await send(url), `params.${p.name}`, what);
        } else if (p.in === 'query') {
          const url = `${urlOf(path, params)}?${p.name}=${MARKER}%00`;
          refused(await send(url), `query.${p.name}`, what);
        } else {
          // Node refuses a NUL in a header line; a tab is a control character it lets through.
          const res = await send(urlOf(path, params), undefined, { [p.name]: `${MARKER}\tx` });
          refused(res, `headers.${p.name}`, what);
        }
      }
      for (const field of body ? stringFields(body) : []) {
        const what = `${verb} ${path} body ${field.join('.')}`;
        probes += 1;
        const res = await send(urlOf(path, params), bodyWith(field, `${MARKER}\u0000`));
        refused(res, ['body', ...field].join('.'), what);
      }
    }
    // Every operation's parameters and body fields, not a sample: the document lists ~90.
    expect(probes).toBeGreaterThan(80);
  });

  // A lone UTF-16 surrogate is valid JSON ("\ud800") but no character: PostgreSQL's jsonb
  // refuses it. Each of these answered 500 (token name, value read), or 202 and then the
  // rotation's first audit row failed on every attempt, leaving the secret ROTATING.
  it('refuses a lone surrogate in every body string of every documented operation, naming the field', async () => {
    const lone = `${MARKER}\ud800`;
    let probes = 0;
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const [method, op] of Object.entries(ops)) {
        const body = op.requestBody?.content['application/json'].schema;
        const url = urlOf(path, validParams(op.parameters ?? []));
        for (const field of body ? stringFields(body) : []) {
          const what = `${method.toUpperCase()} ${path} body ${field.join('.')}`;
          probes += 1;
          const res = await api.call(
            api.tokens.admin,
            method.toUpperCase() as Method,
            url,
            bodyWith(field, lone),
          );
          refused(res, ['body', ...field].join('.'), what);
          expect(res.json<ErrorBody>().error.issues, what).toEqual([
            {
              field: ['body', ...field].join('.'),
              message: 'must be well-formed Unicode (it holds a lone surrogate)',
            },
          ]);
        }
      }
    }
    expect(probes).toBeGreaterThan(40);
    // A low surrogate alone, and one in a field name (not echoed); a pair is a character.
    refused(
      await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/x/rotate`, { reason: 'x\udfff' }),
      'body.reason',
      'a low surrogate',
    );
    refused(
      await api.call(api.tokens.admin, 'POST', '/api/v1/tokens', {
        [`${MARKER}\udc00`]: 'x',
        name: 'n',
        role: 'operator',
      }),
      'body',
      'a key with a lone surrogate',
    );
    const emoji = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/never-was/rotate`, {
      reason: 'rotated \ud83d\udd11',
    });
    expect(emoji.statusCode, emoji.body).toBe(404);
  });

  it('answers 400, not 500, to a lone surrogate in a value read’s reason or a token’s name, and audits nothing', async () => {
    const created = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: a,
      name: 'readable',
      type: 'jwt_secret',
      policy: { allowValueRead: true },
    });
    expect(created.statusCode, created.body).toBe(201);
    await waitForStatus(rotor.client, `secret/${a}/readable`, (s) => s.state === 'ACTIVE');
    const count = async () =>
      (
        await rotor.clients.db
          .selectFrom('audit_events')
          .select((eb) => eb.fn.countAll<string>().as('n'))
          .where('tenant_id', '=', a)
          .where('action', '=', 'secret.value_read')
          .executeTakeFirstOrThrow()
      ).n;
    const before = await count();
    refused(
      await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/readable/value`, {
        reason: `${MARKER}\ud800`,
      }),
      'body.reason',
      'value read',
    );
    expect(await count()).toBe(before);
    refused(
      await api.call(api.tokens.admin, 'POST', '/api/v1/tokens', {
        name: `${MARKER}\ud800`,
        role: 'operator',
      }),
      'body.name',
      'token name',
    );
  });

  /** A tenant-A API key created through the API, once its lifecycle is ACTIVE: its workflow id. */
  const activeApiKey = async (name: string): Promise<string> => {
    const created = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: a,
      name,
      type: 'api_key',
    });
    expect(created.statusCode, created.body).toBe(201);
    const workflowId = `secret/${a}/${name}`;
    await waitForStatus(rotor.client, workflowId, (s) => s.state === 'ACTIVE');
    return workflowId;
  };

  it('rotates on a raw rotate signal whose reason holds a lone surrogate, storing U+FFFD, and the chain verifies', async () => {
    const workflowId = await activeApiKey('raw-signal');
    // Around the API (the Temporal UI, tctl): the workflow's own rules are all that apply.
    await rotor.client.workflow
      .getHandle(workflowId)
      .signal(rotateNowSignal, { requestedBy: 'ops', reason: 'from the UI \ud800' });
    const done = await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 2);
    expect(done.state).not.toBe('NEEDS_ATTENTION');
    const rows = await rotor.clients.db
      .selectFrom('audit_events')
      .innerJoin('secrets', 'secrets.id', 'audit_events.secret_id')
      .select('audit_events.details')
      .where('secrets.workflow_id', '=', workflowId)
      .execute();
    const reasons = rows.map((r) => (r.details as { reason?: string }).reason);
    expect(reasons).toContain('from the UI \ufffd');
    expect((await verifyAuditTrail(rotor.clients.db, { tenantId: a })).ok).toBe(true);
  });

  it('refuses every C0 control character and DEL in a single-line field, and names only the field', async () => {
    for (const c of CONTROLS) {
      const res = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/x/rotate`, {
        reason: `${MARKER}${c}`,
      });
      refused(res, 'body.reason', `U+${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
      expect(res.json<ErrorBody>().error.issues).toEqual([
        { field: 'body.reason', message: 'must not contain control characters' },
      ]);
    }
  });

  it('lets line breaks through only in the PEM fields of a supplied value', async () => {
    const supply = `/api/v1/secrets/${a}/never-was/supply`;
    // Past the guard: the secret does not exist.
    const pem = await api.call(api.tokens.a, 'POST', supply, {
      value: '-----BEGIN CERTIFICATE-----\r\nAAAA\n-----END CERTIFICATE-----\n',
      privateKey: '-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n',
    });
    expect(pem.statusCode, pem.body).toBe(404);
    refused(
      await api.call(api.tokens.a, 'POST', supply, { value: `${MARKER}\u0000` }),
      'body.value',
      'NUL in a PEM field',
    );
    refused(
      await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/x/rotate`, {
        reason: `${MARKER}\nsecond line`,
      }),
      'body.reason',
      'a line break in a reason',
    );
  });

  it('refuses a field name with a control character without echoing the name', async () => {
    const res = await api.call(api.tokens.admin, 'POST', '/api/v1/tokens', {
      [`${MARKER}\u0000`]: 'x',
      name: 'n',
      role: 'operator',
    });
    refused(res, 'body', 'a key with NUL');
  });

  it('answers a deeply nested body with a 4xx, not a stack overflow', async () => {
    const deep = `${'['.repeat(20_000)}"${MARKER}\\u0000"${']'.repeat(20_000)}`;
    const res = await api.app.inject({
      method: 'PUT',
      url: `/api/v1/secrets/${a}/x/policy`,
      payload: `{"p":${deep}}`,
      headers: { authorization: `Bearer ${api.tokens.a}`, 'content-type': 'application/json' },
    });
    expect(res.statusCode, res.body).toBeLessThan(500);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.body).not.toContain(MARKER);
  });

  // Issue 11, "What broke" 5: each of these answered 500.
  it('answers 400, not 500, to a NUL in the type or state filter of the secrets listing', async () => {
    for (const name of ['type', 'state']) {
      refused(
        await api.call(api.tokens.admin, 'GET', `/api/v1/secrets?${name}=%00`),
        `query.${name}`,
        name,
      );
    }
  });

  it('answers 400, not 500, to a NUL in the reason of a value read, and audits nothing', async () => {
    const before = await rotor.clients.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('tenant_id', '=', a)
      .executeTakeFirstOrThrow();
    refused(
      await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/x/value`, {
        reason: `${MARKER}\u0000`,
      }),
      'body.reason',
      'value read',
    );
    const after = await rotor.clients.db
      .selectFrom('audit_events')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('tenant_id', '=', a)
      .executeTakeFirstOrThrow();
    expect(after.n).toBe(before.n);
  });

  it('answers 400, not 500, to a NUL in a new token’s name', async () => {
    refused(
      await api.call(api.tokens.admin, 'POST', '/api/v1/tokens', {
        name: `${MARKER}\u0000`,
        role: 'operator',
      }),
      'body.name',
      'token name',
    );
  });

  // Issue 11, "What broke" 1: this answered 202, then the workflow failed on the NUL for good.
  it('refuses a rotate-now whose reason holds a NUL, and the lifecycle keeps rotating', async () => {
    const workflowId = await activeApiKey('nul-reason');
    refused(
      await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/nul-reason/rotate`, {
        reason: 'x\u0000',
      }),
      'body.reason',
      'rotate',
    );
    const rotate = await api.call(api.tokens.a, 'POST', `/api/v1/secrets/${a}/nul-reason/rotate`, {
      reason: 'after the refused one',
    });
    expect(rotate.statusCode, rotate.body).toBe(202);
    const done = await waitForStatus(rotor.client, workflowId, (s) => s.currentVersion === 2);
    expect(done.state).not.toBe('NEEDS_ATTENTION');
  });
});
