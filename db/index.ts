export { createDb } from './connect';
export { migrateToLatest } from './migrate';
export type * from './schema';
