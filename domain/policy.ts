import { SecretType } from './secret-types';

const DAY = 86_400;

/**
 * The longest duration a policy may set (interval, grace, approval and supply timings): ten
 * years. Past about 270,000 years a date cannot be represented at all, and a lifecycle that
 * computed one failed on every attempt (a rotation stuck ROTATING, or every later message
 * refused); nothing Rotor schedules needs more than a few years.
 */
export const MAX_POLICY_SECONDS = 3650 * DAY;

export type Schedule =
  | { kind: 'interval'; everySeconds: number }
  /** `timeZone` is an IANA name the cron fields are read in; absent means 'UTC'. */
  | { kind: 'cron'; expression: string; timeZone?: string };

/**
 * When a rotation may happen, as wall-clock time in `timeZone` (IANA), so it follows DST there.
 * `days` are the days a window opens (0 = Sunday .. 6 = Saturday); `start` and `end` are 'HH:MM',
 * start inclusive, end exclusive. An `end` before `start` crosses midnight: a Saturday window
 * 22:00-02:00 closes at 02:00 on Sunday.
 */
export interface MaintenanceWindow {
  timeZone: string;
  days: number[];
  start: string;
  end: string;
}

/** How one secret is rotated. Durations are seconds, so tests can use seconds too. */
export interface Policy {
  schedule: Schedule;
  graceSeconds: number;
  requiresApproval: boolean;
  autoGenerate: boolean;
  /** KV v2 versions Vault keeps for this secret. */
  versionsKept: number;
  /**
   * Attempts per rotation step before the secret goes to NEEDS_ATTENTION. Backoff doubles from 1 s
   * to at most 60 s, so the default 12 attempts ride out an outage of about six minutes.
   */
  maxAttempts: number;
  /**
   * After a failure that left something to put right (a compensation, a promote, a revocation),
   * Rotor retries it this long after (default 60 s), doubling to at most 30 minutes, until it works.
   */
  repairEverySeconds?: number;
  /** If set, a due rotation waits for the next moment inside this window. */
  maintenanceWindow?: MaintenanceWindow;
  /** Tell the tenant this long before a scheduled rotation (default 7 days; 0: never). */
  upcomingNoticeSeconds?: number;
  /** How approval works when requiresApproval is set; defaults below when absent. */
  approval?: ApprovalPolicy;
  /**
   * Whether the API's audited value-read endpoint may return this secret's current value. Off
   * when absent (every default policy, and policies recorded before the flag existed): most
   * consumers read Vault directly with their own credentials.
   */
  allowValueRead?: boolean;
  /** For supplied types (autoGenerate false): how Rotor chases the owner for the new value. */
  supply?: SupplyPolicy;
}

/** Asking an owner for a value Rotor cannot generate (OAuth client secrets, certificates). */
export interface SupplyPolicy {
  /** Remind the owner this often while the value is missing. */
  remindEverySeconds: number;
  /** Missing this long after the request, the secret is OVERDUE (and still waits). */
  deadlineSeconds: number;
  /** Certificates: rotate this long before the supplied certificate expires. */
  expiryLeadSeconds: number;
}

export const DEFAULT_SUPPLY: SupplyPolicy = {
  remindEverySeconds: DAY,
  deadlineSeconds: 7 * DAY,
  expiryLeadSeconds: 30 * DAY,
};

/** The supply settings in force, defaults filled in. */
export function supplyPolicy(policy: Policy): SupplyPolicy {
  return { ...DEFAULT_SUPPLY, ...policy.supply };
}

/** Whether the API may hand out the secret's value (audited); false unless a policy says so. */
export function allowsValueRead(policy: Pick<Policy, 'allowValueRead'>): boolean {
  return policy.allowValueRead === true;
}

/** Who must sign off, and how long a rotation waits for them. */
export interface ApprovalPolicy {
  /** Distinct security approvers needed. */
  quorum: number;
  /** Reminders to approvers this often while the request is open, until escalation. */
  remindEverySeconds: number;
  /** Unanswered this long after the request, it escalates to a second channel. */
  escalateAfterSeconds: number;
  /** Unanswered this long, the rotation is skipped as APPROVAL_EXPIRED. */
  expireAfterSeconds: number;
}

export const DEFAULT_UPCOMING_NOTICE_SECONDS = 7 * DAY;

export const DEFAULT_APPROVAL: ApprovalPolicy = {
  quorum: 1,
  remindEverySeconds: 8 * 3600,
  escalateAfterSeconds: DAY,
  expireAfterSeconds: 3 * DAY,
};

/** The approval settings in force (policies recorded before approvals existed have none). */
export function approvalPolicy(policy: Policy): ApprovalPolicy {
  return { ...DEFAULT_APPROVAL, ...policy.approval };
}

const base = { versionsKept: 10, maxAttempts: 12 } as const;

export const DEFAULT_REPAIR_EVERY_SECONDS = 60;
export const MAX_REPAIR_INTERVAL_SECONDS = 30 * 60;
const every = (days: number): Schedule => ({ kind: 'interval', everySeconds: days * DAY });

/** Defaults by type (ARCHITECTURE.md). Exhaustive: a new type without a policy does not compile. */
export const DEFAULT_POLICIES: Record<SecretType, Policy> = {
  [SecretType.ApiKey]: {
    ...base,
    schedule: every(90),
    graceSeconds: 7 * DAY,
    requiresApproval: false,
    autoGenerate: true,
  },
  [SecretType.DatabasePassword]: {
    ...base,
    schedule: every(60),
    graceSeconds: DAY,
    requiresApproval: true,
    autoGenerate: true,
  },
  [SecretType.ServiceToken]: {
    ...base,
    schedule: every(30),
    graceSeconds: DAY,
    requiresApproval: false,
    autoGenerate: true,
  },
  [SecretType.EncryptionKey]: {
    ...base,
    schedule: every(365),
    graceSeconds: 30 * DAY,
    requiresApproval: true,
    autoGenerate: true,
  },
  [SecretType.JwtSecret]: {
    ...base,
    schedule: every(180),
    graceSeconds: DAY,
    requiresApproval: false,
    autoGenerate: true,
  },
  [SecretType.WebhookSecret]: {
    ...base,
    schedule: every(45),
    graceSeconds: DAY,
    requiresApproval: false,
    autoGenerate: true,
  },
  [SecretType.OauthClientSecret]: {
    ...base,
    schedule: every(365),
    graceSeconds: 7 * DAY,
    requiresApproval: true,
    autoGenerate: false,
  },
  [SecretType.TlsCertificate]: {
    ...base,
    schedule: every(365),
    graceSeconds: 7 * DAY,
    requiresApproval: false,
    autoGenerate: false,
  },
};

export function policyFor(type: SecretType, overrides: Partial<Policy> = {}): Policy {
  return { ...DEFAULT_POLICIES[type], ...overrides };
}
