export { VaultKv, VaultOperation, VaultOutcome } from './kv';
export type { KvMetadata, KvVersion, RotorLabels, VaultRequestObserver } from './kv';
export { isPublished, publishStaged, readStaged, writeStaged } from './staging';
export type { StagedValue } from './staging';
