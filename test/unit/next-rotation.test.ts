import { describe, expect, it } from 'vitest';
import { isValidCron, isValidTimeZone, nextRotationAt } from '../../schedule';
import { SecretType, policyFor } from '../../domain';
import type { MaintenanceWindow, Schedule } from '../../domain';

const policy = (schedule: Schedule, maintenanceWindow?: MaintenanceWindow) =>
  policyFor(SecretType.ApiKey, { schedule, maintenanceWindow });
const next = (schedule: Schedule, from: string, window?: MaintenanceWindow) =>
  nextRotationAt(policy(schedule, window), new Date(from)).toISOString();
/** Due at once, so a test sees only what the window does. */
const now: Schedule = { kind: 'interval', everySeconds: 0 };

describe('next rotation from the schedule', () => {
  it('adds the interval to the last rotation', () => {
    expect(next({ kind: 'interval', everySeconds: 3600 }, '2025-01-01T00:00:00Z')).toBe(
      '2025-01-01T01:00:00.000Z',
    );
  });

  it('takes the next cron occurrence in UTC, strictly after the given time', () => {
    const mondays: Schedule = { kind: 'cron', expression: '30 4 * * 1' };
    expect(next(mondays, '2025-01-01T00:00:00Z')).toBe('2025-01-06T04:30:00.000Z');
    expect(next(mondays, '2025-01-06T04:30:00Z')).toBe('2025-01-13T04:30:00.000Z');
  });

  it('keeps a cron at the same wall-clock hour in New York across the March DST change', () => {
    const nineAm: Schedule = {
      kind: 'cron',
      expression: '0 9 * * *',
      timeZone: 'America/New_York',
    };
    // 09:00 EST is 14:00Z; after clocks go forward on 9 March, 09:00 EDT is 13:00Z.
    expect(next(nineAm, '2025-03-08T14:00:00Z')).toBe('2025-03-09T13:00:00.000Z');
    expect(next(nineAm, '2025-03-09T13:00:00Z')).toBe('2025-03-10T13:00:00.000Z');
  });

  it('fails without retrying on a cron it cannot read', () => {
    expect(() => next({ kind: 'cron', expression: '61 * * * *' }, '2025-01-01T00:00:00Z')).toThrow(
      /invalid cron/,
    );
  });
});

describe('next rotation inside a maintenance window', () => {
  const saturdayNight: MaintenanceWindow = {
    timeZone: 'Europe/Berlin',
    days: [6],
    start: '01:00',
    end: '05:00',
  };

  it('waits for the next window day when due outside the window', () => {
    // Due on a Wednesday; Saturday 01:00 CET is Friday 24:00 UTC.
    expect(next(now, '2025-01-08T12:00:00Z', saturdayNight)).toBe('2025-01-11T00:00:00.000Z');
    // At the window's end (exclusive), the next opening is a week later.
    expect(next(now, '2025-01-11T04:00:00Z', saturdayNight)).toBe('2025-01-18T00:00:00.000Z');
  });

  it('leaves a time already inside the window alone', () => {
    expect(next(now, '2025-01-11T02:00:00Z', saturdayNight)).toBe('2025-01-11T02:00:00.000Z');
  });

  it('treats an end before the start as a window that crosses midnight', () => {
    const fridayNight: MaintenanceWindow = {
      timeZone: 'America/New_York',
      days: [5],
      start: '22:00',
      end: '02:00',
    };
    // Friday 15:00 EST waits for 22:00 EST.
    expect(next(now, '2025-01-10T20:00:00Z', fridayNight)).toBe('2025-01-11T03:00:00.000Z');
    // Saturday 01:00 EST is still inside Friday's window.
    expect(next(now, '2025-01-11T06:00:00Z', fridayNight)).toBe('2025-01-11T06:00:00.000Z');
    // Saturday 03:00 EST is after it closed, so the next Friday.
    expect(next(now, '2025-01-11T08:00:00Z', fridayNight)).toBe('2025-01-18T03:00:00.000Z');
  });

  it('opens a window whose start is skipped by DST at the moment clocks go forward', () => {
    const sundayEarly: MaintenanceWindow = {
      timeZone: 'America/New_York',
      days: [0],
      start: '02:00',
      end: '04:00',
    };
    // 02:00 does not exist on 9 March 2025 in New York; 03:00 EDT (07:00Z) follows 01:59 EST.
    expect(next(now, '2025-03-08T12:00:00Z', sundayEarly)).toBe('2025-03-09T07:00:00.000Z');
  });

  it('opens a window whose start repeats when clocks go back at its first occurrence', () => {
    const sundayEarly: MaintenanceWindow = {
      timeZone: 'America/New_York',
      days: [0],
      start: '01:30',
      end: '03:00',
    };
    // 01:30 happens twice on 2 November 2025: first as EDT (05:30Z).
    expect(next(now, '2025-11-01T12:00:00Z', sundayEarly)).toBe('2025-11-02T05:30:00.000Z');
  });

  it('applies the window after a cron schedule', () => {
    const daily: Schedule = { kind: 'cron', expression: '0 12 * * *' };
    expect(next(daily, '2025-01-08T13:00:00Z', saturdayNight)).toBe('2025-01-11T00:00:00.000Z');
  });

  it('fails when no window opens within the search bound', () => {
    expect(() => next(now, '2025-01-08T12:00:00Z', { ...saturdayNight, days: [] })).toThrow(
      /no maintenance window/,
    );
  });
});

describe('schedule validation', () => {
  it('accepts five- and six-field crons and aliases', () => {
    for (const good of ['0 3 * * 1-5', '*/15 * * * *', '0 0 3 * * THU', '@daily']) {
      expect(isValidCron(good), good).toBe(true);
    }
    expect(isValidCron('0 3 * * *', 'America/New_York')).toBe(true);
  });

  it('refuses malformed, padded, random and out-of-range crons', () => {
    for (const bad of ['61 * * * *', 'not a cron', '* * *', '', '0 0 31 2 *', 'H 3 * * *']) {
      expect(isValidCron(bad), bad).toBe(false);
    }
    expect(isValidCron('0 3 * * *', 'Mars/Olympus')).toBe(false);
  });

  it('accepts IANA zone names and refuses others', () => {
    expect(isValidTimeZone('UTC')).toBe(true);
    expect(isValidTimeZone('Europe/Berlin')).toBe(true);
    for (const bad of ['Mars/Olympus', '+05:00', '', 'GMT+5']) {
      expect(isValidTimeZone(bad), bad).toBe(false);
    }
  });
});
