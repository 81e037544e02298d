/**
 * Maintenance windows: when one opens, in its own time zone. Pure calendar arithmetic over Intl,
 * with no other dependency, so the lifecycle workflow can compute a window's opening itself.
 */
import { ApplicationFailure } from '@temporalio/common';
import { ErrorType } from '../domain';
import type { MaintenanceWindow } from '../domain';

const MINUTE_MS = 60_000;
const DAY_MS = 86_400_000;
/** A weekly window always recurs within a week; one spare day covers a window open since yesterday. */
const WINDOW_SEARCH_DAYS = 8;
const CLOCK = /^([01]\d|2[0-3]):([0-5]\d)$/;

/** An IANA zone name the runtime's Intl knows ('Europe/Paris', 'UTC'); offsets are refused. */
export function isValidTimeZone(tz: string): boolean {
  if (!/^[A-Za-z]/.test(tz)) return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

function invalidPolicy(message: string): ApplicationFailure {
  // Retrying cannot repair a policy, so the activity fails at once instead of backing off.
  return ApplicationFailure.nonRetryable(message, ErrorType.ValidationFailed);
}

/** The earliest instant at or after `due` inside one of the window's openings. */
export function earliestInWindow(window: MaintenanceWindow, due: Date): Date {
  const { timeZone } = window;
  const start = parseClock(window.start);
  const end = parseClock(window.end);
  if (!isValidTimeZone(timeZone) || start === null || end === null || start === end) {
    throw invalidPolicy('invalid maintenance window');
  }
  const crossesMidnight = end < start;
  const dueDay = wallClock(timeZone, due.getTime()).day;
  // Openings in date order never overlap, so the first one still open at `due` is the earliest.
  for (let offset = -1; offset < WINDOW_SEARCH_DAYS; offset++) {
    const day = dueDay + offset * DAY_MS;
    if (!window.days.includes(new Date(day).getUTCDay())) continue;
    const opens = toInstant(timeZone, day + start * MINUTE_MS);
    const closes = toInstant(timeZone, day + (crossesMidnight ? DAY_MS : 0) + end * MINUTE_MS);
    if (closes <= due.getTime() || closes <= opens) continue;
    return new Date(Math.max(opens, due.getTime()));
  }
  throw invalidPolicy(`no maintenance window opens within ${WINDOW_SEARCH_DAYS} days`);
}

/** Minutes after midnight for 'HH:MM', or null. */
function parseClock(clock: string): number | null {
  const match = CLOCK.exec(clock);
  return match ? Number(match[1]) * 60 + Number(match[2]) : null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

/**
 * Wall-clock time in `timeZone` at `instant`, encoded as if it were UTC milliseconds, so calendar
 * arithmetic can use Date.UTC. `day` is that local date's midnight in the same encoding.
 */
function wallClock(timeZone: string, instant: number): { local: number; day: number } {
  let format = formatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, format);
  }
  const parts: Record<string, number> = {};
  for (const part of format.formatToParts(new Date(instant))) parts[part.type] = Number(part.value);
  const at = (name: string): number => parts[name] ?? 0;
  const year = at('year');
  const month = at('month') - 1;
  const date = at('day');
  const local = Date.UTC(year, month, date, at('hour'), at('minute'), at('second'));
  return { local: local + (instant % 1000), day: Date.UTC(year, month, date) };
}

/** The zone's offset from UTC at `instant`, in milliseconds. */
function offsetAt(timeZone: string, instant: number): number {
  return wallClock(timeZone, instant).local - instant;
}

/**
 * The instant a wall-clock time (UTC-encoded, as above) happens in `timeZone`. Like Temporal's
 * 'compatible' choice: a time repeated when clocks go back takes its first occurrence, and a time
 * skipped when clocks go forward moves forward by the gap (02:30 becomes 03:30).
 */
function toInstant(timeZone: string, local: number): number {
  // Zones change offset at most once in a day, so the offsets a day either side are the candidates.
  const before = local - offsetAt(timeZone, local - DAY_MS);
  const after = local - offsetAt(timeZone, local + DAY_MS);
  const matches = [before, after].filter((t) => wallClock(timeZone, t).local === local);
  return matches.length > 0 ? Math.min(...matches) : before;
}
