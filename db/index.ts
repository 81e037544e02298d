export { createDb } from './connect';
export { migrateToLatest, migrateOrThrow } from './migrate';
export type * from './schema';
