import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { userInfo } from 'node:os';
import path from 'node:path';
import { DevstackError } from './errors';
import { isExecutable, run, which } from './exec';
import { TOOLS_DIR } from './paths';
import { since, silentProgress } from './progress';
import type { Progress } from './progress';

/** Debian's server and client cores, and the two libraries mariadbd links that slim images lack. */
export const MARIADB_PACKAGES = [
  'mariadb-server-core',
  'mariadb-client-core',
  'liburing2',
  'libaio1',
] as const;

/** A MariaDB unpacked from Debian's packages into .tools/mariadb/<version>/ (never installed). */
export interface MariaDbBinaries {
  /** Debian's version without the epoch, e.g. 10.11.19-0+deb12u1. */
  version: string;
  /** The unpacked tree; the server's basedir is <root>/usr. */
  root: string;
  mariadbd: string;
  installDb: string;
  /** LD_LIBRARY_PATH for liburing and libaio, which the packages above bring along. */
  libDir: string;
  /** Server messages (errmsg.sys), passed as --lc-messages-dir. */
  messagesDir: string;
}

function binariesIn(root: string, version: string): MariaDbBinaries {
  return {
    version,
    root,
    mariadbd: path.join(root, 'usr', 'sbin', 'mariadbd'),
    installDb: path.join(root, 'usr', 'bin', 'mariadb-install-db'),
    libDir: path.join(root, 'usr', 'lib', 'x86_64-linux-gnu'),
    messagesDir: path.join(root, 'usr', 'share', 'mysql'),
  };
}

/**
 * MariaDB's binaries: a copy unpacked earlier into .tools/mariadb/, else Debian's packages fetched
 * with `apt-get download` and unpacked with `dpkg -x` (no system-wide install, no root needed
 * beyond what apt's lists need). The download goes to a scratch folder renamed into place when
 * complete, so an interrupted run is redone from scratch.
 */
export async function ensureMariaDb(
  progress: Progress = silentProgress,
  options: { toolsDir?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<MariaDbBinaries> {
  const { toolsDir = TOOLS_DIR, env = process.env } = options;
  const home = path.join(toolsDir, 'mariadb');
  const cached = await findUnpacked(home);
  if (cached) return cached;

  const apt = await which('apt-get', env);
  const dpkg = await which('dpkg', env);
  const dpkgDeb = await which('dpkg-deb', env);
  if (!apt || !dpkg || !dpkgDeb) {
    throw new DevstackError(
      'ROT_DEV_NO_APT',
      'MariaDB is not unpacked under .tools/mariadb, and apt-get/dpkg are not available to fetch it.',
      `On Debian or Ubuntu, make apt-get and dpkg available; elsewhere install MariaDB 10.11 yourself (packages: ${MARIADB_PACKAGES.join(' ')}) and run it as described in the README.`,
    );
  }

  const scratch = path.join(home, `.partial-${process.pid}`);
  await rm(scratch, { recursive: true, force: true });
  await mkdir(path.join(scratch, 'debs'), { recursive: true });
  const started = Date.now();
  progress.step(`Fetching MariaDB from Debian's packages (${MARIADB_PACKAGES.join(', ')})`);
  try {
    const download = (): ReturnType<typeof run> =>
      run(apt, ['download', ...MARIADB_PACKAGES], { env, cwd: path.join(scratch, 'debs') });
    let result = await download();
    if (result.code !== 0 && userInfo().uid === 0) {
      // A fresh image has no package lists yet; reading them is all `apt-get update` changes.
      progress.step('  apt has no package lists yet: running apt-get update');
      await run(apt, ['update'], { env });
      result = await download();
    }
    if (result.code !== 0) {
      throw new DevstackError(
        'ROT_DEV_MARIADB_DOWNLOAD',
        `apt-get download ${MARIADB_PACKAGES.join(' ')} failed (exit ${String(result.code)}):\n${result.output.slice(-2000)}`,
        'Run `sudo apt-get update` so apt knows these packages (Debian 12 or Ubuntu 22.04+), check that the package mirror is reachable, then retry.',
      );
    }
    const debs = (await readdir(path.join(scratch, 'debs'))).filter((f) => f.endsWith('.deb'));
    const unpacked = path.join(scratch, 'root');
    for (const deb of debs) {
      const x = await run(dpkg, ['-x', path.join(scratch, 'debs', deb), unpacked], { env });
      if (x.code !== 0) {
        throw new DevstackError(
          'ROT_DEV_MARIADB_UNPACK',
          `dpkg -x ${deb} failed (exit ${String(x.code)}):\n${x.output.slice(-2000)}`,
          'Check free disk space under .tools/; the next run retries from scratch.',
        );
      }
    }
    const serverDeb = debs.find((f) => f.startsWith('mariadb-server-core_'));
    const field = serverDeb
      ? await run(dpkgDeb, ['-f', path.join(scratch, 'debs', serverDeb), 'Version'], { env })
      : undefined;
    // 1:10.11.19-0+deb12u1 → 10.11.19-0+deb12u1: the epoch only orders Debian's versions.
    const version = field?.output.trim().replace(/^\d+:/, '');
    if (!version || !/^[0-9][\w.+~-]*$/.test(version)) {
      throw new DevstackError(
        'ROT_DEV_MARIADB_UNPACK',
        `The downloaded packages did not include a readable mariadb-server-core (found: ${debs.join(', ')}).`,
        'Install MariaDB 10.11 yourself and run it as described in the README.',
      );
    }
    const target = path.join(home, version);
    if (!(await isExecutable(binariesIn(unpacked, version).mariadbd))) {
      throw new DevstackError(
        'ROT_DEV_MARIADB_UNPACK',
        'mariadb-server-core did not contain usr/sbin/mariadbd.',
        'Install MariaDB 10.11 yourself and run it as described in the README.',
      );
    }
    try {
      await rename(unpacked, target);
    } catch (err) {
      // Another process (a parallel test file) unpacked the same version first: use its copy.
      if (!(await isExecutable(binariesIn(target, version).mariadbd))) throw err;
    }
    progress.done(`MariaDB ${version} unpacked into ${target} in ${since(started)}`);
    return binariesIn(target, version);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

/** The newest complete copy under .tools/mariadb (scratch folders start with a dot). */
async function findUnpacked(home: string): Promise<MariaDbBinaries | undefined> {
  const entries = await readdir(home).catch(() => [] as string[]);
  const versions = entries
    .filter((e) => !e.startsWith('.'))
    .sort((a, b) => b.localeCompare(a, 'en', { numeric: true }));
  for (const version of versions) {
    const binaries = binariesIn(path.join(home, version), version);
    if ((await isExecutable(binaries.mariadbd)) && (await isExecutable(binaries.installDb))) {
      return binaries;
    }
  }
  return undefined;
}
