import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { DevstackError } from './errors';
import { waitFor } from './ports';
import { startService } from './service';
import type { Service } from './service';

export interface OpenBaoServer {
  addr: string;
  token: string;
  kvMount: string;
  service: Service;
}

interface InitResult {
  keys_base64: string[];
  root_token: string;
}

/**
 * OpenBao with integrated (raft) storage, so `npm start` keeps its Vault data across restarts like its
 * Temporal and PostgreSQL data. First start initialises it with one unseal key; the key and root
 * token are kept in <dataDir>/init.json (mode 0600) for this local stack only.
 */
export async function startOpenBao(options: {
  bin: string;
  port: number;
  /** Raft's cluster listener; OpenBao's only persistent storage here is integrated (raft). */
  clusterPort: number;
  dataDir: string;
  logFile: string;
  kvMount?: string;
}): Promise<OpenBaoServer> {
  const kvMount = options.kvMount ?? 'secret';
  await mkdir(path.join(options.dataDir, 'storage'), { recursive: true });
  const addr = `http://127.0.0.1:${options.port}`;
  const configFile = path.join(options.dataDir, 'openbao.hcl');
  await writeFile(
    configFile,
    [
      `storage "raft" {`,
      `  path    = ${JSON.stringify(path.join(options.dataDir, 'storage'))}`,
      `  node_id = "rotor-local"`,
      `}`,
      `listener "tcp" {`,
      `  address         = "127.0.0.1:${options.port}"`,
      `  cluster_address = "127.0.0.1:${options.clusterPort}"`,
      `  tls_disable     = true`,
      `}`,
      `api_addr     = "${addr}"`,
      `cluster_addr = "http://127.0.0.1:${options.clusterPort}"`,
      `ui           = false`,
      '',
    ].join('\n'),
  );
  const service = startService('openbao', options.bin, ['server', `-config=${configFile}`], {
    logFile: options.logFile,
  });
  try {
    const health = (): Promise<number> =>
      waitFor('OpenBao', async () => (await fetch(`${addr}/v1/sys/health`)).status, {
        timeoutMs: 30_000,
        abort: service.exited,
      });
    let status = await health();
    const initFile = path.join(options.dataDir, 'init.json');
    if (status === 501) {
      const init = await bao<InitResult>(addr, 'PUT', '/v1/sys/init', undefined, {
        secret_shares: 1,
        secret_threshold: 1,
      });
      await writeFile(initFile, JSON.stringify(init), { mode: 0o600 });
      status = await health();
    }
    const init = JSON.parse(await readFile(initFile, 'utf8')) as InitResult;
    const unsealKey = init.keys_base64[0];
    if (status === 503 && unsealKey) {
      await bao(addr, 'PUT', '/v1/sys/unseal', undefined, { key: unsealKey });
    }
    await waitFor(
      'OpenBao (unsealed and active)',
      async () => {
        const s = (await fetch(`${addr}/v1/sys/health`)).status;
        if (s !== 200) throw new Error(`health ${s}`);
      },
      { timeoutMs: 30_000, abort: service.exited },
    );
    const mounts = await bao<Record<string, unknown>>(
      addr,
      'GET',
      '/v1/sys/mounts',
      init.root_token,
    );
    if (!(`${kvMount}/` in mounts)) {
      await bao(addr, 'POST', `/v1/sys/mounts/${kvMount}`, init.root_token, {
        type: 'kv',
        options: { version: '2' },
      });
    }
    return { addr, token: init.root_token, kvMount, service };
  } catch (err) {
    await service.stop();
    throw new DevstackError(
      'ROT_DEV_OPENBAO_START',
      `${err instanceof Error ? err.message : String(err)}\n--- ${options.logFile} ---\n${service.logTail()}`,
      `If ${options.dataDir} is from an older run and its init.json is gone, remove the folder to start fresh.`,
    );
  }
}

async function bao<T = unknown>(
  addr: string,
  method: string,
  apiPath: string,
  token?: string,
  body?: unknown,
): Promise<T> {
  const res = await fetch(`${addr}${apiPath}`, {
    method,
    headers: {
      'content-type': 'application/json',
      ...(token ? { 'x-vault-token': token } : {}),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`OpenBao ${method} ${apiPath} answered HTTP ${res.status}`);
  return (text ? JSON.parse(text) : {}) as T;
}
