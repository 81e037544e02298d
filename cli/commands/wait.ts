import { CliError } from '../api-client';
import type { ApiClient } from '../api-client';
import { secretPath } from './names';

const POLL_MS = 1000;
/** A rotation in one of these has done what it will do for now. */
const DONE_OK = new Set(['PROMOTED', 'COMPLETED']);
const DONE_FAILED = new Set(['FAILED', 'COMPENSATED', 'REJECTED', 'APPROVAL_EXPIRED']);
/** States in which the lifecycle waits for a person (or the maintenance window), not the engine. */
const WAITING_FOR_PEOPLE: Record<string, string> = {
  AWAITING_WINDOW:
    'waiting for the maintenance window: rotor secrets status <tenant> <name> says when it opens',
  AWAITING_APPROVAL: 'waiting for approval: rotor approvals list / approve',
  AWAITING_VALUE: 'waiting for a value: rotor secrets supply <tenant> <name> --value-file …',
  PAUSED: 'paused: rotor secrets resume <tenant> <name> --reason …',
};

export interface SecretStatus {
  state: string;
  runningRotationId: string | null;
  lastErrorType: string | null;
  rotations: { id: string; status: string; error_type: string | null }[];
}

export interface Settled {
  state: string;
  rotationId: string | null;
  rotationStatus: string | null;
  ok: boolean;
}

/** The newest rotation's id now, so a wait can tell the rotation a retry starts from older ones. */
export async function newestRotationId(
  api: ApiClient,
  tenant: string,
  name: string,
): Promise<string | null> {
  const s = await api.request<SecretStatus>('GET', secretPath(tenant, name));
  return s.rotations[0]?.id ?? null;
}

/**
 * Follows a secret until the rotation it is waiting for is promoted, fails, or waits for a
 * person, with one progress line on stderr (redrawn on a terminal, a line per change otherwise).
 * `rotationId` names the rotation; without it, the first rotation newer than `after` is followed.
 */
export async function waitForRotation(
  api: ApiClient,
  tenant: string,
  name: string,
  follow: { rotationId?: string; after?: string | null; timeoutSeconds: number },
): Promise<Settled> {
  const tty = process.stderr.isTTY;
  const deadline = Date.now() + follow.timeoutSeconds * 1000;
  let last = '';
  const spin = ['|', '/', '-', '\\'];
  for (let tick = 0; ; tick++) {
    const s = await api.request<SecretStatus>('GET', secretPath(tenant, name));
    const newest = s.rotations[0];
    const rotation = follow.rotationId
      ? s.rotations.find((r) => r.id === follow.rotationId)
      : newest && newest.id !== follow.after
        ? newest
        : undefined;
    const what = rotation
      ? `rotation ${rotation.id.slice(0, 8)} ${rotation.status}`
      : 'waiting for the rotation to start';
    const line = `${tty ? `${spin[tick % spin.length]} ` : ''}${tenant}/${name}: ${s.state}, ${what}`;
    if (line !== last) process.stderr.write(tty ? `\r\x1b[K${line}` : `${line}\n`);
    last = line;
    const settled = (ok: boolean, note?: string): Settled => {
      if (tty) process.stderr.write('\n');
      if (note) process.stderr.write(`${note}\n`);
      return {
        state: s.state,
        rotationId: rotation?.id ?? null,
        rotationStatus: rotation?.status ?? null,
        ok,
      };
    };
    if (rotation && DONE_OK.has(rotation.status)) return settled(true);
    if (rotation && DONE_FAILED.has(rotation.status)) {
      return settled(
        false,
        `rotation failed${rotation.error_type ? ` (${rotation.error_type})` : ''}: rotor secrets status ${tenant} ${name}`,
      );
    }
    const person = WAITING_FOR_PEOPLE[s.state];
    if (person && (rotation || s.state === 'PAUSED')) return settled(true, person);
    if (Date.now() > deadline) {
      if (tty) process.stderr.write('\n');
      throw new CliError(
        'ROT_ERR_WAIT_TIMEOUT',
        `still not settled after ${follow.timeoutSeconds} s (it carries on without the CLI): rotor secrets status ${tenant} ${name}`,
      );
    }
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
}
