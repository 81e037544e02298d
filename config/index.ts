export { KV_PATH, envSchema, toConfig } from './schema';
export type { Config, Env, NotificationConfig, WorkerSettings } from './schema';
export { loadConfig, loadConfigOrExit, ConfigError } from './load';
