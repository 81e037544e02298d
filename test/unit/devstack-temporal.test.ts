import { describe, expect, it } from 'vitest';
import { temporalDevServerArgs } from '../../devstack';

const base = { port: 7233, uiPort: 8233, dbFile: '/state/temporal.sqlite' };

/** The value after each occurrence of a repeatable flag. */
function values(args: string[], flag: string): string[] {
  return args.flatMap((arg, i) => (arg === flag ? [args[i + 1] ?? '(missing)'] : []));
}

describe('the Temporal dev server settings', () => {
  it('runs npm start on a write-ahead log fsync-ed at checkpoints, with eager activities on', () => {
    const args = temporalDevServerArgs({ ...base, durability: 'normal' });
    expect(values(args, '--sqlite-pragma')).toEqual(['journal_mode=WAL', 'synchronous=NORMAL']);
    expect(values(args, '--dynamic-config-value')).toEqual([
      'system.enableActivityEagerExecution=true',
    ]);
    expect(values(args, '--db-filename')).toEqual(['/state/temporal.sqlite']);
  });

  it('skips fsync entirely for throwaway test state, keeping the same journal and eager flag', () => {
    const args = temporalDevServerArgs({ ...base, durability: 'off' });
    expect(values(args, '--sqlite-pragma')).toEqual(['journal_mode=WAL', 'synchronous=OFF']);
    expect(values(args, '--dynamic-config-value')).toEqual([
      'system.enableActivityEagerExecution=true',
    ]);
  });

  it('keeps listening on loopback only, on the ports it was given', () => {
    const args = temporalDevServerArgs({ ...base, durability: 'normal' });
    expect(values(args, '--ip')).toEqual(['127.0.0.1']);
    expect(values(args, '--port')).toEqual(['7233']);
    expect(values(args, '--ui-port')).toEqual(['8233']);
  });
});
