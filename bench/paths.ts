import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { requestRotation, startSecretLifecycle } from '../control';
import type { Database } from '../db';
import { secretWorkflowId } from '../domain';
import type { Policy, SecretType, TargetSpec } from '../domain';
import type { DirectSecret, StepRecorder, createDirectPath } from './direct';
import { progress } from './report';
import type { RotationPath } from './rotations';
import type { RotationWatcher } from './watcher';

/** A secret whose lifecycle runs on Temporal, by its workflow id. */
export interface LifecycleSecret {
  tenantId: string;
  name: string;
  workflowId: string;
}

/** Rotate-now as the API and the CLI ask for it: the lifecycle's update, answered with the id. */
export function temporalPath(client: Client): RotationPath<LifecycleSecret> {
  return {
    async request(secret) {
      const answer = await requestRotation(client, secret.workflowId, {
        requestedBy: 'bench',
        reason: 'bench',
      });
      return answer.rotationId;
    },
    // The watcher saw every rotation finish: nothing else is owed.
    drain: () => Promise.resolve(),
  };
}

/** The same rotation by direct calls; the chain runs on past promoted, as the workflow does. */
export function directPath(
  direct: ReturnType<typeof createDirectPath>,
  watcher: RotationWatcher,
  onStep?: StepRecorder,
): RotationPath<DirectSecret> {
  const chains: Promise<void>[] = [];
  return {
    request(secret) {
      const rotationId = randomUUID();
      chains.push(
        direct.rotate(secret, rotationId, 'bench', onStep).catch((err: unknown) => {
          const message = err instanceof Error ? err.message : String(err);
          watcher.fail(rotationId, `baseline rotation ${rotationId} failed: ${message}`);
          throw err;
        }),
      );
      return Promise.resolve(rotationId);
    },
    async drain() {
      await Promise.all(chains.splice(0));
    },
  };
}

/**
 * Starts lifecycles with at most `window` still provisioning, and waits until every one has its
 * first version. Progress is counted in the engine database, once a second, with one query.
 */
export async function provisionLifecycles(
  client: Client,
  db: Kysely<Database>,
  options: {
    taskQueue: string;
    secrets: readonly LifecycleSecret[];
    type: SecretType;
    policy: Policy;
    target?: TargetSpec;
    window?: number;
    label: string;
  },
): Promise<number> {
  const { secrets } = options;
  const window = options.window ?? 100;
  const tenants = [...new Set(secrets.map((s) => s.tenantId))];
  const countDone = async (): Promise<number> => {
    const row = await db
      .selectFrom('secrets')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('tenant_id', 'in', tenants)
      .where('current_version', 'is not', null)
      .where('workflow_id', 'like', 'secret/%')
      .executeTakeFirstOrThrow();
    return Number(row.n);
  };
  const before = await countDone();
  const started = Date.now();
  let lastReport = started;
  let next = 0;
  for (;;) {
    const done = (await countDone()) - before;
    if (done >= secrets.length) break;
    while (next < secrets.length && next - done < window) {
      const secret = secrets[next++] as LifecycleSecret;
      await startSecretLifecycle(client, options.taskQueue, {
        tenantId: secret.tenantId,
        name: secret.name,
        type: options.type,
        policy: options.policy,
        requestedBy: 'bench',
        ...(options.target ? { target: options.target } : {}),
      });
    }
    if (Date.now() - lastReport >= 10_000) {
      lastReport = Date.now();
      const rate = done / ((lastReport - started) / 1000);
      progress(`${options.label}: ${done}/${secrets.length} provisioned (${rate.toFixed(1)}/s)`);
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
  return secrets.length / ((Date.now() - started) / 1000);
}

/** Provisions directly, `concurrency` at a time (setup for the baseline's phases). */
export async function provisionDirect(
  direct: ReturnType<typeof createDirectPath>,
  specs: readonly { tenantId: string; name: string }[],
  concurrency: number,
): Promise<{ secrets: DirectSecret[] }> {
  const secrets: DirectSecret[] = new Array<DirectSecret>(specs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < specs.length) {
        const i = next++;
        const spec = specs[i] as { tenantId: string; name: string };
        secrets[i] = await direct.provision(spec.tenantId, spec.name);
      }
    }),
  );
  return { secrets };
}

export function lifecycleSecret(tenantId: string, name: string): LifecycleSecret {
  return { tenantId, name, workflowId: secretWorkflowId(tenantId, name) };
}
