import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TAGS } from '../../api/openapi';
import { SECRET_TYPES } from '../../domain';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

interface Schema {
  type?: string;
  enum?: string[];
  properties?: Record<string, Schema>;
  required?: string[];
  additionalProperties?: unknown;
}
interface Operation {
  tags?: string[];
  requestBody?: { content: { 'application/json': { schema: Schema } } };
  responses: Record<string, { description: string; content?: Record<string, { schema: Schema }> }>;
}
type OpenApi = { paths: Record<string, Record<string, Operation>> };

describe('the OpenAPI document describes every answer and every body', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let doc: OpenApi;
  beforeAll(async () => {
    rotor = await createTestRotor();
    api = await createTestApi(rotor);
    const res = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    doc = res.json<OpenApi>();
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const op = (method: string, path: string): Operation => {
    const found = doc.paths[path]?.[method];
    if (!found) throw new Error(`${method} ${path} is not in the document`);
    return found;
  };
  const statuses = (method: string, path: string) => Object.keys(op(method, path).responses);

  it('lists a success and the shared error body for 400, 401, 403, 404, 500 and 503 on every operation', () => {
    const operations = Object.entries(doc.paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, ops]) => Object.entries(ops).map(([method, o]) => ({ path, method, o })));
    expect(operations.length).toBeGreaterThan(25);
    for (const { path, method, o } of operations) {
      const what = `${method.toUpperCase()} ${path}`;
      expect(
        Object.keys(o.responses).some((s) => /^2\d\d$/.test(s)),
        what,
      ).toBe(true);
      for (const status of ['400', '401', '403', '404', '500', '503']) {
        const schema = o.responses[status]?.content?.['application/json']?.schema;
        expect(schema?.properties?.error?.properties, `${what} ${status}`).toMatchObject({
          code: { type: 'string' },
          message: { type: 'string' },
        });
      }
      // Any operation reads the engine database at least (the caller's token): it can be down.
      expect(o.responses['503']?.description, what).toContain('ROT_ERR_DEPENDENCY_UNAVAILABLE');
    }
  });

  it('groups every operation under one named tag, none under "default"', () => {
    const names: string[] = TAGS.map((t) => t.name);
    const byTag = new Map<string, string[]>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1/')) continue;
      for (const [method, o] of Object.entries(ops)) {
        expect(o.tags, `${method} ${path}`).toHaveLength(1);
        const tag = o.tags?.[0] ?? 'default';
        expect(names, `${method} ${path} is tagged ${tag}`).toContain(tag);
        byTag.set(tag, [...(byTag.get(tag) ?? []), `${method.toUpperCase()} ${path}`]);
      }
    }
    expect(byTag.get('approvals')).toEqual(
      expect.arrayContaining([
        'POST /api/v1/secrets/{tenantId}/{name}/approve',
        'GET /api/v1/approvals',
      ]),
    );
    expect(byTag.get('audit')).toContain('GET /api/v1/secrets/{tenantId}/{name}/audit');
    expect(byTag.get('tokens')).toContain('POST /api/v1/tokens/{tokenId}/revoke');
    expect(byTag.get('secrets')).toContain('PUT /api/v1/secrets/{tenantId}/{name}/policy');
    // Every declared tag holds something, so /docs shows no empty group.
    expect([...byTag.keys()].sort()).toEqual([...names].sort());
    expect((doc as { tags?: { name: string }[] }).tags?.map((t) => t.name)).toEqual(names);
  });

  it('gives each operation its real success code', () => {
    const secret = '/api/v1/secrets/{tenantId}/{name}';
    expect(statuses('post', '/api/v1/secrets')).toContain('201');
    expect(statuses('post', '/api/v1/tokens')).toContain('201');
    for (const path of [`${secret}/rotate`, `${secret}/retire`, `${secret}/break-glass`]) {
      expect(statuses('post', path), path).toContain('202');
      expect(statuses('post', path), path).not.toContain('200');
    }
    expect(statuses('post', '/api/v1/rotations/bulk')).toContain('202');
    expect(statuses('put', `${secret}/policy`)).toContain('202');
    expect(statuses('post', '/api/v1/tokens')).not.toContain('200');
    expect(statuses('post', '/api/v1/tokens/{tokenId}/rotate')).toContain('201');
    expect(statuses('post', '/api/v1/tokens/{tokenId}/revoke')).toEqual(
      expect.arrayContaining(['200', '409']),
    );
  });

  it('lists the state and idempotency refusals where they can happen', () => {
    const secret = '/api/v1/secrets/{tenantId}/{name}';
    expect(statuses('post', '/api/v1/secrets')).toEqual(expect.arrayContaining(['409', '422']));
    expect(statuses('post', `${secret}/rotate`)).toEqual(expect.arrayContaining(['409', '422']));
    expect(statuses('post', `${secret}/retire`)).toEqual(expect.arrayContaining(['409', '422']));
    expect(statuses('post', `${secret}/break-glass`)).toEqual(
      expect.arrayContaining(['409', '422']),
    );
    expect(statuses('delete', '/api/v1/connections/{name}')).toContain('409');
    expect(statuses('post', `${secret}/supply`)).toEqual(expect.arrayContaining(['409', '413']));
    expect(statuses('get', secret)).toContain('414');
  });

  it('gives the create-secret and policy bodies every field the validator accepts', () => {
    const create = op('post', '/api/v1/secrets').requestBody?.content['application/json'].schema;
    expect(create?.required).toEqual(['tenantId', 'name', 'type']);
    expect(create?.additionalProperties).toBe(false);
    expect(create?.properties?.type?.enum).toEqual([...SECRET_TYPES]);
    expect(Object.keys(create?.properties ?? {})).toEqual(
      expect.arrayContaining(['initialValue', 'policy', 'target']),
    );
    expect(create?.properties?.policy?.properties?.intervalSeconds).toMatchObject({
      type: 'integer',
      minimum: rotor.config.policy.minRotationIntervalSeconds,
    });
    expect(create?.properties?.target?.properties?.kind?.enum).toEqual([
      'postgres_role',
      'tenant_api_key',
      'redis_acl',
      'mariadb_user',
      'aws_iam_access_key',
    ]);
    expect(Object.keys(create?.properties?.target?.properties ?? {})).toEqual(
      expect.arrayContaining(['connection', 'user', 'users', 'host', 'userName', 'staleKeys']),
    );
    const connection = op('put', '/api/v1/connections/{name}').requestBody?.content[
      'application/json'
    ].schema;
    expect(connection?.properties?.kind?.enum).toEqual(['postgres', 'redis', 'mariadb', 'aws']);
    expect(Object.keys(connection?.properties ?? {})).toEqual(
      expect.arrayContaining(['host', 'port', 'region', 'endpoint', 'credential']),
    );

    const policy = op('put', '/api/v1/secrets/{tenantId}/{name}/policy').requestBody?.content[
      'application/json'
    ].schema;
    expect(policy?.additionalProperties).toBe(false);
    expect(Object.keys(policy?.properties ?? {})).toEqual(
      expect.arrayContaining(['intervalSeconds', 'cron', 'maintenanceWindow', 'approval']),
    );
  });

  it('still names each bad field as the validator does, not as the documented schema would', async () => {
    const res = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
      tenantId: api.tenantA,
      name: 'Bad Name',
      type: 'api_key',
      policy: { intervalSeconds: 0, colour: 'red' },
    });
    expect(res.statusCode, res.body).toBe(400);
    const fields = res
      .json<{ error: { issues: { field: string }[] } }>()
      .error.issues.map((i) => i.field);
    expect(fields).toEqual(
      expect.arrayContaining(['name', 'policy.intervalSeconds', 'policy.colour']),
    );
  });
});
