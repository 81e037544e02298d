import { mkdir, mkdtemp, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  STALE_BUNDLE_MS,
  bundlePath,
  ensureWorkflowBundle,
  pruneStaleBundles,
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
  it('deletes bundles of other sources no worker has started from for a week, keeping the one in use and anything that is not a bundle', async () => {
    const dir = await tempDir();
    const now = Date.now();
    const inUse = bundlePath(dir, 'a'.repeat(16));
    const recent = bundlePath(dir, 'b'.repeat(16));
    const stale = bundlePath(dir, 'c'.repeat(16));
    const other = path.join(dir, 'notes.txt');
    for (const file of [inUse, recent, stale, other]) await writeFile(file, '//');
    const daysAgo = (days: number) => (now - days * 24 * 3600 * 1000) / 1000;
    await utimes(inUse, daysAgo(30), daysAgo(30));
    await utimes(recent, daysAgo(6), daysAgo(6));
    await utimes(stale, daysAgo(8), daysAgo(8));
    await utimes(other, daysAgo(30), daysAgo(30));

    expect(await pruneStaleBundles(dir, inUse, now)).toEqual([path.basename(stale)]);
    expect((await readdir(dir)).sort()).toEqual(
      [inUse, recent, other].map((f) => path.basename(f)).sort(),
    );
    // The bundle in use is touched: it stays for another week of not being started from.
    expect(now - (await stat(inUse)).mtimeMs).toBeLessThan(STALE_BUNDLE_MS);
  });

  it('prunes stale bundles when a worker starts from the cached one', async () => {
    const dir = await tempDir();
    const cached = bundlePath(dir, await workflowSourceHash());
    const stale = bundlePath(dir, 'd'.repeat(16));
    await writeFile(cached, '// a bundle built earlier');
    await writeFile(stale, '// a bundle of older sources');
    const longAgo = (Date.now() - 2 * STALE_BUNDLE_MS) / 1000;
    await utimes(stale, longAgo, longAgo);
    expect(await ensureWorkflowBundle(dir)).toBe(cached);
    expect(await readdir(dir)).toEqual([path.basename(cached)]);
  });
});
