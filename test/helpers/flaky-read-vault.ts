import { VaultKv } from '../../vault';

/** The real Vault client: a value staged while `failReads` is on cannot be read back. */
export class FlakyReadVault extends VaultKv {
  failReads = false;
  private readonly staged = new Set<string>();
  override async write(path: string, data: Record<string, unknown>, cas: number) {
    if (this.failReads && path.startsWith('rotor-staging/')) this.staged.add(path);
    return super.write(path, data, cas);
  }
  override async read(path: string, version?: number) {
    if (this.failReads && this.staged.has(path)) throw new Error('injected: read failed');
    return super.read(path, version);
  }
}
