import { printRows } from '../output';

/** What `GET /secrets/{t}/{n}` answers, as far as the readable view uses it. */
export interface SecretDetail {
  tenantId: string;
  name: string;
  type: string;
  state: string;
  policy: Record<string, unknown> | null;
  vaultPath: string;
  currentVersion: number | null;
  previousVersion: number | null;
  nextRotationAt: string | null;
  pendingApproval: { rotationId?: string; requestedBy?: string; reason?: string } | null;
  lastErrorType: string | null;
  previousCredentialLive: boolean;
  revokeRetryAt: string | null;
  repair: unknown;
  runningRotationId: string | null;
  waitingForWindow?: { rotationId?: string; opensAt?: string } | null;
  queuedRotation: unknown;
  liveStatus: boolean;
  rotations: Record<string, unknown>[];
}

const UNITS: [number, string][] = [
  [86_400, 'd'],
  [3600, 'h'],
  [60, 'm'],
];

/** 7776000 → "90d", 5400 → "90m", 61 → "61s": the largest unit that divides it. */
export function duration(seconds: number): string {
  for (const [size, unit] of UNITS)
    if (seconds >= size && seconds % size === 0) return `${seconds / size}${unit}`;
  return `${seconds}s`;
}

function compact(v: unknown): string {
  if (v === null || v === undefined) return '-';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** A policy as lines of `field  value`, durations in d/h/m/s and the schedule in words. */
export function policyLines(policy: Record<string, unknown>): [string, string][] {
  return Object.entries(policy).map(([key, value]): [string, string] => {
    if (key === 'schedule' && value && typeof value === 'object') {
      const s = value as {
        kind?: string;
        everySeconds?: number;
        expression?: string;
        timeZone?: string;
      };
      if (s.everySeconds !== undefined) return [key, `every ${duration(s.everySeconds)}`];
      if (s.expression !== undefined)
        return [key, `cron "${s.expression}"${s.timeZone ? ` (${s.timeZone})` : ''}`];
    }
    if (/Seconds$/.test(key) && typeof value === 'number') return [key, duration(value)];
    if (typeof value === 'boolean') return [key, value ? 'yes' : 'no'];
    return [key, compact(value)];
  });
}

function section(title: string, lines: [string, string][]): void {
  if (title) process.stdout.write(`${title}\n`);
  const width = Math.max(...lines.map(([k]) => k.length));
  for (const [k, v] of lines) process.stdout.write(`  ${k.padEnd(width)}  ${v}\n`);
}

/** `rotor secrets status` for people: state and versions, the policy, then the rotations. */
export function printSecretStatus(detail: SecretDetail): void {
  // Whatever the API leaves out shows as '-', never as a crash (an older API, a proxy's answer).
  const s: Partial<SecretDetail> = detail;
  process.stdout.write(
    `${compact(s.tenantId)}/${compact(s.name)}  ${compact(s.type)}  ${compact(s.state)}\n`,
  );
  const previous =
    s.previousVersion === null || s.previousVersion === undefined
      ? '-'
      : `${s.previousVersion}${s.previousCredentialLive ? ' (still works)' : ''}`;
  const pending = s.pendingApproval
    ? `rotation ${compact(s.pendingApproval.rotationId)} requested by ${compact(s.pendingApproval.requestedBy)}: ${compact(s.pendingApproval.reason)}`
    : '-';
  section('', [
    ['current version', compact(s.currentVersion)],
    ['previous version', previous],
    ['next rotation', compact(s.nextRotationAt)],
    ['running rotation', compact(s.runningRotationId)],
    [
      'waiting for window',
      s.waitingForWindow ? `until ${compact(s.waitingForWindow.opensAt)}` : '-',
    ],
    ['queued rotation', compact(s.queuedRotation)],
    ['pending approval', pending],
    ['last error', compact(s.lastErrorType)],
    ['owed repair', compact(s.repair)],
    ['revoke retry at', compact(s.revokeRetryAt)],
    ['vault path', compact(s.vaultPath)],
    ['live status', s.liveStatus ? 'yes' : 'no (the worker did not answer; from the database)'],
  ]);
  if (s.policy) section('policy', policyLines(s.policy));
  process.stdout.write('rotations (newest first)\n');
  printRows(
    (s.rotations ?? []).map((r) => ({
      id: r.id,
      status: r.status,
      from: r.from_version,
      to: r.to_version,
      requested: r.requested_at,
      promoted: r.promoted_at,
      completed: r.completed_at,
      by: r.requested_by,
      error: r.error_type,
      reason: r.reason,
    })),
    ['id', 'status', 'from', 'to', 'requested', 'promoted', 'completed', 'by', 'error', 'reason'],
    false,
  );
}
