/** A problem with the local stack, phrased for the person at the keyboard: what failed, what to do. */
export class DevstackError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly hint?: string,
  ) {
    super(hint ? `${message}\n  → ${hint}` : message);
    this.name = 'DevstackError';
  }
}
