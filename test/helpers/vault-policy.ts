import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { inject } from 'vitest';
import { REPO_ROOT } from '../../devstack/paths';

export interface BaoAnswer {
  status: number;
  body: unknown;
}

/** One raw Vault API call, as any HTTP client would make it. */
export async function bao(
  method: string,
  apiPath: string,
  token: string,
  json?: unknown,
): Promise<BaoAnswer> {
  const res = await fetch(`${inject('stack').vaultAddr}/v1/${apiPath}`, {
    method,
    headers: { 'X-Vault-Token': token, 'content-type': 'application/json' },
    ...(json === undefined ? {} : { body: JSON.stringify(json) }),
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON; keep the text
  }
  return { status: res.status, body };
}

/** deploy/vault/rotor.hcl for the run's mount (the README's sed, done in code). */
export async function rotorPolicy(): Promise<string> {
  const text = await readFile(path.join(REPO_ROOT, 'deploy/vault/rotor.hcl'), 'utf8');
  return text.replaceAll('"secret/', `"${inject('stack').kvMount}/`);
}

/** Runs deploy/vault/consumer-policy.sh, as the README tells operators to. */
export function renderConsumerPolicy(
  ...args: string[]
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      'deploy/vault/consumer-policy.sh',
      args,
      { cwd: REPO_ROOT, env: { PATH: process.env.PATH } },
      (err, stdout, stderr) =>
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/**
 * Loads `policy` into the run's OpenBao under a fresh name and returns a token carrying only it
 * (no `default` policy), so a test proves what this policy alone allows.
 */
export async function tokenWithPolicy(policy: string): Promise<string> {
  const root = inject('stack').vaultToken;
  const name = `test-${randomUUID()}`;
  const put = await bao('PUT', `sys/policies/acl/${name}`, root, { policy });
  if (put.status !== 204) throw new Error(`policy write answered ${put.status}`);
  const created = await bao('POST', 'auth/token/create', root, {
    policies: [name],
    no_default_policy: true,
    ttl: '1h',
  });
  const token = (created.body as { auth?: { client_token?: string } }).auth?.client_token;
  if (!token) throw new Error(`token create answered ${created.status}`);
  return token;
}

/** A consumer token for `tenant`, from the shipped template and script. */
export async function consumerToken(tenant: string): Promise<string> {
  const rendered = await renderConsumerPolicy(tenant, inject('stack').kvMount);
  if (rendered.code !== 0) throw new Error(`consumer-policy.sh: ${rendered.stderr}`);
  return tokenWithPolicy(rendered.stdout);
}

/** Writes a new KV version directly with the root token, as a promote would. */
export async function writeVersion(
  secretPath: string,
  data: Record<string, string>,
  labels?: Record<string, string>,
): Promise<number> {
  const { kvMount, vaultToken } = inject('stack');
  const res = await bao('POST', `${kvMount}/data/${secretPath}`, vaultToken, { data });
  const version = (res.body as { data?: { version?: number } }).data?.version;
  if (res.status !== 200 || version === undefined) throw new Error(`write answered ${res.status}`);
  if (labels) {
    const meta = await bao('POST', `${kvMount}/metadata/${secretPath}`, vaultToken, {
      custom_metadata: labels,
    });
    if (meta.status !== 204) throw new Error(`metadata write answered ${meta.status}`);
  }
  return version;
}
