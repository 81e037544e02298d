export { REDACT_KEYS, REDACT_PATHS } from './redact';
export { createLogger } from './logger';
export type { LoggerOptions } from './logger';
export { PinoTemporalLogger } from './temporal-logger';
export { fileAndConsole } from './tee';
