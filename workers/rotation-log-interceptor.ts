import type { LogMetadata } from '@temporalio/common';
import type { ActivityInterceptorsFactory } from '@temporalio/worker';

/** The ids an activity's input may carry that tie its log lines to one rotation. */
function rotationAttributes(args: readonly unknown[]): Record<string, string> {
  const input = args[0];
  if (input === null || typeof input !== 'object') return {};
  const out: Record<string, string> = {};
  for (const key of ['rotationId', 'tenantId', 'secretId'] as const) {
    const value = (input as Record<string, unknown>)[key];
    if (typeof value === 'string') out[key] = value;
  }
  return out;
}

/**
 * Puts the rotation id (with tenant and secret ids) on every line an activity logs, next to the
 * workflow id the SDK already adds. The ids come from the activity's input, which the SDK hands
 * to interceptors only once it starts executing; its own "Activity started" line is written just
 * before that, so this interceptor writes that line itself, with the ids, and
 * {@link isSdkActivityStartLine} lets the logger drop the SDK's.
 */
export const rotationLogInterceptor: ActivityInterceptorsFactory = (ctx) => {
  let attributes: Record<string, string> = {};
  return {
    inbound: {
      async execute(input, next) {
        attributes = rotationAttributes(input.args);
        ctx.log.debug('Activity started');
        return next(input);
      },
    },
    outbound: {
      getLogAttributes(input, next) {
        return next({ ...input, ...attributes });
      },
    },
  };
};

/** The SDK's "Activity started" line, which {@link rotationLogInterceptor} replaces. */
export function isSdkActivityStartLine(message: string, meta: LogMetadata): boolean {
  return message === 'Activity started' && meta.sdkComponent === 'worker';
}
