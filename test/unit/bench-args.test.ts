import { describe, expect, it } from 'vitest';
import { DEFAULT_SIZES, UsageError, parseSizes, runsPhase } from '../../bench/args';

describe('npm run bench flags', () => {
  it('runs every phase at the default sizes when no flag is given', () => {
    const run = parseSizes([]);
    expect(run).toEqual({ ...DEFAULT_SIZES, only: null });
    expect(runsPhase(run, 'scale')).toBe(true);
    expect(runsPhase(run, 'api-keys')).toBe(true);
  });

  it('runs only the phases --only names, in either spelling, with the other flags', () => {
    const run = parseSizes(['--only', 'api-keys', '--api-key-seconds', '3', '--only=scale']);
    expect(run.only).toEqual(['api-keys', 'scale']);
    expect(run.apiKeySeconds).toBe(3);
    expect(runsPhase(run, 'api-keys')).toBe(true);
    expect(runsPhase(run, 'scale')).toBe(true);
    expect(runsPhase(run, 'throughput')).toBe(false);
  });

  it('refuses an unknown or empty phase list with the usage, naming the phases', () => {
    for (const argv of [['--only', 'api-key'], ['--only'], ['--only=']]) {
      expect(() => parseSizes(argv)).toThrow(UsageError);
      expect(() => parseSizes(argv)).toThrow(/--only needs phase names from: single, throughput/);
    }
  });

  it('takes the API-key pipelining depth as a positive integer', () => {
    expect(parseSizes(['--api-key-pipelining', '10']).apiKeyPipelining).toBe(10);
    expect(() => parseSizes(['--api-key-pipelining', '0'])).toThrow(/positive integer/);
  });
});
