import { CronExpressionParser } from 'cron-parser';
import { z } from 'zod';
import { isValidCron, isValidTimeZone } from '../schedule';
import {
  DEFAULT_APPROVAL,
  DEFAULT_POLICIES,
  DEFAULT_SUPPLY,
  MAX_POLICY_SECONDS,
  TARGET_SECRET_TYPES,
  TargetKind,
  isIamUserName,
  isManageableRedisUser,
  isManageableRoleName,
  isSecretType,
  isValidName,
  policyFor,
} from '../domain';
import type { MaintenanceWindow, Policy, Schedule, SecretType, TargetSpec } from '../domain';
import { mariaDbUserTargetSchema } from '../domain/target-schemas';
import { ValidationError } from './errors';
import type { ValidationIssue } from './errors';

export interface CreateSecretLimits {
  minRotationIntervalSeconds: number;
  maxValueBytes: number;
}

/** A create-secret request that passed validation, with the type's default policy filled in. */
export interface CreateSecretRequest {
  tenantId: string;
  name: string;
  type: SecretType;
  policy: Policy;
  initialValue?: string;
  /** PEM private key of an initial tls_certificate. */
  initialPrivateKey?: string;
  requestedBy: string;
  target?: TargetSpec;
}

/**
 * Cron gaps vary (uneven hour lists, month ends, DST), so the shortest is looked for over a year
 * of occurrences, capped in count to keep validation fast: a bound, not a proof.
 */
const CRON_GAP_SAMPLES = 1000;
const CRON_GAP_HORIZON_MS = 366 * 86_400_000;

const nameField = z
  .string()
  .refine(
    isValidName,
    'must be 1-63 of a-z, 0-9, ".", "_", "-", start alphanumeric, and avoid ".."',
  );

const clockField = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:MM, 00:00 to 23:59');

const timeZoneField = z.string().refine(isValidTimeZone, 'must be an IANA time zone name');

const windowSchema = z
  .strictObject({
    timeZone: timeZoneField,
    days: z
      .array(z.number().int().min(0, 'must be 0 (Sunday) to 6').max(6, 'must be 0 (Sunday) to 6'))
      .min(1, 'must list at least one day'),
    start: clockField,
    end: clockField,
  })
  .refine((w) => w.start !== w.end, { path: ['end'], message: 'must differ from start' });

/** Durations a lifecycle turns into dates and timers: bounded, so every one stays a date. */
const TOO_LONG = `must be at most ${MAX_POLICY_SECONDS} seconds (10 years)`;
const positiveSeconds = z
  .number()
  .positive('must be more than 0 seconds')
  .max(MAX_POLICY_SECONDS, TOO_LONG);

const approvalSchema = z
  .strictObject({
    quorum: z.number().int().min(1, 'must be 1 to 10').max(10, 'must be 1 to 10').optional(),
    remindEverySeconds: positiveSeconds.optional(),
    escalateAfterSeconds: positiveSeconds.optional(),
    expireAfterSeconds: positiveSeconds.optional(),
  })
  .refine(
    (a) =>
      ({ ...DEFAULT_APPROVAL, ...a }).expireAfterSeconds >
      { ...DEFAULT_APPROVAL, ...a }.escalateAfterSeconds,
    { path: ['expireAfterSeconds'], message: 'must be later than escalateAfterSeconds' },
  );

const supplySchema = z.strictObject({
  remindEverySeconds: positiveSeconds.optional(),
  deadlineSeconds: positiveSeconds.optional(),
  expiryLeadSeconds: z
    .number()
    .min(0, 'must be 0 or more seconds')
    .max(MAX_POLICY_SECONDS, TOO_LONG)
    .optional(),
});

/** The policy overrides a secret may set, at create and on PUT …/policy (the API documents it). */
export function policySchema(limits: CreateSecretLimits) {
  const min = limits.minRotationIntervalSeconds;
  return z
    .strictObject({
      intervalSeconds: z
        .number()
        .int()
        .min(min, `must be at least ${min} seconds`)
        .max(MAX_POLICY_SECONDS, TOO_LONG)
        .optional(),
      cron: z.string().optional(),
      cronTimeZone: z.string().optional(),
      graceSeconds: z
        .number()
        .int()
        .min(0, 'must not be negative')
        .max(MAX_POLICY_SECONDS, TOO_LONG)
        .optional(),
      requiresApproval: z.boolean().optional(),
      autoGenerate: z.boolean().optional(),
      versionsKept: z
        .number()
        .int()
        .min(1, 'must be 1 to 100')
        .max(100, 'must be 1 to 100')
        .optional(),
      maxAttempts: z.number().int().min(1, 'must be 1 to 20').max(20, 'must be 1 to 20').optional(),
      repairEverySeconds: z
        .number()
        .int()
        .min(1, 'must be 1 to 3600')
        .max(3600, 'must be 1 to 3600')
        .optional(),
      maintenanceWindow: windowSchema.optional(),
      approval: approvalSchema.optional(),
      supply: supplySchema.optional(),
      allowValueRead: z.boolean().optional(),
    })
    .superRefine((p, ctx) => {
      const issue = (field: string, message: string) =>
        ctx.addIssue({ code: 'custom', path: [field], message });
      if (p.intervalSeconds !== undefined && p.cron !== undefined) {
        issue('cron', 'cannot be combined with policy.intervalSeconds');
      }
      const zoneOk = p.cronTimeZone === undefined || isValidTimeZone(p.cronTimeZone);
      if (p.cronTimeZone !== undefined && p.cron === undefined) {
        issue('cronTimeZone', 'applies only with policy.cron');
      } else if (!zoneOk) {
        issue('cronTimeZone', 'must be an IANA time zone name');
      }
      if (p.cron === undefined) return;
      const zone = zoneOk ? (p.cronTimeZone ?? 'UTC') : 'UTC';
      if (!isValidCron(p.cron, zone)) {
        issue('cron', 'must be a 5- or 6-field cron expression');
      } else if (firesMoreOftenThan(min, p.cron, zone)) {
        issue('cron', `must not fire more often than every ${min} seconds`);
      }
    });
}

/** Whether two upcoming occurrences are closer than `seconds`: a cron must not dodge the minimum. */
function firesMoreOftenThan(seconds: number, expression: string, timeZone: string): boolean {
  const cron = CronExpressionParser.parse(expression.trim(), { tz: timeZone });
  const first = cron.next().getTime();
  let previous = first;
  for (let i = 1; i < CRON_GAP_SAMPLES && previous - first < CRON_GAP_HORIZON_MS; i++) {
    const current = cron.next().getTime();
    if (current - previous < seconds * 1000) return true;
    previous = current;
  }
  return false;
}

const roleField = z
  .string()
  .max(63, 'must be at most 63 characters')
  .refine(isManageableRoleName, 'must be a plain role name: a-z, 0-9 and _, not starting pg_');

const REDIS_USER_RULE =
  'must be a plain Redis user name: letters, digits and _.:@-, not default or an ACL keyword';

/** A user name's shape depends on the kind (Redis or MariaDB); superRefine checks it. */
const userField = z.string().max(80, 'must be at most 80 characters');

/**
 * Where the value must also be accepted; checked field by field, so errors name the field. One
 * flat object (not a union by kind), so the OpenAPI document lists every field a target takes.
 */
const targetSchema = z
  .strictObject({
    kind: z.enum([
      TargetKind.PostgresRole,
      TargetKind.TenantApiKey,
      TargetKind.RedisAcl,
      TargetKind.MariaDbUser,
      TargetKind.AwsIamAccessKey,
    ]),
    connection: nameField.optional(),
    strategy: z.enum(['single', 'alternating']).optional(),
    role: roleField.optional(),
    roles: z.array(roleField).optional(),
    user: userField.optional(),
    users: z.array(userField).optional(),
    /** A mariadb_user account's host part; `%` when absent. */
    host: z.string().max(255, 'must be at most 255 characters').optional(),
    /** An aws_iam_access_key target's IAM user. */
    userName: z.string().max(64, 'must be at most 64 characters').optional(),
    /** An aws_iam_access_key target's rule for a key Rotor did not issue: refuse (default) or delete. */
    staleKeys: z.enum(['refuse', 'delete']).optional(),
  })
  .superRefine((t, ctx) => {
    const issue = (field: string, message: string) =>
      ctx.addIssue({ code: 'custom', path: [field], message });
    if (t.kind === TargetKind.AwsIamAccessKey) {
      refineAwsTarget(t, issue);
      return;
    }
    for (const f of ['userName', 'staleKeys'] as const)
      if (t[f] !== undefined) issue(f, 'applies only to an aws_iam_access_key target');
    if (t.kind === TargetKind.TenantApiKey) {
      for (const f of ['connection', 'strategy', 'role', 'roles', 'user', 'users', 'host'] as const)
        if (t[f] !== undefined) issue(f, 'does not apply to a tenant_api_key target');
      return;
    }
    if (t.kind === TargetKind.MariaDbUser) {
      refineMariaDbTarget(t, issue);
      return;
    }
    if (t.host !== undefined) issue('host', 'applies only to a mariadb_user target');
    if (t.kind === TargetKind.RedisAcl) {
      refineRedisTarget(t, issue);
      return;
    }
    for (const f of ['user', 'users'] as const)
      if (t[f] !== undefined) issue(f, 'applies only to a redis_acl or mariadb_user target');
    if (t.strategy === undefined) issue('strategy', "must be 'single' or 'alternating'");
    if (t.strategy === 'single') {
      if (t.role === undefined) issue('role', 'is required for the single strategy');
      if (t.roles !== undefined) issue('roles', 'applies only to the alternating strategy');
    }
    if (t.strategy === 'alternating') {
      if (t.role !== undefined) issue('role', 'applies only to the single strategy');
      if (t.roles?.length !== 2 || t.roles[0] === t.roles[1])
        issue('roles', 'must be two different role names');
    }
  });

/**
 * An aws_iam_access_key target: a connection and an IAM user name (IAM's own rule, so a hostile
 * name never reaches a request); no strategy (the two-key rotation is the only one).
 */
function refineAwsTarget(
  t: { connection?: string; userName?: string } & Record<string, unknown>,
  issue: (field: string, message: string) => void,
): void {
  if (t.connection === undefined)
    issue('connection', 'is required for an aws_iam_access_key target');
  for (const f of ['strategy', 'role', 'roles', 'user', 'users', 'host'])
    if (t[f] !== undefined) issue(f, 'does not apply to an aws_iam_access_key target');
  if (t.userName === undefined) issue('userName', 'is required for an aws_iam_access_key target');
  else if (!isIamUserName(t.userName))
    issue('userName', 'must be an IAM user name: 1-64 of letters, digits, _+=,.@-');
}

/** A redis_acl target: a connection, and a user or two different users. */
function refineRedisTarget(
  t: {
    connection?: string;
    strategy?: string;
    role?: string;
    roles?: string[];
    user?: string;
    users?: string[];
  },
  issue: (field: string, message: string) => void,
): void {
  if (t.connection === undefined) issue('connection', 'is required for a redis_acl target');
  for (const f of ['role', 'roles'] as const)
    if (t[f] !== undefined) issue(f, 'applies only to a postgres_role target');
  const redisUser = (u: string) => u.length <= 64 && isManageableRedisUser(u);
  if (t.user !== undefined && !redisUser(t.user)) issue('user', REDIS_USER_RULE);
  if (t.users?.some((u) => !redisUser(u))) issue('users', REDIS_USER_RULE);
  if (t.strategy === undefined) issue('strategy', "must be 'single' or 'alternating'");
  if (t.strategy === 'single') {
    if (t.user === undefined) issue('user', 'is required for the single strategy');
    if (t.users !== undefined) issue('users', 'applies only to the alternating strategy');
  }
  if (t.strategy === 'alternating') {
    if (t.user !== undefined) issue('user', 'applies only to the single strategy');
    if (t.users?.length !== 2 || t.users[0] === t.users[1])
      issue('users', 'must be two different user names');
  }
}

/**
 * A mariadb_user target, checked by the schema domain/ keeps for it (a connection is required:
 * there is no default MariaDB server). Its issues name the field and never echo the value.
 */
function refineMariaDbTarget(
  t: {
    kind: string;
    connection?: string;
    strategy?: string;
    role?: string;
    roles?: string[];
    user?: string;
    users?: string[];
    host?: string;
  },
  issue: (field: string, message: string) => void,
): void {
  const before: [string, string][] = [];
  if (t.connection === undefined)
    before.push(['connection', 'is required for a mariadb_user target']);
  for (const f of ['role', 'roles'] as const)
    if (t[f] !== undefined) before.push([f, 'applies only to a postgres_role target']);
  if (t.strategy === undefined) before.push(['strategy', "must be 'single' or 'alternating'"]);
  if (t.strategy === 'single') {
    if (t.user === undefined) before.push(['user', 'is required for the single strategy']);
    if (t.users !== undefined) before.push(['users', 'applies only to the alternating strategy']);
  }
  if (t.strategy === 'alternating') {
    if (t.user !== undefined) before.push(['user', 'applies only to the single strategy']);
    if (t.users?.length !== 2) before.push(['users', 'must be two different user names']);
  }
  for (const [field, message] of before) issue(field, message);
  if (before.length > 0) return;
  // role and roles were refused above (before is empty, so they are absent).
  const parsed = mariaDbUserTargetSchema.safeParse(
    Object.fromEntries(Object.entries(t).filter(([, v]) => v !== undefined)),
  );
  for (const i of parsed.error?.issues ?? []) issue(String(i.path[0] ?? 'kind'), i.message);
}

function toTargetSpec(t: z.infer<typeof targetSchema>): TargetSpec {
  if (t.kind === TargetKind.TenantApiKey) return { kind: t.kind };
  const connection = t.connection ?? '';
  if (t.kind === TargetKind.AwsIamAccessKey) {
    const stale = t.staleKeys === undefined ? {} : { staleKeys: t.staleKeys };
    return { kind: t.kind, connection, userName: t.userName ?? '', ...stale };
  }
  if (t.kind === TargetKind.MariaDbUser) {
    const host = t.host === undefined ? {} : { host: t.host };
    if (t.strategy === 'single')
      return { kind: t.kind, connection, strategy: 'single', user: t.user ?? '', ...host };
    const [a = '', b = ''] = t.users ?? [];
    return { kind: t.kind, connection, strategy: 'alternating', users: [a, b], ...host };
  }
  if (t.kind === TargetKind.RedisAcl) {
    if (t.strategy === 'single')
      return { kind: t.kind, connection, strategy: 'single', user: t.user ?? '' };
    const [a = '', b = ''] = t.users ?? [];
    return { kind: t.kind, connection, strategy: 'alternating', users: [a, b] };
  }
  const on = t.connection === undefined ? {} : { connection };
  if (t.strategy === 'single')
    return { kind: t.kind, strategy: 'single', role: t.role ?? '', ...on };
  const [a = '', b = ''] = t.roles ?? [];
  return { kind: t.kind, strategy: 'alternating', roles: [a, b], ...on };
}

/** A create-secret request, as validateCreateSecret checks it (the API documents it). */
export function requestSchema(limits: CreateSecretLimits) {
  const max = limits.maxValueBytes;
  return z.strictObject({
    tenantId: nameField,
    name: nameField,
    type: z.custom<SecretType>(
      (v) => typeof v === 'string' && isSecretType(v),
      'must be a known secret type',
    ),
    requestedBy: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(200, 'must be at most 200 characters'),
    initialValue: z
      .string()
      .min(1, 'must not be empty')
      .refine((v) => Buffer.byteLength(v, 'utf8') <= max, `must be at most ${max} bytes`)
      .optional(),
    initialPrivateKey: z
      .string()
      .min(1, 'must not be empty')
      .refine((v) => Buffer.byteLength(v, 'utf8') <= max, `must be at most ${max} bytes`)
      .optional(),
    policy: policySchema(limits).optional(),
    target: targetSchema.optional(),
  });
}

/** Zod issues as field + message; zod's own messages name types and bounds, never the input. */
function toIssues(error: z.ZodError): ValidationIssue[] {
  return error.issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({
        field: [...path, key].join('.'),
        message: 'is not a known field',
      }));
    }
    return [{ field: path.length > 0 ? path.join('.') : 'request', message: issue.message }];
  });
}

/**
 * Checks a create-secret request before any workflow starts, and returns it normalised: the
 * type's default policy merged with the overrides. Throws ValidationError listing every field.
 */
export function validateCreateSecret(
  input: unknown,
  limits: CreateSecretLimits,
): CreateSecretRequest {
  const parsed = requestSchema(limits).safeParse(input);
  if (!parsed.success) throw new ValidationError(toIssues(parsed.error));
  const {
    tenantId,
    name,
    type,
    requestedBy,
    initialValue,
    initialPrivateKey,
    policy: o = {},
    target,
  } = parsed.data;

  if (target && !TARGET_SECRET_TYPES[target.kind].includes(type)) {
    throw new ValidationError([
      {
        field: 'target.kind',
        message: `${target.kind} rotates ${TARGET_SECRET_TYPES[target.kind].join(', ')}, not ${type}`,
      },
    ]);
  }

  // AWS issues the secret access key: there is no value to import or to ask its owner for.
  if (target?.kind === TargetKind.AwsIamAccessKey) {
    const refused: ValidationIssue[] = [];
    if (initialValue !== undefined)
      refused.push({ field: 'initialValue', message: 'cannot be given: AWS issues the key' });
    if (o.autoGenerate === false)
      refused.push({
        field: 'policy.autoGenerate',
        message: 'cannot be false: AWS issues the key',
      });
    if (refused.length > 0) throw new ValidationError(refused);
  }

  // Types Rotor cannot generate (certificates, OAuth secrets) come from their owner, always.
  if (o.autoGenerate === true && !DEFAULT_POLICIES[type].autoGenerate) {
    throw new ValidationError([
      { field: 'policy.autoGenerate', message: `cannot be true: Rotor does not generate ${type}` },
    ]);
  }

  let schedule: Schedule | undefined;
  if (o.intervalSeconds !== undefined)
    schedule = { kind: 'interval', everySeconds: o.intervalSeconds };
  else if (o.cron !== undefined) {
    schedule = { kind: 'cron', expression: o.cron.trim(), timeZone: o.cronTimeZone ?? 'UTC' };
  }
  const window: MaintenanceWindow | undefined = o.maintenanceWindow && {
    ...o.maintenanceWindow,
    days: [...new Set(o.maintenanceWindow.days)].sort((a, b) => a - b),
  };
  const overrides: Partial<Policy> = {
    schedule,
    graceSeconds: o.graceSeconds,
    requiresApproval: o.requiresApproval,
    autoGenerate: o.autoGenerate,
    versionsKept: o.versionsKept,
    maxAttempts: o.maxAttempts,
    repairEverySeconds: o.repairEverySeconds,
    maintenanceWindow: window,
    approval: o.approval && { ...DEFAULT_APPROVAL, ...o.approval },
    supply: o.supply && { ...DEFAULT_SUPPLY, ...o.supply },
    allowValueRead: o.allowValueRead,
  };
  // Drop absent overrides, so they do not replace a default with undefined.
  const present = Object.fromEntries(
    Object.entries(overrides).filter(([, v]) => v !== undefined),
  ) as Partial<Policy>;

  return {
    tenantId,
    name,
    type,
    policy: policyFor(type, present),
    ...(initialValue === undefined ? {} : { initialValue }),
    ...(initialPrivateKey === undefined ? {} : { initialPrivateKey }),
    ...(target ? { target: toTargetSpec(target) } : {}),
    requestedBy,
  };
}
