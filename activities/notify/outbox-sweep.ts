import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import type { NotifierWakeups } from './wakeups';

const RETRY_INITIAL_MS = 1_000;
const RETRY_MAX_MS = 60_000;
const WAKE_PARALLEL = 20;

/** Tenants with events no digest has taken yet (the outbox's partial index on waiting rows). */
export async function tenantsWithWaitingEvents(db: Kysely<Database>): Promise<string[]> {
  const rows = await db
    .selectFrom('notification_outbox')
    .select('tenant_id')
    .distinct()
    .where('digest_id', 'is', null)
    .execute();
  return rows.map((r) => r.tenant_id);
}

/** Wakes these tenants' notifiers, some side by side; a failed wake-up is owed, never thrown. */
async function wakeAll(wakeups: Pick<NotifierWakeups, 'wake'>, tenants: string[]): Promise<void> {
  for (let i = 0; i < tenants.length; i += WAKE_PARALLEL)
    await Promise.all(tenants.slice(i, i + WAKE_PARALLEL).map((t) => wakeups.wake(t)));
}

export interface OutboxSweepOptions {
  db: Kysely<Database>;
  wakeups: Pick<NotifierWakeups, 'wake'>;
  /** Also sweep every this many seconds (ROTOR_NOTIFY_OUTBOX_SWEEP_SECONDS); 0: at startup only. */
  everySeconds: number;
  /** False once the owning worker is shutting down: no sweep starts after that. */
  active?: () => boolean;
  log?: (message: string, fields: Record<string, number>) => void;
}

export interface OutboxSweeps {
  /** Settles once the startup query has been tried (its wake-ups go on in the background). */
  firstQuery: Promise<void>;
  stop(): void;
}

/**
 * The worker's outbox sweeps: one at startup, for events whose writer died before waking their
 * notifier (a wake-up it owed lived only in its memory), retried until the database answers; then,
 * only if configured, one every `everySeconds`. Nothing else reads the outbox while it is idle.
 */
export function startOutboxSweeps(options: OutboxSweepOptions): OutboxSweeps {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const running = (): boolean => !stopped && (options.active?.() ?? true);
  const later = (ms: number, run: () => Promise<void>): void => {
    if (!running()) return;
    timer = setTimeout(() => void run(), ms);
    // The outbox keeps the events; a pending sweep never keeps a process alive.
    timer.unref();
  };
  /** One sweep; says whether its query got an answer. */
  const sweep = async (what: string): Promise<boolean> => {
    if (!running()) return true;
    let tenants: string[];
    try {
      tenants = await tenantsWithWaitingEvents(options.db);
    } catch {
      return false;
    }
    if (tenants.length > 0) options.log?.(`${what} wakes notifiers`, { tenants: tenants.length });
    void wakeAll(options.wakeups, tenants);
    return true;
  };
  const periodic = async (): Promise<void> => {
    // A failed one waits for the next period; the rows wait in the outbox meanwhile.
    await sweep('periodic outbox sweep');
    later(options.everySeconds * 1000, periodic);
  };
  const startup = async (retryMs: number): Promise<void> => {
    if (!(await sweep('outbox startup sweep'))) {
      later(retryMs, () => startup(Math.min(retryMs * 2, RETRY_MAX_MS)));
      return;
    }
    if (options.everySeconds > 0) later(options.everySeconds * 1000, periodic);
  };
  return {
    firstQuery: startup(RETRY_INITIAL_MS),
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
  };
}
