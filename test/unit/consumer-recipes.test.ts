import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { isValidName, secretVaultPath } from '../../domain';

// The recipes cannot run here (no Kubernetes, no Vault Agent); this checks that what they read is
// what Rotor writes, and what the tenant's consumer policy allows.
const deploy = (...parts: string[]) => path.join(__dirname, '../../deploy', ...parts);
const read = (...parts: string[]) => readFileSync(deploy(...parts), 'utf8');

/** The KV v2 mount Rotor writes to by default (VAULT_KV_MOUNT), which the recipes assume. */
const MOUNT = 'secret';
/** The fields Rotor writes on the consumer path that applications use. */
const ROTOR_FIELDS = new Set(['value', 'username']);
const TENANT = 'acme';

/** deploy/vault/consumer.hcl.tmpl rendered for `tenant`: each path rule and its capabilities. */
function consumerRules(tenant: string): { path: string; capabilities: string[] }[] {
  const text = read('vault', 'consumer.hcl.tmpl')
    .replaceAll('{{tenant}}', tenant)
    .replaceAll('{{mount}}', MOUNT);
  return [...text.matchAll(/path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}/g)].map(
    ([, p = '', caps = '']) => ({
      path: p,
      capabilities: [...caps.matchAll(/"([^"]+)"/g)].map((m) => m[1] ?? ''),
    }),
  );
}

/** Vault's ACL matching for the two forms the policies use: exact, and a trailing `*` prefix. */
function allowsRead(tenant: string, apiPath: string): boolean {
  return consumerRules(tenant).some(
    (rule) =>
      rule.capabilities.includes('read') &&
      (rule.path.endsWith('*')
        ? apiPath.startsWith(rule.path.slice(0, -1))
        : apiPath === rule.path),
  );
}

/** A KV key under the mount (rotor/<tenant>/<name>) that is exactly a Rotor consumer path. */
function expectConsumerKey(key: string, tenant: string): void {
  const [prefix, t = '', name = '', ...rest] = key.split('/');
  expect(prefix, key).toBe('rotor');
  expect(rest, key).toEqual([]);
  expect(t, key).toBe(tenant);
  expect(isValidName(name), key).toBe(true);
  expect(key).toBe(secretVaultPath(t, name));
}

interface VaultStore {
  kind: string;
  metadata: { name: string; namespace: string };
  spec: {
    provider: {
      vault: {
        server: string;
        path: string;
        version: string;
        auth: {
          kubernetes?: { mountPath: string; role: string; serviceAccountRef: { name: string } };
          tokenSecretRef?: { name: string; key: string };
        };
      };
    };
  };
}
interface ExternalSecret {
  kind: string;
  metadata: { namespace: string };
  spec: {
    refreshInterval: string;
    secretStoreRef: { name: string; kind: string };
    data: { secretKey: string; remoteRef: { key: string; property: string; version?: string } }[];
  };
}

describe('the External Secrets Operator recipe (deploy/recipes/external-secrets)', () => {
  const stores = parseAllDocuments(read('recipes', 'external-secrets', 'secret-store.yaml')).map(
    (d) => d.toJS() as VaultStore,
  );
  const [external] = parseAllDocuments(
    read('recipes', 'external-secrets', 'external-secret.yaml'),
  ).map((d) => d.toJS() as ExternalSecret);

  it('points every SecretStore at the KV v2 mount Rotor writes to, with token or kubernetes auth bound to the consumer role', () => {
    expect(stores.map((s) => s.kind)).toEqual(['SecretStore', 'SecretStore']);
    const auths: string[] = [];
    for (const store of stores) {
      const vault = store.spec.provider.vault;
      expect(vault.path).toBe(MOUNT);
      expect(vault.version).toBe('v2');
      expect(vault.server).toMatch(/^https:\/\//);
      const { kubernetes, tokenSecretRef } = vault.auth;
      expect(Object.keys(vault.auth)).toHaveLength(1);
      if (kubernetes) {
        auths.push('kubernetes');
        expect(kubernetes.role).toBe(`rotor-consumer-${TENANT}`);
        expect(kubernetes.serviceAccountRef.name).toBeTruthy();
      }
      if (tokenSecretRef) {
        auths.push('token');
        expect(tokenSecretRef.key).toBe('token');
        expect(tokenSecretRef.name).toBeTruthy();
      }
    }
    expect(auths.sort()).toEqual(['kubernetes', 'token']);
  });

  it("reads the latest version of the tenant's consumer path, fields value and username, which the consumer policy allows", () => {
    expect(external?.kind).toBe('ExternalSecret');
    expect(stores.map((s) => s.metadata.name)).toContain(external?.spec.secretStoreRef.name);
    expect(external?.spec.secretStoreRef.kind).toBe('SecretStore');
    const data = external?.spec.data ?? [];
    expect(data.map((d) => d.remoteRef.property).sort()).toEqual(['username', 'value']);
    for (const { remoteRef } of data) {
      expectConsumerKey(remoteRef.key, TENANT);
      expect(ROTOR_FIELDS.has(remoteRef.property)).toBe(true);
      // A pinned version would stop following rotations.
      expect(remoteRef.version).toBeUndefined();
      expect(allowsRead(TENANT, `${MOUNT}/data/${remoteRef.key}`)).toBe(true);
    }
  });
});

describe('the Vault Agent recipe (deploy/recipes/vault-agent)', () => {
  const template = read('recipes', 'vault-agent', 'orders-db.env.ctmpl');
  const agent = read('recipes', 'vault-agent', 'agent.hcl');

  it('reads the KV v2 data path of a consumer secret, without a version, fields value and username', () => {
    const paths = [...template.matchAll(/secret\s+"([^"]+)"/g)].map((m) => m[1] ?? '');
    expect(paths).toEqual([`${MOUNT}/data/rotor/${TENANT}/orders-db`]);
    for (const p of paths) {
      expect(p).not.toContain('?');
      expectConsumerKey(p.slice(`${MOUNT}/data/`.length), TENANT);
      expect(allowsRead(TENANT, p)).toBe(true);
    }
    const fields = [...template.matchAll(/\.Data\.data\.(\w+)/g)].map((m) => m[1] ?? '');
    expect(fields.sort()).toEqual(['username', 'value']);
  });

  it('logs in as the consumer role, renders that template, and fails on a missing field', () => {
    expect(agent).toMatch(/method\s+"kubernetes"/);
    expect(agent).toMatch(new RegExp(`role\\s*=\\s*"rotor-consumer-${TENANT}"`));
    expect(agent).toMatch(/source\s*=\s*"[^"]*\/orders-db\.env\.ctmpl"/);
    expect(agent).toMatch(/error_on_missing_key\s*=\s*true/);
    expect(agent).not.toMatch(/token\s*=/);
  });
});

describe('the consumer policy the recipes rely on', () => {
  it("reads only the tenant's consumer paths: not staging, not another tenant", () => {
    expect(allowsRead(TENANT, `${MOUNT}/data/rotor/${TENANT}/orders-db`)).toBe(true);
    expect(allowsRead(TENANT, `${MOUNT}/metadata/rotor/${TENANT}/orders-db`)).toBe(true);
    expect(allowsRead(TENANT, `${MOUNT}/data/rotor-staging/${TENANT}/orders-db`)).toBe(false);
    expect(allowsRead(TENANT, `${MOUNT}/data/rotor/globex/orders-db`)).toBe(false);
    expect(allowsRead(TENANT, `${MOUNT}/data/rotor/${TENANT}-eu/orders-db`)).toBe(false);
    expect(
      consumerRules(TENANT).flatMap((r) => r.capabilities.filter((c) => c !== 'read')),
    ).toEqual([]);
  });
});
