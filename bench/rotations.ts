import type { RotationWatcher } from './watcher';

/**
 * One way of rotating a secret now. `request` sends the request and resolves with the rotation
 * id once it is accepted; the shared watcher then sees it promoted and finished. Both paths are
 * measured the same way: from just before the request to the audit rows' times.
 */
export interface RotationPath<S> {
  request(secret: S): Promise<string>;
  /** Resolves when every rotation this path started has finished (or rejects on a failure). */
  drain(): Promise<void>;
}

export interface Measured {
  /** Request → promoted, and request → finished, per rotation (ms). */
  toPromoted: number[];
  toFinished: number[];
  /** Rotations per second: first request to the last promotion, and to the last finish. */
  promotedPerSecond: number;
  finishedPerSecond: number;
  seconds: number;
}

function summarise(
  started: number,
  samples: { requestedAt: number; promotedAt: number; finishedAt: number }[],
): Measured {
  const lastPromoted = Math.max(...samples.map((s) => s.promotedAt));
  const lastFinished = Math.max(...samples.map((s) => s.finishedAt));
  return {
    toPromoted: samples.map((s) => s.promotedAt - s.requestedAt),
    toFinished: samples.map((s) => s.finishedAt - s.requestedAt),
    promotedPerSecond: samples.length / ((lastPromoted - started) / 1000),
    finishedPerSecond: samples.length / ((lastFinished - started) / 1000),
    seconds: (lastPromoted - started) / 1000,
  };
}

/** Closed loop: `concurrency` requests in flight; a slot frees when its rotation is promoted. */
export async function closedLoop<S>(
  path: RotationPath<S>,
  watcher: RotationWatcher,
  secrets: readonly S[],
  concurrency: number,
): Promise<Measured> {
  const samples: { requestedAt: number; promotedAt: number; finishedAt: number }[] = [];
  const finishing: Promise<void>[] = [];
  let next = 0;
  const started = Date.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, secrets.length) }, async () => {
      while (next < secrets.length) {
        const secret = secrets[next++] as S;
        const requestedAt = Date.now();
        const rotationId = await path.request(secret);
        await watcher.until(rotationId, 'promoted');
        finishing.push(
          watcher.times(rotationId).then((t) => void samples.push({ requestedAt, ...t })),
        );
      }
    }),
  );
  await Promise.all(finishing);
  await path.drain();
  return summarise(started, samples);
}

/** One rotation at a time, each waited to finished before the next: the unloaded latency. */
export async function oneAtATime<S>(
  path: RotationPath<S>,
  watcher: RotationWatcher,
  secrets: readonly S[],
): Promise<Measured> {
  const samples: { requestedAt: number; promotedAt: number; finishedAt: number }[] = [];
  const started = Date.now();
  for (const secret of secrets) {
    const requestedAt = Date.now();
    const rotationId = await path.request(secret);
    samples.push({ requestedAt, ...(await watcher.times(rotationId)) });
  }
  await path.drain();
  return summarise(started, samples);
}

/**
 * Open loop: requests arrive at a fixed rate whatever the system's state, as users' requests
 * do. Latency counts from each request's scheduled time, so a slow accept is not hidden.
 */
export async function openLoop<S>(
  path: RotationPath<S>,
  watcher: RotationWatcher,
  secrets: readonly S[],
  ratePerSecond: number,
): Promise<Measured & { offeredPerSecond: number }> {
  const samples: { requestedAt: number; promotedAt: number; finishedAt: number }[] = [];
  const inFlight: Promise<void>[] = [];
  const started = Date.now();
  for (const [i, secret] of secrets.entries()) {
    const requestedAt = started + (i * 1000) / ratePerSecond;
    const wait = requestedAt - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    inFlight.push(
      path
        .request(secret)
        .then((id) => watcher.times(id))
        .then((t) => void samples.push({ requestedAt, ...t })),
    );
  }
  await Promise.all(inFlight);
  await path.drain();
  return { ...summarise(started, samples), offeredPerSecond: ratePerSecond };
}
