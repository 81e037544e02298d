import type { Client } from '@temporalio/client';
import { notifierWorkflowId, outboxHintSignal } from '../../workflows/notifier-messages';

/** How long one wake-up may take before it counts as failed (the event is already safe). */
const WAKE_DEADLINE_MS = 2_000;
/** Owed wake-ups are retried after this long, doubling up to the maximum while Temporal is away. */
const RETRY_INITIAL_MS = 1_000;
const RETRY_MAX_MS = 60_000;
/** Owed wake-ups retried side by side: a long outage owes one per tenant, not one per event. */
const RETRY_PARALLEL = 20;

/** What waking a notifier needs of a Temporal client (a test injects one that fails). */
export type WakeupClient = Pick<Client, 'workflow' | 'withAbortSignal'>;

/**
 * Wake-ups of tenant notifiers, owed by the process that wrote the outbox rows. The notifier only
 * drains the outbox when woken, so a wake-up that does not get through is kept here and retried
 * until it does; the rows themselves are safe in the database meanwhile. A process that dies
 * owing some leaves them to the next worker's startup sweep (see outbox-sweep.ts).
 */
export interface NotifierWakeups {
  /** Wakes the tenant's notifier (starting it on first use); if that fails, owes it. Never throws. */
  wake(tenantId: string): Promise<void>;
  /** Tenants whose wake-up is owed (each once, however many events wait). */
  owed(): ReadonlySet<string>;
  /** Stops retrying; what is owed stays in the outbox for the next startup sweep. */
  close(): void;
}

export interface NotifierWakeupsOptions {
  client: WakeupClient;
  taskQueue: string;
  /** The digest window a notifier started by a wake-up runs with. */
  digestSeconds: number;
  /** False once the owning worker is shutting down: retrying then would use a closing connection. */
  active?: () => boolean;
  /** Told (without ids or values) when wake-ups are owed or paid after an outage. */
  log?: (message: string, fields: Record<string, number>) => void;
  /**
   * Waits this long before signalling, so that the wake-ups of one tenant asked for meanwhile go
   * out as one signal (0, the default: each wake-up signals at once). See WORKER_COALESCE_MS.
   */
  coalesceMs?: number;
}

/**
 * What the worker coalesces its tenants' wake-ups over. Each signal costs the Temporal server a
 * history event and the notifier a workflow task; a tenant rotating many secrets at once (an
 * emergency) would otherwise send one per rotation. The notifier waits a digest window (60 s by
 * default) before it reads the outbox anyway, so half a second later changes nothing anyone sees.
 */
export const WORKER_COALESCE_MS = 500;

/** One owed-wake-up retrier per worker process, over the worker's Temporal client. */
export function createNotifierWakeups(options: NotifierWakeupsOptions): NotifierWakeups {
  // Tenant → how many times its wake-up was asked for: a retry that began before the last ask
  // may have reached the notifier before that ask's row was written, so it does not settle it.
  const owed = new Map<string, number>();
  // Tenant → its wake-up waiting to be signalled: an event whose row is written before that signal
  // leaves is covered by it (the notifier reads the outbox only after it has the signal).
  const queued = new Map<string, Promise<void>>();
  let timer: NodeJS.Timeout | undefined;
  let delay = RETRY_INITIAL_MS;
  let retrying = false;
  let closed = false;
  const active = (): boolean => !closed && (options.active?.() ?? true);

  async function signal(tenantId: string): Promise<boolean> {
    try {
      await options.client.withAbortSignal(AbortSignal.timeout(WAKE_DEADLINE_MS), () =>
        options.client.workflow.signalWithStart('tenantNotifications', {
          workflowId: notifierWorkflowId(tenantId),
          taskQueue: options.taskQueue,
          args: [{ tenantId, digestSeconds: options.digestSeconds }],
          signal: outboxHintSignal,
          signalArgs: [],
        }),
      );
      return true;
    } catch {
      return false;
    }
  }

  function schedule(): void {
    if (timer !== undefined || retrying || owed.size === 0) return;
    if (!active()) {
      options.log?.('worker stopping: owed notifier wake-ups left to the next startup sweep', {
        tenants: owed.size,
      });
      owed.clear();
      return;
    }
    timer = setTimeout(() => {
      timer = undefined;
      void retry();
    }, delay);
    // Owed wake-ups never keep a process alive: the outbox holds the events, not this set.
    timer.unref();
  }

  async function retry(): Promise<void> {
    retrying = true;
    try {
      const tenants = [...owed];
      let failed = 0;
      let settled = 0;
      for (let i = 0; i < tenants.length && active(); i += RETRY_PARALLEL) {
        const chunk = tenants.slice(i, i + RETRY_PARALLEL);
        const results = await Promise.all(chunk.map(([t]) => signal(t)));
        chunk.forEach(([t, asked], j) => {
          if (!results[j]) failed += 1;
          else if (owed.get(t) === asked) {
            owed.delete(t);
            settled += 1;
          }
        });
      }
      delay = failed > 0 ? Math.min(delay * 2, RETRY_MAX_MS) : RETRY_INITIAL_MS;
      if (settled > 0 && failed === 0)
        options.log?.('owed notifier wake-ups delivered', { tenants: settled });
    } finally {
      retrying = false;
      schedule();
    }
  }

  /** One signal now; if it does not get through, the wake-up is owed and retried. */
  async function sendOrOwe(tenantId: string): Promise<void> {
    if (!active()) return;
    if (await signal(tenantId)) return;
    if (owed.size === 0) options.log?.('notifier wake-up failed; retrying in the background', {});
    owed.set(tenantId, (owed.get(tenantId) ?? 0) + 1);
    schedule();
  }

  return {
    async wake(tenantId) {
      if (!active()) return;
      // Already owed: the next retry wakes this tenant's notifier for this event too.
      const asked = owed.get(tenantId);
      if (asked !== undefined) {
        owed.set(tenantId, asked + 1);
        return;
      }
      const riding = queued.get(tenantId);
      if (riding) return riding;
      if ((options.coalesceMs ?? 0) > 0) {
        const sent = (async () => {
          await new Promise((resolve) => setTimeout(resolve, options.coalesceMs).unref());
          // From here on a new row needs a signal of its own: this one may arrive before it.
          queued.delete(tenantId);
          await sendOrOwe(tenantId);
        })();
        queued.set(tenantId, sent);
        return sent;
      }
      await sendOrOwe(tenantId);
    },
    owed: () => new Set(owed.keys()),
    close() {
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
      owed.clear();
    },
  };
}
