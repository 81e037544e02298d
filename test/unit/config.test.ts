import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, envSchema, loadConfig } from '../../config';
import { workerTuning } from '../../workers/worker';

const valid = {
  DATABASE_URL: 'postgresql://rotor:pw@127.0.0.1:5432/rotor',
  VAULT_TOKEN: 's.abcdef',
};

describe('configuration', () => {
  it('parses a minimal environment and fills only non-secret defaults', () => {
    const config = loadConfig(valid);
    expect(config.temporal).toEqual({
      address: '127.0.0.1:7233',
      namespace: 'default',
      taskQueue: 'rotor',
    });
    expect(config.vault).toEqual({
      addr: 'http://127.0.0.1:8200',
      token: 's.abcdef',
      kvMount: 'secret',
    });
  });

  it('refuses to start without the secrets, naming each missing variable', () => {
    const error = captureConfigError({});
    expect(error.problems).toEqual(
      expect.arrayContaining([
        'DATABASE_URL is required but not set',
        'VAULT_TOKEN is required but not set',
      ]),
    );
  });

  it('names a malformed variable without echoing its value', () => {
    const error = captureConfigError({
      ...valid,
      DATABASE_URL: 'mysql://u:hunter2@db/x',
      API_PORT: '70000',
    });
    expect(error.message).toContain('DATABASE_URL');
    expect(error.message).toContain('API_PORT');
    expect(error.message).not.toContain('hunter2');
    expect(error.code).toBe('ROT_ERR_CONFIG');
  });

  it('treats an empty variable as unset, so VAULT_TOKEN= is still missing', () => {
    expect(captureConfigError({ ...valid, VAULT_TOKEN: '' }).problems).toContain(
      'VAULT_TOKEN is required but not set',
    );
  });

  it('sweeps the notification outbox at worker startup only, unless a period is set', () => {
    expect(loadConfig(valid).notifications.outboxSweepSeconds).toBe(0);
    expect(
      loadConfig({ ...valid, ROTOR_NOTIFY_OUTBOX_SWEEP_SECONDS: '300' }).notifications
        .outboxSweepSeconds,
    ).toBe(300);
    expect(
      captureConfigError({ ...valid, ROTOR_NOTIFY_OUTBOX_SWEEP_SECONDS: '-1' }).message,
    ).toContain('ROTOR_NOTIFY_OUTBOX_SWEEP_SECONDS');
  });

  it('bounds the worker by default: a cache of 500 workflows, 20 workflow tasks, 50 activities', () => {
    const config = loadConfig(valid);
    expect(config.worker).toEqual({
      maxCachedWorkflows: 500,
      maxConcurrentWorkflowTasks: 20,
      maxConcurrentActivities: 50,
      maxConcurrentLocalActivities: 50,
      stickyQueueTimeoutSeconds: 10,
    });
    expect(config.databasePoolSize).toBe(10);
  });

  it('hands the worker settings to the Temporal worker as its own options', () => {
    const config = loadConfig({
      ...valid,
      ROTOR_WORKER_MAX_CACHED_WORKFLOWS: '2000',
      ROTOR_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '8',
      ROTOR_WORKER_MAX_CONCURRENT_ACTIVITIES: '120',
      ROTOR_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: '30',
      ROTOR_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS: '2.5',
      ROTOR_DATABASE_POOL_SIZE: '25',
    });
    expect(workerTuning(config.worker)).toEqual({
      maxCachedWorkflows: 2000,
      maxConcurrentWorkflowTaskExecutions: 8,
      maxConcurrentActivityTaskExecutions: 120,
      maxConcurrentLocalActivityExecutions: 30,
      stickyQueueScheduleToStartTimeout: 2500,
    });
    expect(config.databasePoolSize).toBe(25);
  });

  it('keeps delivered outbox rows 7 days unless told otherwise (0: for ever)', () => {
    expect(loadConfig(valid).outboxRetentionDays).toBe(7);
    expect(
      loadConfig({ ...valid, ROTOR_NOTIFY_OUTBOX_RETENTION_DAYS: '0' }).outboxRetentionDays,
    ).toBe(0);
    expect(
      captureConfigError({ ...valid, ROTOR_NOTIFY_OUTBOX_RETENTION_DAYS: '-1' }).problems.map(
        (p) => p.split(' ')[0],
      ),
    ).toEqual(['ROTOR_NOTIFY_OUTBOX_RETENTION_DAYS']);
  });

  it('refuses worker settings the SDK would reject, naming each variable', () => {
    const error = captureConfigError({
      ...valid,
      // A cached workflow needs at least two workflow-task slots.
      ROTOR_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: '1',
      ROTOR_WORKER_MAX_CACHED_WORKFLOWS: '-5',
      ROTOR_WORKER_MAX_CONCURRENT_ACTIVITIES: 'lots',
    });
    expect(error.problems.map((p) => p.split(' ')[0]).sort()).toEqual([
      'ROTOR_WORKER_MAX_CACHED_WORKFLOWS',
      'ROTOR_WORKER_MAX_CONCURRENT_ACTIVITIES',
      'ROTOR_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS',
    ]);
  });

  it('documents every variable it reads in .env.example, and nothing else', () => {
    const example = readFileSync(path.join(__dirname, '../../.env.example'), 'utf8');
    const documented = [...example.matchAll(/^([A-Z][A-Z0-9_]+)=/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(envSchema.shape).sort());
  });
});

function captureConfigError(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError');
}
