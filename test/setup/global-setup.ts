import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { sql } from 'kysely';
import { workflowBundleOptions } from '../../workers/workflow-bundle-options';
import type { TestProject } from 'vitest/node';
import { createDb, migrateOrThrow } from '../../db';
import { startStack, stderrProgress } from '../../devstack';
import { REPO_ROOT } from '../../devstack/paths';
import { startRunMoto } from './moto-setup';
import './stack-info';

/**
 * Starts the real servers once for the whole run, on free loopback ports in a fresh temp folder,
 * so nothing depends on what an earlier run or session left behind.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const stateDir = await mkdtemp(path.join(os.tmpdir(), 'rotor-test-'));
  // PostgreSQL runs as another user when we are root; it must be able to pass through.
  await chmod(stateDir, 0o711);
  const stack = await startStack({ stateDir, ports: 'free', progress: stderrProgress, fast: true });
  let moto: Awaited<ReturnType<typeof startRunMoto>> | undefined;
  try {
    moto = await startRunMoto(stateDir);
    project.provide('moto', moto.info);
    const db = createDb(stack.databaseUrl, { max: 1 });
    try {
      await migrateOrThrow(db);
    } finally {
      await db.destroy();
    }
    // Test files set up PostgreSQL targets concurrently, and each reads pg_stat_statements: two
    // creating the extension at the same moment collide on its unique name (IF NOT EXISTS is not
    // race-free), so it is made once here.
    const targets = createDb(stack.targetDatabaseUrl, { max: 1 });
    try {
      await sql`create extension if not exists pg_stat_statements`.execute(targets);
    } finally {
      await targets.destroy();
    }

    // Bundled as workers bundle it (preloaded modules included), so tests run what production runs.
    const { code } = await bundleWorkflowCode({
      ...workflowBundleOptions(path.join(REPO_ROOT, 'workflows', 'index.ts')),
      logger: {
        log: () => undefined,
        trace: () => undefined,
        debug: () => undefined,
        info: () => undefined,
        warn: console.warn,
        error: console.error,
      },
    });
    const workflowBundlePath = path.join(stateDir, 'workflow-bundle.js');
    await writeFile(workflowBundlePath, code);

    project.provide('stack', {
      temporalAddress: stack.temporalAddress,
      temporalUiUrl: stack.temporalUiUrl,
      vaultAddr: stack.vaultAddr,
      vaultToken: stack.vaultToken,
      kvMount: stack.kvMount,
      databaseUrl: stack.databaseUrl,
      targetDatabaseUrl: stack.targetDatabaseUrl,
      postgresAdminUrl: stack.postgresAdminUrl,
      redisAdminUrl: stack.redisAdminUrl,
      workflowBundlePath,
    });
  } catch (err) {
    await moto?.stop();
    await stack.stop();
    throw err;
  }
  return async () => {
    await moto?.stop();
    await stack.stop();
    await rm(stateDir, { recursive: true, force: true });
  };
}
