import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { envSchema } from '../config';
import type { Database } from '../db';
import type { Policy, SecretType } from '../domain';
import { lifecycleSecret, provisionLifecycles } from './paths';
import { figure, mb, progress } from './report';
import { extrapolateRss, rssStepSizes, settle, workerMemory } from './scale';
import type { WorkerMemory } from './scale';

export const SCALE_GOAL = { secrets: 100_000, rssBytes: 512 * 1024 * 1024 };

/** The worker's workflow cache bound, read as the worker reads it (the bench passes its env on). */
const cacheBound = (): number =>
  envSchema.shape.ROTOR_WORKER_MAX_CACHED_WORKFLOWS.parse(
    process.env.ROTOR_WORKER_MAX_CACHED_WORKFLOWS,
  );

/**
 * Tops the sleeping lifecycles up from `from` to `to` in `steps` steps and prints the worker's
 * memory at each (after provisioning has settled), then the extrapolation to 100,000 from the
 * last two samples, marked as one, and only from samples past the workflow cache bound: below it
 * each secret adds a cached workflow, which stops at the bound. Returns the samples.
 */
export async function measureRssSteps(
  client: Client,
  db: Kysely<Database>,
  options: {
    metricsUrl: string;
    taskQueue: string;
    type: SecretType;
    policy: Policy;
    /** The tenant of the i-th filler secret (spread over several, as real tenants are). */
    tenantOf: (i: number) => string;
    /** Tenants whose rotations must have settled before a sample (besides the fillers'). */
    settleTenants: readonly string[];
    from: number;
    to: number;
    steps: number;
    atStart: WorkerMemory;
  },
): Promise<{ secrets: number; memory: WorkerMemory }[]> {
  const samples: { secrets: number; memory: WorkerMemory }[] = [
    { secrets: 0, memory: options.atStart },
  ];
  const fillerTenants = new Set<string>();
  let have = options.from;
  let filler = 0;
  for (const size of rssStepSizes(options.from, options.to, options.steps)) {
    if (size > have) {
      const secrets = Array.from({ length: size - have }, () => {
        const tenantId = options.tenantOf(filler);
        fillerTenants.add(tenantId);
        return lifecycleSecret(tenantId, `idle-${filler++}`);
      });
      progress(`Scale: provisioning ${secrets.length} more lifecycles to reach ${size}`);
      await provisionLifecycles(client, db, {
        taskQueue: options.taskQueue,
        secrets,
        type: options.type,
        policy: options.policy,
        label: 'scale',
      });
      have = size;
    }
    progress(`Scale: ${have} sleeping; waiting until nothing is rotating or written for 5 s`);
    await settle(db, [...options.settleTenants, ...fillerTenants]);
    const memory = await workerMemory(options.metricsUrl);
    samples.push({ secrets: have, memory });
    figure(
      `worker RSS at ${have} sleeping`,
      `${mb(memory.rss)} (main heap ${mb(memory.heapUsed)})`,
      `${mb(options.atStart.rss)} (same worker, no secrets)`,
      { goal: '≤512 MB at 100,000', size: `${have} sleeping lifecycles, measured` },
    );
  }
  const bound = cacheBound();
  const full = samples.filter((s) => s.secrets > bound);
  const fit = extrapolateRss(
    full.map((s) => ({ secrets: s.secrets, rss: s.memory.rss })),
    SCALE_GOAL.secrets,
  );
  const last = full[full.length - 1];
  if (fit && last) {
    figure(
      'worker RSS at 100,000 (extrapolated)',
      `${mb(fit.atTarget)} (${fit.perThousand >= 0 ? '+' : ''}${mb(fit.perThousand)} per 1,000)`,
      `${mb(options.atStart.rss)} (no secrets)`,
      {
        goal: '≤512 MB',
        size: `NOT measured: a straight line through the samples at ${full[full.length - 2]?.secrets ?? 0} and ${last.secrets}${fit.perThousand < 0 ? ', a fall taken as flat' : ''}`,
      },
    );
  } else {
    process.stdout.write(
      `  no extrapolation to 100,000: it needs two samples past the workflow cache bound (${bound}); --scale above ${bound} with --scale-steps 2 or more\n`,
    );
  }
  return samples;
}
