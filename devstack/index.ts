export { startStack, PORT_ENV_VARS, ENGINE_DATABASE, TARGET_DATABASE } from './stack';
export type { Stack, StackPorts } from './stack';
export { DevstackError } from './errors';
export { stderrProgress, silentProgress } from './progress';
export type { Progress } from './progress';
export { ensureOpenBao, ensureTemporalCli } from './tools';
export type { ToolOptions } from './tools';
export { freePort } from './ports';
