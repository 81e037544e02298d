/** Polls `read` until `accept` holds, for hooks where expect.poll is not allowed (beforeAll). */
export async function pollUntil<T>(
  what: string,
  read: () => Promise<T>,
  accept: (value: T) => boolean,
  { timeout = 60_000, interval = 250 } = {},
): Promise<T> {
  const deadline = Date.now() + timeout;
  let last: T | undefined;
  while (Date.now() < deadline) {
    last = await read();
    if (accept(last)) return last;
    await new Promise((r) => setTimeout(r, interval));
  }
  throw new Error(`${what} not reached in ${timeout} ms; last: ${JSON.stringify(last)}`);
}
