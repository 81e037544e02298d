import { ApplicationFailure } from '@temporalio/common';
import nodeVault from 'node-vault';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { VaultKv } from '../../vault';
import { ErrorType } from '../../domain';
import { uniqueName } from '../helpers/stack';
import {
  bao,
  consumerToken,
  renderConsumerPolicy,
  rotorPolicy,
  tokenWithPolicy,
  writeVersion,
} from '../helpers/vault-policy';

const PREFIXES = ['rotor', 'rotor-staging'] as const;

/** The Vault adapter the worker and API use, holding `token` instead of root. */
function kvAs(token: string): VaultKv {
  const { vaultAddr, kvMount } = inject('stack');
  return new VaultKv(nodeVault({ apiVersion: 'v1', endpoint: vaultAddr, token }), kvMount);
}

async function failureType(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
    return undefined;
  } catch (err) {
    return err instanceof ApplicationFailure
      ? (err.type ?? 'untyped')
      : 'not an ApplicationFailure';
  }
}

describe('deploy/vault/rotor.hcl, loaded into OpenBao', () => {
  let token = '';
  const tenant = uniqueName('pol');
  beforeAll(async () => {
    token = await tokenWithPolicy(await rotorPolicy());
  });

  for (const prefix of PREFIXES) {
    it(`lets Rotor make every call its Vault adapter makes under ${prefix}/`, async () => {
      const kv = kvAs(token);
      const path = `${prefix}/${tenant}/orders-db`;
      expect(await kv.metadata(path)).toEqual({ latestVersion: 0, labels: {} });
      expect(await kv.read(path)).toBeUndefined();
      expect(await kv.write(path, { value: 'one', rotor_rotation_id: 'r1' }, 0)).toBe(1);
      expect(await kv.write(path, { value: 'two', rotor_rotation_id: 'r2' }, 1)).toBe(2);
      await kv.setLabels(path, { current: 2, previous: 1 }, 5);
      expect(await kv.metadata(path)).toEqual({
        latestVersion: 2,
        labels: { current: 2, previous: 1 },
      });
      expect((await kv.read(path))?.data.value).toBe('two');
      expect((await kv.read(path, 1))?.data.value).toBe('one');
      await kv.destroyVersions(path, [1]);
      expect(await kv.read(path, 1)).toBeUndefined();
      // A stale check-and-set is still Vault's conflict, not a permission problem.
      expect(await failureType(kv.write(path, { value: 'x' }, 1))).toBe(
        ErrorType.VaultVersionConflict,
      );
      await kv.deleteAll(path);
      expect(await kv.metadata(path)).toEqual({ latestVersion: 0, labels: {} });
      // Writing the first version again after retire is a create, which the policy allows.
      expect(await kv.write(path, { value: 'three' }, 0)).toBe(1);
      await kv.deleteAll(path);
    });
  }

  it('lets Rotor create, rotate, read and delete a webhook signing secret under rotor-webhooks/, and nothing more there', async () => {
    const kv = kvAs(token);
    const path = `rotor-webhooks/${tenant}/0b6f7a9e-5a7e-4c55-9d2b-8f1f2d1c3e4a`;
    expect(await kv.read(path)).toBeUndefined();
    expect(await kv.write(path, { secret: 'whsec_one' }, 0)).toBe(1);
    expect(await kv.write(path, { secret: 'whsec_two', previous: 'whsec_one' }, 1)).toBe(2);
    expect((await kv.read(path))?.data.secret).toBe('whsec_two');
    // Labels and version destruction are the rotation protocol's, not the webhooks'.
    expect(await failureType(kv.setLabels(path, { current: 2 }))).toBe(
      ErrorType.VaultPermissionDenied,
    );
    expect(await failureType(kv.destroyVersions(path, [1]))).toBe(ErrorType.VaultPermissionDenied);
    await kv.deleteAll(path);
    expect(await kv.read(path)).toBeUndefined();
  });

  it('refuses Rotor anything outside rotor/ and rotor-staging/ of its mount', async () => {
    const { kvMount, vaultToken } = inject('stack');
    const kv = kvAs(token);
    await writeVersion(`apps/${tenant}/other`, { value: 'not rotor' });
    for (const path of [
      `apps/${tenant}/other`,
      `rotorx/${tenant}/db`,
      `rotor-other/${tenant}/db`,
      `rotor`,
    ]) {
      expect(await failureType(kv.read(path)), path).toBe(ErrorType.VaultPermissionDenied);
      expect(await failureType(kv.write(path, { value: 'x' }, 0)), path).toBe(
        ErrorType.VaultPermissionDenied,
      );
      expect(await failureType(kv.metadata(path)), path).toBe(ErrorType.VaultPermissionDenied);
    }
    const denied: [string, string, unknown?][] = [
      ['GET', 'sys/mounts'],
      ['GET', 'sys/policies/acl'],
      ['POST', 'sys/mounts/elsewhere', { type: 'kv' }],
      ['POST', 'auth/token/create', {}],
      ['LIST', `${kvMount}/metadata/rotor/`],
      ['LIST', `${kvMount}/metadata/rotor/${tenant}`],
      // Soft delete and undelete are not part of Rotor's protocol.
      ['DELETE', `${kvMount}/data/rotor/${tenant}/db`],
      ['POST', `${kvMount}/undelete/rotor/${tenant}/db`, { versions: [1] }],
      ['POST', `${kvMount}/config`, { max_versions: 1 }],
    ];
    for (const [method, path, body] of denied) {
      expect((await bao(method, path, token, body)).status, `${method} ${path}`).toBe(403);
    }
    // The same calls with the root token work, so the 403s above are the policy's doing.
    expect((await bao('GET', 'sys/mounts', vaultToken)).status).toBe(200);
  });
});

describe('deploy/vault/consumer.hcl.tmpl, rendered for one tenant', () => {
  const tenant = uniqueName('acme');
  const sibling = `${tenant}-eu`;
  const other = uniqueName('globex');
  let token = '';
  beforeAll(async () => {
    token = await consumerToken(tenant);
    await writeVersion(`rotor/${tenant}/orders-db`, { value: 'v1', username: 'app_a' });
    await writeVersion(
      `rotor/${tenant}/orders-db`,
      { value: 'v2', username: 'app_b' },
      { rotor_current_version: '2', rotor_previous_version: '1' },
    );
    await writeVersion(`rotor-staging/${tenant}/orders-db`, { value: 'pending' });
    await writeVersion(`rotor/${other}/orders-db`, { value: 'theirs' });
    await writeVersion(`rotor/${sibling}/orders-db`, { value: 'sibling' });
  });
  const mount = (): string => inject('stack').kvMount;

  it("reads its tenant's current and previous versions and their labels", async () => {
    const latest = await bao('GET', `${mount()}/data/rotor/${tenant}/orders-db`, token);
    expect(latest.status).toBe(200);
    expect((latest.body as { data: { data: { value: string } } }).data.data.value).toBe('v2');
    const previous = await bao('GET', `${mount()}/data/rotor/${tenant}/orders-db?version=1`, token);
    expect((previous.body as { data: { data: { value: string } } }).data.data.value).toBe('v1');
    const meta = await bao('GET', `${mount()}/metadata/rotor/${tenant}/orders-db`, token);
    expect(meta.status).toBe(200);
    expect(
      (meta.body as { data: { custom_metadata: Record<string, string> } }).data.custom_metadata,
    ).toEqual({ rotor_current_version: '2', rotor_previous_version: '1' });
  });

  it('is refused staging, other tenants, a tenant whose id starts the same, and every write', async () => {
    const m = mount();
    const denied: [string, string, unknown?][] = [
      ['GET', `${m}/data/rotor-staging/${tenant}/orders-db`],
      ['GET', `${m}/metadata/rotor-staging/${tenant}/orders-db`],
      ['GET', `${m}/data/rotor/${other}/orders-db`],
      ['GET', `${m}/metadata/rotor/${other}/orders-db`],
      ['GET', `${m}/data/rotor/${sibling}/orders-db`],
      ['LIST', `${m}/metadata/rotor/${tenant}`],
      ['LIST', `${m}/metadata/rotor/`],
      ['POST', `${m}/data/rotor/${tenant}/orders-db`, { data: { value: 'mine now' } }],
      ['POST', `${m}/data/rotor/${tenant}/new-one`, { data: { value: 'x' } }],
      ['POST', `${m}/metadata/rotor/${tenant}/orders-db`, { custom_metadata: { a: 'b' } }],
      ['PUT', `${m}/destroy/rotor/${tenant}/orders-db`, { versions: [1] }],
      ['POST', `${m}/delete/rotor/${tenant}/orders-db`, { versions: [2] }],
      ['DELETE', `${m}/data/rotor/${tenant}/orders-db`],
      ['DELETE', `${m}/metadata/rotor/${tenant}/orders-db`],
      ['GET', 'sys/mounts'],
    ];
    for (const [method, path, body] of denied) {
      const answer = await bao(method, path, token, body);
      expect(answer.status, `${method} ${path}`).toBe(403);
      expect(JSON.stringify(answer.body)).not.toMatch(/pending|theirs|sibling|v1|v2/);
    }
    // The refused writes changed nothing: the latest version is still the one Rotor promoted.
    const latest = await bao('GET', `${m}/data/rotor/${tenant}/orders-db`, token);
    expect((latest.body as { data: { metadata: { version: number } } }).data.metadata.version).toBe(
      2,
    );
  });

  it('cannot escape its tenant with an encoded ../ in the path', async () => {
    const answer = await bao(
      'GET',
      `${mount()}/data/rotor/${tenant}/%2e%2e/${other}/orders-db`,
      token,
    );
    expect([400, 403]).toContain(answer.status);
    expect(JSON.stringify(answer.body)).not.toContain('theirs');
  });

  it('is rendered only for valid tenant ids, so an id can never widen the path', async () => {
    for (const bad of ['*', 'acme/*', '..', 'a..b', 'ACME', '', 'acme"}']) {
      const rendered = await renderConsumerPolicy(bad);
      expect(rendered.code, bad).toBe(2);
      expect(rendered.stdout, bad).toBe('');
    }
    const good = await renderConsumerPolicy('acme.eu_1-x', 'kv/');
    expect(good.code).toBe(0);
    expect(good.stdout).toContain('path "kv/data/rotor/acme.eu_1-x/*"');
    expect(good.stdout).toContain('path "kv/metadata/rotor/acme.eu_1-x/*"');
    expect(good.stdout).not.toMatch(/\{\{|rotor-staging|"(create|update|delete|list)"/);
  });
});
