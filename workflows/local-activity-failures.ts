import {
  ActivityFailure,
  ApplicationFailure,
  CancelledFailure,
  TemporalFailure,
} from '@temporalio/workflow';

/**
 * A local activity that fails for good rejects with its failure itself (an ApplicationFailure or
 * a TimeoutFailure), where a regular activity's is wrapped in an ActivityFailure. Wrapped here
 * the same way, so the lifecycle's catches and errorTypeOf treat both alike (unwrapped, the
 * failure would fail the workflow).
 */
export function asActivityFailures<T extends object>(acts: T): T {
  return new Proxy(acts, {
    get(target, name) {
      const found: unknown = Reflect.get(target, name);
      if (typeof found !== 'function' || typeof name !== 'string') return found;
      const fn = found as (...args: unknown[]) => Promise<unknown>;
      return async (...args: unknown[]): Promise<unknown> => {
        try {
          return await fn(...args);
        } catch (err) {
          if (!(err instanceof TemporalFailure)) throw err;
          if (err instanceof ActivityFailure || err instanceof CancelledFailure) throw err;
          const final = err instanceof ApplicationFailure && err.nonRetryable;
          throw new ActivityFailure(
            err.message,
            name,
            undefined,
            final ? 'NON_RETRYABLE_FAILURE' : 'MAXIMUM_ATTEMPTS_REACHED',
            undefined,
            err,
          );
        }
      };
    },
  });
}
