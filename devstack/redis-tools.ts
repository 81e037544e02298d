import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DevstackError } from './errors';
import { isExecutable, run, which } from './exec';
import { TOOLS_DIR } from './paths';
import { since } from './progress';
import type { Progress } from './progress';
import type { ToolOptions } from './tools';

/** Debian packages that make up a runnable redis-server: the server, its binary, and two libraries. */
export const REDIS_DEBIAN_PACKAGES = ['redis-server', 'redis-tools', 'liblzf1', 'libjemalloc2'];

/** A Redis server binary and the environment it needs (libraries unpacked beside it). */
export interface RedisBinary {
  bin: string;
  env: NodeJS.ProcessEnv;
}

const INSTALL_HINT =
  'Install Redis 6 or newer (`apt-get install redis-server`, or Valkey) and put `redis-server` on PATH, or set REDIS_SERVER to its path.';

/**
 * The Redis server: $REDIS_SERVER, else `redis-server` or `valkey-server` on PATH, else Debian's
 * packages fetched with `apt-get download` and unpacked with `dpkg -x` into .tools/redis/ (no
 * system-wide install, no root needed once the apt lists exist). Same scratch-then-rename rule
 * as the other tools, so an interrupted unpack is redone on the next run.
 */
export async function ensureRedis(
  progress: Progress,
  options: ToolOptions = {},
): Promise<RedisBinary> {
  const { toolsDir = TOOLS_DIR, env = process.env } = options;
  const fromEnv = env.REDIS_SERVER;
  if (fromEnv) {
    if (!(await isExecutable(fromEnv))) {
      throw new DevstackError(
        'ROT_DEV_BAD_TOOL_PATH',
        `REDIS_SERVER is set to "${fromEnv}", which is not an executable file.`,
        'Fix the path, or unset REDIS_SERVER to let Rotor unpack its own copy.',
      );
    }
    return { bin: fromEnv, env };
  }
  const onPath = (await which('redis-server', env)) ?? (await which('valkey-server', env));
  if (onPath) return { bin: onPath, env };

  const home = path.join(toolsDir, 'redis', 'debian');
  const unpacked = (root: string): RedisBinary => ({
    bin: path.join(root, 'usr', 'bin', 'redis-server'),
    env: {
      ...env,
      LD_LIBRARY_PATH: [path.join(root, 'usr', 'lib', 'x86_64-linux-gnu'), env.LD_LIBRARY_PATH]
        .filter(Boolean)
        .join(path.delimiter),
    },
  });
  if (await isExecutable(unpacked(home).bin)) return unpacked(home);

  const aptGet = await which('apt-get', env);
  const dpkg = await which('dpkg', env);
  if (!aptGet || !dpkg) {
    throw new DevstackError(
      'ROT_DEV_NO_REDIS',
      'Redis is not installed, and apt-get/dpkg are not available to unpack Debian’s redis-server.',
      INSTALL_HINT,
    );
  }
  const scratch = `${home}.partial-${process.pid}`;
  await rm(scratch, { recursive: true, force: true });
  const debs = path.join(scratch, 'debs');
  await mkdir(debs, { recursive: true });
  const started = Date.now();
  progress.step(`Fetching Redis from Debian (${REDIS_DEBIAN_PACKAGES.join(', ')}; ~1.5 MB)`);
  let download = await run(aptGet, ['download', ...REDIS_DEBIAN_PACKAGES], { env, cwd: debs });
  if (download.code !== 0 && /Unable to locate package|No packages found/i.test(download.output)) {
    // A fresh machine may have no apt lists yet; one update fixes that (it needs root).
    progress.step('  apt has no package lists yet: running apt-get update once');
    await run(aptGet, ['update', '-qq'], { env });
    download = await run(aptGet, ['download', ...REDIS_DEBIAN_PACKAGES], { env, cwd: debs });
  }
  if (download.code !== 0) {
    await rm(scratch, { recursive: true, force: true });
    throw new DevstackError(
      'ROT_DEV_NO_REDIS',
      `Fetching Redis with \`apt-get download ${REDIS_DEBIAN_PACKAGES.join(' ')}\` failed (exit ${String(download.code)}):\n${download.output.slice(-2000)}`,
      `${INSTALL_HINT} If the package lists are missing, run \`apt-get update\` as root once.`,
    );
  }
  for (const deb of (await readdir(debs)).filter((f) => f.endsWith('.deb'))) {
    const x = await run(dpkg, ['-x', path.join(debs, deb), scratch], { env });
    if (x.code !== 0) {
      await rm(scratch, { recursive: true, force: true });
      throw new DevstackError(
        'ROT_DEV_NO_REDIS',
        `Unpacking ${deb} failed:\n${x.output.slice(-2000)}`,
        INSTALL_HINT,
      );
    }
  }
  await rm(debs, { recursive: true, force: true });
  if (!(await isExecutable(unpacked(scratch).bin))) {
    await rm(scratch, { recursive: true, force: true });
    throw new DevstackError(
      'ROT_DEV_NO_REDIS',
      'The Debian packages did not contain usr/bin/redis-server.',
      INSTALL_HINT,
    );
  }
  await rm(home, { recursive: true, force: true });
  await mkdir(path.dirname(home), { recursive: true });
  await rename(scratch, home).catch(async (err: unknown) => {
    // Another process (a parallel test run) finished first: use its copy.
    await rm(scratch, { recursive: true, force: true });
    if (!(await isExecutable(unpacked(home).bin))) throw err;
  });
  progress.done(`Redis unpacked from Debian packages in ${since(started)}`);
  return unpacked(home);
}
