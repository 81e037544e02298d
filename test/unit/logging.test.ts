import { ApplicationFailure } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { PinoTemporalLogger, REDACT_KEYS, createLogger } from '../../logging';
import { isSdkActivityStartLine } from '../../workers/rotation-log-interceptor';

function capture(level: 'trace' | 'info' = 'trace') {
  const lines: Record<string, unknown>[] = [];
  const logger = createLogger({
    name: 'test',
    level,
    destination: {
      write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>),
    },
  });
  return { logger, lines };
}

describe('structured logs', () => {
  it('redact every listed key at the top level and up to three objects deep', () => {
    const { logger, lines } = capture();
    const planted = 'planted-s3cr3t-value';
    for (const key of REDACT_KEYS) {
      logger.info({ [key]: planted }, 'top');
      logger.info({ a: { [key]: planted } }, 'one deep');
      logger.info({ req: { headers: { [key]: planted } } }, 'two deep');
      logger.info({ a: { b: { c: { [key]: planted } } } }, 'three deep');
    }
    expect(lines).toHaveLength(REDACT_KEYS.length * 4);
    expect(JSON.stringify(lines)).not.toContain(planted);
    expect(JSON.stringify(lines)).toContain('[Redacted]');
  });

  it('cover the required names, HTTP credential headers included', () => {
    expect(REDACT_KEYS).toEqual(
      expect.arrayContaining([
        'password',
        'token',
        'secret',
        'value',
        'x-vault-token',
        'authorization',
      ]),
    );
  });

  it('leave ids, versions and states readable', () => {
    const { logger, lines } = capture();
    logger.info({ rotationId: 'r-1', workflowId: 'secret/a/b', version: 3 }, 'Promoted');
    expect(lines[0]).toMatchObject({ rotationId: 'r-1', workflowId: 'secret/a/b', version: 3 });
  });

  it('carry the Temporal SDK’s lines at their level, with its metadata and the error as err', () => {
    const { logger, lines } = capture();
    const temporal = new PinoTemporalLogger(logger);
    temporal.warn('Activity failed', {
      workflowId: 'secret/a/b',
      error: ApplicationFailure.nonRetryable('Vault PUT /x: permission denied', 'Denied'),
    });
    temporal.debug('Activity completed', { workflowId: 'secret/a/b', durationMs: 4 });
    expect(lines).toEqual([
      expect.objectContaining({
        level: 40,
        msg: 'Activity failed',
        workflowId: 'secret/a/b',
      }),
      expect.objectContaining({ level: 20, msg: 'Activity completed', durationMs: 4 }),
    ]);
    expect(lines[0]?.err).toMatchObject({ message: 'Vault PUT /x: permission denied' });
  });

  it('redact a value the SDK passes in its metadata', () => {
    const { logger, lines } = capture();
    new PinoTemporalLogger(logger).info('Activity completed', { input: { value: 'hunter2' } });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('drop only the SDK’s own activity start line, which the worker’s interceptor rewrites', () => {
    const { logger, lines } = capture();
    const temporal = new PinoTemporalLogger(logger, isSdkActivityStartLine);
    temporal.debug('Activity started', { sdkComponent: 'worker', activityType: 'stageVersion' });
    temporal.debug('Activity started', { sdkComponent: 'activity', rotationId: 'r-1' });
    temporal.debug('Activity completed', { sdkComponent: 'worker' });
    expect(lines.map((l) => [l.msg, l.sdkComponent])).toEqual([
      ['Activity started', 'activity'],
      ['Activity completed', 'worker'],
    ]);
  });

  it('respect the configured level', () => {
    const { logger, lines } = capture('info');
    new PinoTemporalLogger(logger).debug('noise');
    logger.debug('more noise');
    expect(lines).toEqual([]);
  });
});
