export { envSchema, toConfig } from './schema';
export type { Config, Env, NotificationConfig } from './schema';
export { loadConfig, loadConfigOrExit, ConfigError } from './load';
