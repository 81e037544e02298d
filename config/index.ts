export { envSchema, toConfig } from './schema';
export type { Config, Env } from './schema';
export { loadConfig, loadConfigOrExit, ConfigError } from './load';
