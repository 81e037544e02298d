import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { access, mkdir, readFile, readdir, stat, unlink, utimes } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

/** The repository root: the workflows' sources and everything they may import sit below it. */
const ROOT = path.resolve(__dirname, '..');
/** Folders that no workflow imports: skipped when hashing the sources. */
const NOT_WORKFLOW_SOURCES = new Set([
  'node_modules',
  'test',
  'bench',
  'reports',
  'deploy',
  'scripts',
  'dist',
  'coverage',
]);

/**
 * A hash of everything a workflow bundle is built from: every TypeScript source outside the
 * folders no workflow imports (a superset of what webpack follows from workflows/index.ts, so any
 * change that could alter the bundle changes it), the lock file (the bundled libraries) and the
 * Temporal SDK version. Two workers on the same sources agree on it.
 */
export async function workflowSourceHash(root = ROOT): Promise<string> {
  const hash = createHash('sha256');
  const files = await sourceFiles(root, root);
  for (const file of files.sort()) {
    hash.update(`${file}\0`);
    hash.update(await readFile(path.join(root, file)));
  }
  for (const extra of ['package-lock.json', 'node_modules/@temporalio/worker/package.json']) {
    hash.update(`${extra}\0`);
    hash.update(await readFile(path.join(root, extra)).catch(() => Buffer.from('absent')));
  }
  return hash.digest('hex').slice(0, 16);
}

async function sourceFiles(root: string, dir: string): Promise<string[]> {
  const found: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.')) continue;
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) {
      if (dir === root && NOT_WORKFLOW_SOURCES.has(entry.name)) continue;
      found.push(...(await sourceFiles(root, full)));
    } else if (/\.(ts|mts|cts|js|json)$/.test(entry.name)) {
      found.push(path.relative(root, full));
    }
  }
  return found;
}

/** Where the bundle for these sources is (or would be) cached. */
export const bundlePath = (dir: string, hash: string): string =>
  path.join(dir, `workflows-${hash}.js`);

/**
 * The path of a workflow bundle built from the current sources: from the cache folder if one was
 * built before (by `npm run build:workflows`, an image build, or an earlier start), otherwise
 * built now in a child process. Bundling is webpack's work: done in this process it would leave
 * webpack's modules and garbage in the worker's heap for its whole life (about 100 MB of RSS);
 * in a child, the worker only reads the finished file.
 */
export async function ensureWorkflowBundle(
  dir: string,
  log: (message: string) => void = () => undefined,
): Promise<string> {
  const file = bundlePath(dir, await workflowSourceHash());
  if (
    await access(file).then(
      () => true,
      () => false,
    )
  ) {
    await pruneStaleBundles(dir, file);
    return file;
  }
  log(`Bundling workflows into ${file} (once per source change)`);
  await mkdir(dir, { recursive: true });
  await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', path.join(ROOT, 'workers', 'build-workflow-bundle.ts'), dir],
    { cwd: ROOT, maxBuffer: 16 * 1024 * 1024 },
  ).catch((err: unknown) => {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(
      `bundling the workflows failed: ${stderr.trim().split('\n').slice(-5).join(' | ')}`,
    );
  });
  await pruneStaleBundles(dir, file);
  return file;
}

/** A bundle no worker has started from for this long is deleted from the cache folder. */
export const STALE_BUNDLE_MS = 7 * 24 * 3600 * 1000;
const BUNDLE_FILE = /^workflows-[0-9a-f]{16}\.js$/;

/**
 * Each change of workflow sources leaves a ~2 MB bundle behind, so a checkout (or a bundle
 * volume) grew without end. The bundle in use is touched, so every version still starting
 * workers stays; other bundles untouched for STALE_BUNDLE_MS are deleted. A worker of an old
 * version that starts after its bundle went builds it again, once. Failures are ignored: the
 * cache is an optimisation, never a reason not to start.
 */
export async function pruneStaleBundles(
  dir: string,
  inUse: string,
  now: number = Date.now(),
): Promise<string[]> {
  const removed: string[] = [];
  try {
    await utimes(inUse, now / 1000, now / 1000);
    for (const name of await readdir(dir)) {
      const file = path.join(dir, name);
      if (!BUNDLE_FILE.test(name) || file === inUse) continue;
      const { mtimeMs } = await stat(file);
      if (now - mtimeMs < STALE_BUNDLE_MS) continue;
      await unlink(file);
      removed.push(name);
    }
  } catch {
    // Another worker pruned the same file first, or the folder is read-only: nothing to do.
  }
  return removed;
}
