import { Context } from '@temporalio/activity';
import type { Logger } from '@temporalio/common';

const silent: Logger = {
  log: () => undefined,
  trace: () => undefined,
  debug: () => undefined,
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};

/**
 * The running activity's logger: it goes to the worker's pino logger with the workflow id,
 * activity type and (from the worker's interceptor) the rotation id on every line. Outside an
 * activity, as in the benchmark's direct baseline, lines are dropped rather than thrown on.
 * Log ids, versions and states only: never a value.
 */
export function activityLog(): Logger {
  try {
    return Context.current().log;
  } catch {
    return silent;
  }
}
