import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HINTS } from '../../cli/hints';
import { CLI_OPERATIONS } from '../../cli/operations';
import { buildProgram, commandPaths } from '../../cli/program';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { createTestRotor } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

describe('CLI parity: every API operation has a rotor command', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let operations: string[] = [];
  beforeAll(async () => {
    rotor = await createTestRotor();
    api = await createTestApi(rotor);
    const doc = await api.app.inject({ method: 'GET', url: '/openapi.json' });
    operations = Object.entries(doc.json<{ paths: Record<string, object> }>().paths)
      .filter(([path]) => path.startsWith('/api/v1/'))
      .flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`));
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  it('maps each operation in the OpenAPI document to a command, and names no operation that is gone', () => {
    expect(operations.length).toBeGreaterThan(30);
    const unmapped = operations.filter((op) => !(op in CLI_OPERATIONS));
    expect(unmapped, 'add a command and a row in cli/operations.ts').toEqual([]);
    const stale = Object.keys(CLI_OPERATIONS).filter((op) => !operations.includes(op));
    expect(stale, 'cli/operations.ts names operations the API no longer has').toEqual([]);
  });

  it('maps each operation to a command the program really has', () => {
    const commands = new Set(commandPaths(buildProgram()));
    const missing = Object.entries(CLI_OPERATIONS).filter(([, command]) => !commands.has(command));
    expect(missing, 'these commands are not registered in cli/program.ts').toEqual([]);
  });

  it('offers --json on every command, as one program-wide option', () => {
    const program = buildProgram();
    expect(program.options.map((o) => o.long)).toContain('--json');
  });

  it('says what to do for every error code the API documents for a state or token refusal, or an outage', () => {
    for (const code of [
      'ROT_ERR_TOKEN_REVOKED',
      'ROT_ERR_TOKEN_EXPIRED',
      'ROT_ERR_UNAUTHENTICATED',
      'ROT_ERR_FORBIDDEN',
      'ROT_ERR_NEEDS_ATTENTION',
      'ROT_ERR_NOT_NEEDS_ATTENTION',
      'ROT_ERR_PAUSED',
      'ROT_ERR_NOT_RUNNING',
      'ROT_ERR_VALIDATION',
      'ROT_ERR_LAST_ADMIN_TOKEN',
      'ROT_ERR_DEPENDENCY_UNAVAILABLE',
    ]) {
      expect(HINTS[code], code).toMatch(/\w/);
    }
  });
});
