import nodeVault from 'node-vault';
import { VaultKv } from '../../vault';
import type { Config } from '../../config';

/** The real Vault client, remembering each value it is asked to write (for leak checks). */
export class RecordingVault extends VaultKv {
  readonly written: string[] = [];
  /** Where each value was written, in order (the staging path, then the consumer path). */
  readonly writes: { path: string; value: string }[] = [];
  constructor(config: Config) {
    super(
      nodeVault({ apiVersion: 'v1', endpoint: config.vault.addr, token: config.vault.token }),
      config.vault.kvMount,
    );
  }
  override write(path: string, data: Record<string, unknown>, cas: number) {
    if (typeof data.value === 'string') {
      this.written.push(data.value);
      this.writes.push({ path, value: data.value });
    }
    return super.write(path, data, cas);
  }
}

/** A value as it could appear in a message or history: raw, base64, base64url, JSON-encoded. */
export function leakForms(value: string): string[] {
  return [
    value,
    Buffer.from(value).toString('base64'),
    Buffer.from(value).toString('base64url'),
    Buffer.from(JSON.stringify(value)).toString('base64'),
  ];
}

/**
 * A history or description as searchable text: its JSON plus every payload's data decoded.
 * A value inside a larger JSON payload is base64 of the whole payload, which base64 of the value
 * alone does not match, so payloads must be decoded before searching.
 */
export function searchableText(proto: unknown): string {
  const decoded: string[] = [];
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(visit);
    if (node === null || typeof node !== 'object') return;
    const record = node as Record<string, unknown>;
    if ('metadata' in record && typeof record.data === 'string') {
      decoded.push(Buffer.from(record.data, 'base64').toString('utf8'));
    } else if ('metadata' in record && record.data instanceof Uint8Array) {
      decoded.push(Buffer.from(record.data).toString('utf8'));
    }
    Object.values(record).forEach(visit);
  };
  const json = JSON.parse(JSON.stringify(proto)) as unknown;
  visit(json);
  visit(proto);
  return [JSON.stringify(json), ...decoded].join('\n');
}
