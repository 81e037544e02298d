import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestRotation } from '../../control';
import { SecretType } from '../../domain';
import type { MaintenanceWindow, Policy, TargetSpec } from '../../domain';
import {
  approveUpdate,
  breakGlassUpdate,
  pauseSignal,
  resumeSignal,
  retireSignal,
} from '../../workflows';
import type { SecretStatus } from '../../workflows';
import { createTestApi } from '../helpers/api';
import type { TestApi } from '../helpers/api';
import { startBrokenVerifyWorker } from '../helpers/broken-verify';
import type { BrokenVerify } from '../helpers/broken-verify';
import { runCli } from '../helpers/cli';
import { startSecret, waitForStatus } from '../helpers/lifecycle';
import { createTestRotor, uniqueName } from '../helpers/stack';
import type { TestRotor } from '../helpers/stack';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const EVERY_DAY = [0, 1, 2, 3, 4, 5, 6];

/** The start of the current minute, plus `minutes`: window edges are whole minutes. */
const minuteFromNow = (minutes: number): number =>
  Math.floor(Date.now() / MINUTE) * MINUTE + minutes * MINUTE;

/** 'HH:MM' of an instant as a clock `offsetMinutes` ahead of UTC reads it (no Intl involved). */
const clock = (instant: number, offsetMinutes = 0): string =>
  new Date(instant + offsetMinutes * MINUTE).toISOString().slice(11, 16);

/** A daily window from `opens` to `closes`, written in a zone `offsetMinutes` ahead of UTC. */
const dailyWindow = (
  opens: number,
  closes: number,
  timeZone = 'UTC',
  offsetMinutes = 0,
): MaintenanceWindow => ({
  timeZone,
  days: EVERY_DAY,
  start: clock(opens, offsetMinutes),
  end: clock(closes, offsetMinutes),
});

/** Until the current minute has at least `seconds` left, so a window of this minute stays open. */
async function withSecondsLeftInMinute(seconds: number): Promise<void> {
  const left = MINUTE - (Date.now() % MINUTE);
  if (left < seconds * 1000) await new Promise((r) => setTimeout(r, left + 500));
}

describe('a maintenance window holds every start of a rotation, and break-glass ignores it', () => {
  let rotor: TestRotor;
  let api: TestApi;
  let broken: BrokenVerify;
  let url = '';
  beforeAll(async () => {
    rotor = await createTestRotor();
    await rotor.startWorker();
    broken = await startBrokenVerifyWorker(rotor, 'tenant_api_key');
    api = await createTestApi(rotor);
    url = await api.app.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await api?.app.close();
    await rotor?.close();
  });

  const status = (workflowId: string, accept: (s: SecretStatus) => boolean, timeout?: number) =>
    waitForStatus(rotor.client, workflowId, accept, timeout);
  const rotationRows = (workflowId: string) =>
    rotor.clients.db
      .selectFrom('rotations')
      .innerJoin('secrets', 'secrets.id', 'rotations.secret_id')
      .select([
        'rotations.id',
        'rotations.status',
        'rotations.requested_at',
        'rotations.error_type',
        'rotations.reason',
      ])
      .where('secrets.workflow_id', '=', workflowId)
      .orderBy('rotations.requested_at', 'asc')
      .execute();
  /** A secret at version 1 whose window is closed now and opens in two hours. */
  const closedWindowSecret = async (
    policy: Partial<Policy> = {},
    type: SecretType = SecretType.ApiKey,
    taskQueue = rotor.config.temporal.taskQueue,
    target?: TargetSpec,
  ) => {
    const opensAt = minuteFromNow(120);
    const handle = await startSecret(rotor.client, taskQueue, {
      tenantId: uniqueName('window'),
      name: 'key',
      type,
      policy: { maintenanceWindow: dailyWindow(opensAt, opensAt + HOUR), ...policy },
      ...(target ? { target } : {}),
    });
    // Creating a secret is not held by the window: its first version is made at once. Wait until
    // that first rotation has also let go (ACTIVE shows a moment before), or a request answers
    // 'queued' behind it.
    await status(
      handle.workflowId,
      (s) => s.currentVersion === 1 && s.state === 'ACTIVE' && !s.rotationId,
    );
    return { handle, opensAt };
  };

  it('starts a scheduled rotation only once the window opens, on a durable timer', async () => {
    await withSecondsLeftInMinute(35);
    // Due every 20 s by its interval, but allowed only in the minute that starts next.
    const opensAt = minuteFromNow(1);
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: uniqueName('window-sched'),
      name: 'key',
      policy: {
        schedule: { kind: 'interval', everySeconds: 20 },
        maintenanceWindow: dailyWindow(opensAt, opensAt + MINUTE),
      },
    });
    const before = await status(handle.workflowId, (s) => s.currentVersion === 1);
    expect(Date.parse(before.nextRotationAt ?? '')).toBe(opensAt);
    const after = await status(handle.workflowId, (s) => s.rotationsCompleted >= 2, 120_000);
    expect(after.currentVersion).toBeGreaterThanOrEqual(2);
    const rows = await rotationRows(handle.workflowId);
    const scheduled = rows.filter((r) => r.reason === 'scheduled');
    expect(scheduled.length).toBeGreaterThanOrEqual(1);
    for (const r of scheduled)
      expect(new Date(r.requested_at).getTime()).toBeGreaterThanOrEqual(opensAt);
  }, 150_000);

  it('holds a scheduled rotation that fell due while paused, when resumed after the window closed', async () => {
    await withSecondsLeftInMinute(40);
    // Open for the rest of this minute only: the rotation falls due in it while the secret is paused.
    const opened = minuteFromNow(0);
    const handle = await startSecret(rotor.client, rotor.config.temporal.taskQueue, {
      tenantId: uniqueName('window-resume'),
      name: 'key',
      policy: {
        schedule: { kind: 'interval', everySeconds: 5 },
        maintenanceWindow: dailyWindow(opened, opened + MINUTE),
      },
    });
    await status(handle.workflowId, (s) => s.currentVersion === 1 && s.state === 'ACTIVE');
    await handle.signal(pauseSignal, { requestedBy: 'ops', reason: 'freeze' });
    const paused = await status(handle.workflowId, (s) => s.state === 'PAUSED');
    const due = Date.parse(paused.nextRotationAt ?? '');
    expect(due).toBeLessThan(opened + MINUTE);
    // Resumed once the window has closed: the due rotation waits for tomorrow's opening.
    const closedFor = opened + MINUTE + 1000 - Date.now();
    await new Promise((r) => setTimeout(r, Math.max(0, closedFor)));
    await handle.signal(resumeSignal, { requestedBy: 'ops', reason: 'freeze over' });
    const waiting = await status(handle.workflowId, (s) => s.state === 'AWAITING_WINDOW');
    expect(waiting.waitingForWindow?.opensAt).toBe(new Date(opened + 24 * HOUR).toISOString());
    expect(waiting.currentVersion).toBe(paused.currentVersion);
    expect(waiting.rotationId).toBe(waiting.waitingForWindow?.rotationId);
    await handle.signal(retireSignal, { requestedBy: 'test', reason: 'done' });
    await handle.result();
  }, 150_000);

  it('holds a rotation approved outside the window until the window opens', async () => {
    const { handle, opensAt } = await closedWindowSecret({}, SecretType.DatabasePassword);
    const answer = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'alice',
      reason: 'monthly',
      start: 'window',
    });
    expect(answer).toMatchObject({ start: 'window', startsAt: new Date(opensAt).toISOString() });
    // Security is asked at once; approving does not start it outside the window.
    const pending = await status(handle.workflowId, (s) => s.state === 'AWAITING_APPROVAL');
    expect(pending.pendingApproval?.rotationId).toBe(answer.rotationId);
    await handle.executeUpdate(approveUpdate, {
      args: [{ approver: 'bob', roles: ['security'], rotationId: answer.rotationId }],
    });
    const waiting = await status(handle.workflowId, (s) => s.state === 'AWAITING_WINDOW');
    expect(waiting.waitingForWindow).toEqual({
      rotationId: answer.rotationId,
      opensAt: new Date(opensAt).toISOString(),
    });
    expect(waiting.currentVersion).toBe(1);
    expect((await rotationRows(handle.workflowId)).at(-1)?.status).not.toBe('COMPLETED');
  });

  it('holds a retry after NEEDS_ATTENTION until the window opens', async () => {
    const { handle, opensAt } = await closedWindowSecret({}, SecretType.ApiKey, broken.queue, {
      kind: 'tenant_api_key',
    });
    broken.failing = true;
    // Rotate-now runs at once by default, window or not; this one fails verification.
    await requestRotation(rotor.client, handle.workflowId, { requestedBy: 'ops', reason: 'x' });
    await status(handle.workflowId, (s) => s.state === 'NEEDS_ATTENTION');
    broken.failing = false;
    await handle.signal(resumeSignal, { requestedBy: 'oncall', reason: 'target fixed' });
    const waiting = await status(handle.workflowId, (s) => s.state === 'AWAITING_WINDOW');
    expect(waiting.waitingForWindow?.opensAt).toBe(new Date(opensAt).toISOString());
    expect(waiting.currentVersion).toBe(1);
    const retry = (await rotationRows(handle.workflowId)).at(-1);
    expect(retry?.reason).toMatch(/^retry after failure/);
    expect(retry?.id).toBe(waiting.waitingForWindow?.rotationId);
  });

  it('keeps a rotation waiting for the window through pause and resume, and ends it on retire', async () => {
    const { handle, opensAt } = await closedWindowSecret();
    const answer = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'alice',
      reason: 'tidy',
      start: 'window',
    });
    expect(answer.status).toBe('queued');
    await status(handle.workflowId, (s) => s.state === 'AWAITING_WINDOW');
    await handle.signal(pauseSignal, { requestedBy: 'ops', reason: 'freeze' });
    await new Promise((r) => setTimeout(r, 3000));
    const h = await rotor.client.workflow.getHandle(handle.workflowId).fetchHistory();
    console.log(
      'DEBUGHIST',
      JSON.stringify(
        (h.events ?? []).map((e) => [
          e.eventType,
          e.workflowTaskFailedEventAttributes?.failure?.message,
          e.workflowTaskFailedEventAttributes?.failure?.stackTrace,
        ]),
      ),
    );
    const paused = await status(handle.workflowId, (s) => s.state === 'PAUSED');
    expect(paused.paused).toBe(true);
    expect(paused.currentVersion).toBe(1);
    await handle.signal(resumeSignal, { requestedBy: 'ops', reason: 'freeze over' });
    const resumed = await status(handle.workflowId, (s) => s.state === 'AWAITING_WINDOW');
    expect(resumed.waitingForWindow).toEqual({
      rotationId: answer.rotationId,
      opensAt: new Date(opensAt).toISOString(),
    });
    expect(resumed.currentVersion).toBe(1);
    await handle.signal(retireSignal, { requestedBy: 'owner', reason: 'done' });
    const final = await status(handle.workflowId, (s) => s.state === 'RETIRED');
    expect(final.state).toBe('RETIRED');
    expect(final.rotationsCompleted).toBe(1);
    const row = (await rotationRows(handle.workflowId)).find((r) => r.id === answer.rotationId);
    expect(row).toMatchObject({ status: 'FAILED', error_type: 'SecretRetired' });
  });

  it('lets break-glass rotate at once outside the window, and end a wait for it', async () => {
    const { handle } = await closedWindowSecret({ graceSeconds: 1 }, SecretType.DatabasePassword);
    const glass = { requestedBy: 'root', roles: ['admin'], reason: 'leak' };
    await handle.executeUpdate(breakGlassUpdate, { args: [glass] });
    await status(handle.workflowId, (s) => s.currentVersion === 2 && s.previousVersion === null);
    // A rotation already waiting for the window becomes the emergency one, run now, once.
    const asked = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'alice',
      reason: 'tidy',
      start: 'window',
    });
    await status(handle.workflowId, (s) => s.state === 'AWAITING_APPROVAL');
    await handle.executeUpdate(approveUpdate, {
      args: [{ approver: 'bob', roles: ['security'], rotationId: asked.rotationId }],
    });
    await status(handle.workflowId, (s) => s.state === 'AWAITING_WINDOW');
    await handle.executeUpdate(breakGlassUpdate, { args: [glass] });
    const done = await status(
      handle.workflowId,
      (s) => s.currentVersion === 3 && s.previousVersion === null && s.state === 'ACTIVE',
    );
    expect(done.waitingForWindow).toBeNull();
    expect(done.queuedRotation).toBeNull();
    const rows = await rotationRows(handle.workflowId);
    expect(rows.find((r) => r.id === asked.rotationId)?.status).toBe('COMPLETED');
  });

  it('lets break-glass that supersedes a pending approval run that rotation at once outside the window, once', async () => {
    const { handle } = await closedWindowSecret(
      { graceSeconds: 3600 },
      SecretType.DatabasePassword,
    );
    const asked = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'alice',
      reason: 'tidy',
      start: 'window',
    });
    await status(handle.workflowId, (s) => s.state === 'AWAITING_APPROVAL');
    await handle.executeUpdate(breakGlassUpdate, {
      args: [{ requestedBy: 'root', roles: ['admin'], reason: 'leak' }],
    });
    await status(
      handle.workflowId,
      (s) => (s.currentVersion ?? 0) >= 2 && s.state === 'IN_GRACE' && !s.rotationId,
    );
    // A second rotation would follow at once (its grace cut short): give it time to show.
    await new Promise((r) => setTimeout(r, 3000));
    const done = await status(handle.workflowId, () => true);
    expect(done).toMatchObject({
      currentVersion: 2,
      previousVersion: 1,
      rotationsCompleted: 2,
      waitingForWindow: null,
      queuedRotation: null,
    });
    const rows = await rotationRows(handle.workflowId);
    expect(rows.find((r) => r.id === asked.rotationId)?.status).toBe('COMPLETED');
  });

  it('computes the window in its own time zone (Asia/Kolkata, UTC+05:30)', async () => {
    // Written as Kolkata's clock reads it; the instant it opens is the same everywhere.
    const opensAt = minuteFromNow(150);
    const kolkata = 330;
    const { handle } = await closedWindowSecret({
      maintenanceWindow: dailyWindow(opensAt, opensAt + HOUR, 'Asia/Kolkata', kolkata),
    });
    const answer = await requestRotation(rotor.client, handle.workflowId, {
      requestedBy: 'alice',
      reason: 'tz',
      start: 'window',
    });
    expect(answer.startsAt).toBe(new Date(opensAt).toISOString());
    const waiting = await status(handle.workflowId, (s) => s.state === 'AWAITING_WINDOW');
    expect(waiting.waitingForWindow?.opensAt).toBe(new Date(opensAt).toISOString());

    // A Kolkata window open now lets the same request run at once.
    await withSecondsLeftInMinute(30);
    // (The helper's window is replaced by one open from an hour ago to an hour ahead.)
    const open = await closedWindowSecret({
      maintenanceWindow: dailyWindow(
        minuteFromNow(-60),
        minuteFromNow(60),
        'Asia/Kolkata',
        kolkata,
      ),
    });
    const now = await requestRotation(rotor.client, open.handle.workflowId, {
      requestedBy: 'alice',
      reason: 'tz',
      start: 'window',
    });
    expect(now).toMatchObject({ status: 'started', start: 'window', startsAt: null });
    await status(open.handle.workflowId, (s) => s.currentVersion === 2);
  });

  describe('rotate-now through the API and the CLI', () => {
    const t = () => api.tenantA;
    const rotate = (name: string, body: Record<string, unknown>) =>
      api.call(api.tokens.a, 'POST', `/api/v1/secrets/${t()}/${name}/rotate`, body);
    const create = async (name: string) => {
      const opensAt = minuteFromNow(120);
      const res = await api.call(api.tokens.a, 'POST', '/api/v1/secrets', {
        tenantId: t(),
        name,
        type: 'api_key',
        policy: { graceSeconds: 0, maintenanceWindow: dailyWindow(opensAt, opensAt + HOUR) },
      });
      expect(res.statusCode, res.body).toBe(201);
      await status(`secret/${t()}/${name}`, (s) => s.currentVersion === 1 && s.state === 'ACTIVE');
      return opensAt;
    };

    it('runs at once by default, in the window when asked, and at once again when asked to', async () => {
      const opensAt = await create('api-window');
      const workflowId = `secret/${t()}/api-window`;
      const now = await rotate('api-window', { reason: 'default' });
      expect(now.statusCode, now.body).toBe(202);
      expect(now.json()).toMatchObject({ status: 'started', start: 'now', startsAt: null });
      await status(workflowId, (s) => s.currentVersion === 2 && !s.rotationId);

      const later = await rotate('api-window', { reason: 'in the window', start: 'window' });
      expect(later.statusCode, later.body).toBe(202);
      const asked = later.json<{ rotationId: string }>();
      // Queued behind the (zero-length) grace of the rotation before, then waiting for the window.
      await status(workflowId, (s) => s.state === 'AWAITING_WINDOW');
      expect(asked).toMatchObject({
        status: 'queued',
        start: 'window',
        startsAt: new Date(opensAt).toISOString(),
      });
      const detail = await api.call(api.tokens.a, 'GET', `/api/v1/secrets/${t()}/api-window`);
      expect(detail.json()).toMatchObject({
        state: 'AWAITING_WINDOW',
        currentVersion: 2,
        waitingForWindow: {
          rotationId: asked.rotationId,
          opensAt: new Date(opensAt).toISOString(),
        },
      });
      const cliStatus = await runCli(url, api.tokens.a, 'secrets', 'status', t(), 'api-window');
      expect(cliStatus.stdout).toContain(`until ${new Date(opensAt).toISOString()}`);

      // Asked again to run now, the waiting rotation starts now (the same rotation).
      const again = await rotate('api-window', { reason: 'now after all' });
      expect(again.json()).toMatchObject({
        status: 'in_progress',
        rotationId: asked.rotationId,
        start: 'now',
        startsAt: null,
      });
      const done = await status(workflowId, (s) => s.currentVersion === 3 && !s.rotationId);
      expect(done.waitingForWindow).toBeNull();
    });

    it('takes --in-window from the CLI and says when the rotation starts', async () => {
      const opensAt = await create('cli-window');
      const run = await runCli(
        url,
        api.tokens.a,
        '--json',
        'secrets',
        'rotate',
        t(),
        'cli-window',
        '--reason',
        'in the window',
        '--in-window',
      );
      expect(run.code, run.stderr).toBe(0);
      expect(JSON.parse(run.stdout)).toMatchObject({
        start: 'window',
        startsAt: new Date(opensAt).toISOString(),
      });
      await status(`secret/${t()}/cli-window`, (s) => s.state === 'AWAITING_WINDOW');
    });

    it('refuses an unknown start with a coded 400 that names the field, not the value', async () => {
      await create('bad-start');
      for (const start of ['later', 7, null]) {
        const res = await rotate('bad-start', { reason: 'x', start });
        expect(res.statusCode, res.body).toBe(400);
        expect(res.json<{ error: { code: string } }>().error.code).toBe('ROT_ERR_VALIDATION');
        expect(res.body).toContain('body.start');
        expect(res.body).not.toContain('later');
      }
    });
  });
});
