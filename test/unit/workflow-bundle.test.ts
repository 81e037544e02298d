import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  bundlePath,
  ensureWorkflowBundle,
  workflowSourceHash,
} from '../../workers/workflow-bundle';

describe('the workflow bundle cache', () => {
  const dirs: string[] = [];
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });
  const tempDir = async (): Promise<string> => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'rotor-bundle-test-'));
    dirs.push(dir);
    return dir;
  };
  const write = async (root: string, file: string, text: string): Promise<void> => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  };

  it('names a bundle by its sources: a workflow or domain change renames it, a test change does not', async () => {
    const root = await tempDir();
    await write(root, 'workflows/index.ts', 'export const a = 1;');
    await write(root, 'domain/policy.ts', 'export const p = 1;');
    await write(root, 'test/unit/x.test.ts', 'it();');
    await write(root, 'package-lock.json', '{}');
    const first = await workflowSourceHash(root);
    expect(await workflowSourceHash(root)).toBe(first);

    await write(root, 'test/unit/x.test.ts', 'it("changed");');
    expect(await workflowSourceHash(root)).toBe(first);

    await write(root, 'domain/policy.ts', 'export const p = 2;');
    const second = await workflowSourceHash(root);
    expect(second).not.toBe(first);

    await write(root, 'package-lock.json', '{"lockfileVersion":3}');
    expect(await workflowSourceHash(root)).not.toBe(second);
  });

  it('uses the cached bundle for the current sources without building anything', async () => {
    const dir = await tempDir();
    const cached = bundlePath(dir, await workflowSourceHash());
    await writeFile(cached, '// a bundle built earlier');
    const told: string[] = [];
    expect(await ensureWorkflowBundle(dir, (m) => told.push(m))).toBe(cached);
    // Nothing was bundled: the worker would have been told so.
    expect(told).toEqual([]);
  });
});
