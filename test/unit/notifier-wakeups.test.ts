import { afterEach, describe, expect, it } from 'vitest';
import { createNotifierWakeups } from '../../activities/notify/wakeups';
import type { NotifierWakeups, WakeupClient } from '../../activities/notify/wakeups';
import { notifierWorkflowId } from '../../workflows';

/** The outer edge only: a Temporal client whose signal-with-start fails, answers, or hangs. */
function fakeTemporal() {
  const state = {
    mode: 'fail' as 'fail' | 'ok' | 'hold',
    signalled: [] as string[],
    release: (): void => undefined,
  };
  const client = {
    withAbortSignal: <R>(_signal: AbortSignal, fn: () => Promise<R>): Promise<R> => fn(),
    workflow: {
      async signalWithStart(_type: string, options: { workflowId: string }) {
        state.signalled.push(options.workflowId);
        if (state.mode === 'fail') throw new Error('14 UNAVAILABLE: connection refused');
        if (state.mode === 'hold')
          await new Promise<void>((resolve) => {
            state.release = resolve;
          });
        return {};
      },
    },
  } as unknown as WakeupClient;
  return { state, client };
}

describe('owed notifier wake-ups', () => {
  let wakeups: NotifierWakeups | undefined;
  afterEach(() => wakeups?.close());

  it('owes a failed wake-up once per tenant, and settles it when Temporal answers', async () => {
    const { state, client } = fakeTemporal();
    wakeups = createNotifierWakeups({ client, taskQueue: 'q', digestSeconds: 1 });
    await wakeups.wake('t1');
    await wakeups.wake('t1');
    await wakeups.wake('t2');
    expect([...wakeups.owed()].sort()).toEqual(['t1', 't2']);
    // The second event of t1 did not try on its own: it rides on the owed wake-up.
    expect(state.signalled).toEqual([notifierWorkflowId('t1'), notifierWorkflowId('t2')]);

    state.mode = 'ok';
    const w = wakeups;
    await expect.poll(() => w.owed().size, { timeout: 10_000, interval: 50 }).toBe(0);
    expect(state.signalled.slice(2).sort()).toEqual(
      [notifierWorkflowId('t1'), notifierWorkflowId('t2')].sort(),
    );
  });

  it('wakes once more a tenant whose wake-up was asked for again while its retry was on the wire', async () => {
    const { state, client } = fakeTemporal();
    wakeups = createNotifierWakeups({ client, taskQueue: 'q', digestSeconds: 1 });
    const w = wakeups;
    await w.wake('t1');
    state.mode = 'hold';
    // The retry's signal is on its way; a new event's row is written and asks for a wake-up.
    await expect.poll(() => state.signalled.length, { timeout: 10_000, interval: 50 }).toBe(2);
    await w.wake('t1');
    state.mode = 'ok';
    state.release();
    // That retry may have reached the notifier before the new row: one more wake-up follows.
    await expect.poll(() => w.owed().size, { timeout: 10_000, interval: 50 }).toBe(0);
    expect(state.signalled).toEqual([1, 2, 3].map(() => notifierWorkflowId('t1')));
  });

  it('stops retrying once its worker is shutting down, leaving the events to the next startup sweep', async () => {
    const { state, client } = fakeTemporal();
    let running = true;
    const messages: string[] = [];
    wakeups = createNotifierWakeups({
      client,
      taskQueue: 'q',
      digestSeconds: 1,
      active: () => running,
      log: (message) => messages.push(message),
    });
    const w = wakeups;
    await w.wake('t1');
    running = false;
    await expect.poll(() => w.owed().size, { timeout: 10_000, interval: 50 }).toBe(0);
    expect(state.signalled).toHaveLength(1);
    expect(messages.some((m) => m.includes('next startup sweep'))).toBe(true);
    // Nothing is tried while stopping: the row waits in the outbox.
    await w.wake('t2');
    expect(state.signalled).toHaveLength(1);
  });

  it("sends one signal for a tenant's wake-ups asked for while its signal waits to leave", async () => {
    const { state, client } = fakeTemporal();
    state.mode = 'ok';
    wakeups = createNotifierWakeups({ client, taskQueue: 'q', digestSeconds: 1, coalesceMs: 50 });
    const w = wakeups;
    await Promise.all([w.wake('t1'), w.wake('t1'), w.wake('t2'), w.wake('t1')]);
    expect([...state.signalled].sort()).toEqual(
      [notifierWorkflowId('t1'), notifierWorkflowId('t2')].sort(),
    );
    expect(w.owed().size).toBe(0);
  });

  it('sends another signal for a wake-up asked for once the waiting one has left', async () => {
    const { state, client } = fakeTemporal();
    state.mode = 'hold';
    wakeups = createNotifierWakeups({ client, taskQueue: 'q', digestSeconds: 1, coalesceMs: 20 });
    const w = wakeups;
    const first = w.wake('t1');
    // The first signal is on the wire: it may reach the notifier before the next row is written.
    await expect.poll(() => state.signalled.length, { timeout: 5_000, interval: 10 }).toBe(1);
    state.mode = 'ok';
    const second = w.wake('t1');
    state.release();
    await Promise.all([first, second]);
    expect(state.signalled).toEqual([notifierWorkflowId('t1'), notifierWorkflowId('t1')]);
  });

  it('owes a coalesced wake-up whose signal fails, like any other', async () => {
    const { state, client } = fakeTemporal();
    wakeups = createNotifierWakeups({ client, taskQueue: 'q', digestSeconds: 1, coalesceMs: 20 });
    const w = wakeups;
    await Promise.all([w.wake('t1'), w.wake('t1')]);
    expect(state.signalled).toEqual([notifierWorkflowId('t1')]);
    expect([...w.owed()]).toEqual(['t1']);
    state.mode = 'ok';
    await expect.poll(() => w.owed().size, { timeout: 10_000, interval: 50 }).toBe(0);
  });
});
