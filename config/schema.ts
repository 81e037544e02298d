import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);
const postgresUrl = z
  .string()
  .min(1)
  .refine(
    (v) => /^postgres(ql)?:\/\/[^\s]+$/.test(v),
    'must be a postgres:// or postgresql:// URL',
  );

/** One network entry: an IPv4 or IPv6 address, or a CIDR block of either. */
const networkEntry = z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()]);

/**
 * A comma list of addresses and CIDR blocks. Entries are checked one by one, so a bad one is named
 * by its position (never echoed: the message says which entry, not what it holds).
 */
const networkList = () =>
  z
    .string()
    .default('')
    .transform((v, ctx) => {
      const entries = v
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
      entries.forEach((entry, i) => {
        if (!networkEntry.safeParse(entry).success) {
          ctx.addIssue({
            code: 'custom',
            message: `entry ${i + 1} is not an IP address or CIDR block (e.g. 10.0.0.0/8, ::1)`,
          });
        }
      });
      return entries;
    });

/**
 * Every environment variable Rotor reads. Secrets (tokens, passwords, URLs that may embed them)
 * have no default, so a missing one fails at start-up instead of running with a guessable value.
 * .env.example documents each; a test keeps the two in step.
 */
/** A KV v2 path inside the mount: segments of letters, digits, `.`, `_`, `-`, joined by `/`. */
export const KV_PATH = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

export const envSchema = z.object({
  TEMPORAL_ADDRESS: z.string().min(1).default('127.0.0.1:7233'),
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('rotor'),
  DATABASE_URL: postgresUrl,
  VAULT_ADDR: z.url().default('http://127.0.0.1:8200'),
  VAULT_TOKEN: z.string().min(1),
  VAULT_KV_MOUNT: z
    .string()
    .regex(/^[a-z0-9_-]+$/, 'must be a mount name such as "secret"')
    .default('secret'),
  SMTP_URL: z
    .string()
    .refine((v) => /^smtps?:\/\/[^\s]+$/.test(v), 'must be an smtp:// or smtps:// URL')
    .optional(),
  SMTP_FROM: z.string().min(3).default('Rotor <rotor@localhost>'),
  /** Refuse to send mail over a connection that could not be upgraded to TLS (STARTTLS). */
  SMTP_REQUIRE_TLS: z.enum(['true', 'false']).default('false'),
  SMTP_TLS_REJECT_UNAUTHORIZED: z.enum(['true', 'false']).default('true'),
  SLACK_TOKEN: z.string().min(1).optional(),
  SLACK_API_URL: z.url().optional(),
  ROTOR_SECURITY_EMAILS: z.string().optional(),
  ROTOR_SECURITY_SLACK_CHANNEL: z.string().optional(),
  ROTOR_SECURITY_ESCALATION_SLACK_CHANNEL: z.string().optional(),
  ROTOR_OPS_EMAILS: z.string().optional(),
  ROTOR_OPS_SLACK_CHANNEL: z.string().optional(),
  /**
   * Internal networks (CIDR blocks or addresses, comma-separated) webhook deliveries may reach
   * anyway, such as `10.20.0.0/16`. Empty (the default): only public addresses; loopback, private,
   * link-local (cloud metadata) and the other internal ranges are refused (webhooks/address-guard.ts).
   */
  ROTOR_WEBHOOK_ALLOWED_NETWORKS: networkList(),
  ROTOR_NOTIFY_DIGEST_SECONDS: z.coerce.number().min(0).max(3600).default(60),
  /**
   * Besides the sweep at startup, each worker looks for notification-outbox rows no notifier was
   * woken for every this many seconds; 0 (the default): at startup only, so an idle deployment
   * reads nothing. For deployments that scale workers down: see README → Notifications.
   */
  ROTOR_NOTIFY_OUTBOX_SWEEP_SECONDS: z.coerce.number().int().min(0).max(86_400).default(0),
  /** How often the security report goes to security (a Temporal Schedule); 0 turns it off. */
  ROTOR_SECURITY_REPORT_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(0)
    .max(31_536_000)
    .refine((v) => v === 0 || v >= 60, 'must be 0 (off) or at least 60')
    .default(604_800),
  /** Audit rows older than this many days are archived daily behind a checkpoint; 0: never. */
  ROTOR_AUDIT_RETENTION_DAYS: z.coerce.number().int().min(0).max(36_500).default(365),
  /** Delivered notification-outbox rows are deleted this many days after delivery (hourly); 0: kept. */
  ROTOR_NOTIFY_OUTBOX_RETENTION_DAYS: z.coerce.number().int().min(0).max(3650).default(7),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(8080),
  /**
   * Proxies (IPs or CIDR blocks, comma-separated) whose X-Forwarded-For the API believes when it
   * records a caller's IP. Empty (the default): the socket's peer address, whatever headers say.
   */
  ROTOR_TRUSTED_PROXIES: networkList(),
  /** This many 401/403 answers to one token or one client IP within the window is a burst. */
  ROTOR_AUTH_BURST_THRESHOLD: z.coerce.number().int().min(2).max(100_000).default(10),
  ROTOR_AUTH_BURST_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(60),
  /**
   * KV v2 paths (under VAULT_KV_MOUNT, comma-separated) the admin-only KV import may read from,
   * such as `legacy/orders,legacy/billing`. Empty (the default): KV import is refused, since it
   * reads paths outside Rotor's own.
   */
  ROTOR_IMPORT_KV_PREFIXES: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const prefixes = (v ?? '')
        .split(',')
        .map((p) => p.trim().replace(/^\/+|\/+$/g, ''))
        .filter(Boolean);
      for (const p of prefixes) {
        if (!KV_PATH.test(p) || p.split('/').some((s) => s === '..' || s === '.')) {
          ctx.addIssue({ code: 'custom', message: 'must list KV paths such as "legacy/orders"' });
          return z.NEVER;
        }
        if (p === 'rotor' || p.startsWith('rotor/') || p.startsWith('rotor-staging')) {
          ctx.addIssue({ code: 'custom', message: "must not name Rotor's own paths" });
          return z.NEVER;
        }
      }
      return prefixes;
    }),
  /** How long a new API token works unless its creator says otherwise (default 90 days). */
  ROTOR_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(157_680_000).default(7_776_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  ROTOR_MIN_ROTATION_INTERVAL_SECONDS: z.coerce.number().int().min(1).default(3600),
  /** How this worker names itself in Temporal (history, UI); the SDK's pid@host if unset. */
  ROTOR_WORKER_IDENTITY: z.string().min(1).max(200).optional(),
  ROTOR_MAX_VALUE_BYTES: z.coerce.number().int().min(1).max(1_048_576).default(65_536),
  /** The rotator's own least-privileged login to the PostgreSQL server whose roles it rotates. */
  ROTOR_TARGET_DATABASE_URL: postgresUrl.optional(),
  /** Server-side HMAC key for tenant API key hashes; long and random, never a default. */
  ROTOR_API_KEY_PEPPER: z.string().min(32, 'must be at least 32 characters').optional(),
  /** How often the API writes batched API-key usage (last used, count) to the database. */
  ROTOR_API_KEY_USAGE_FLUSH_SECONDS: z.coerce.number().min(1).max(3600).default(10),
  /**
   * How long the API serves a verified token or API key from memory; 0 disables the cache. Short
   * on purpose: change notifications drop entries at once, the TTL bounds what a silently dead
   * listener connection could miss (api/credential-cache.ts).
   */
  ROTOR_CREDENTIAL_CACHE_SECONDS: z.coerce.number().min(0).max(60).default(5),
  /** Where a worker serves Prometheus `/metrics` (its own and the Temporal SDK's); 0 picks a free port. */
  ROTOR_WORKER_METRICS_HOST: z.string().min(1).default('127.0.0.1'),
  ROTOR_WORKER_METRICS_PORT: port.default(9464),
  /**
   * Workflows a worker keeps in memory between tasks (the sticky cache). Sleeping secrets need no
   * slot: an evicted workflow is replayed from its (short) history when its timer fires, so this
   * bounds the worker's memory whatever the number of secrets (chosen for 100,000 secrets in 512 MB;
   * README, Performance, says at what size it was measured). It should stay above the rotations
   * in flight at once.
   */
  ROTOR_WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().min(0).max(100_000).default(500),
  /** Workflow tasks run at once: CPU-bound, on one thread with a reused V8 context. */
  ROTOR_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: z.coerce.number().int().min(2).max(1000).default(20),
  /** Activities run at once: they wait on Vault and PostgreSQL, so this is above the core count. */
  ROTOR_WORKER_MAX_CONCURRENT_ACTIVITIES: z.coerce.number().int().min(1).max(2000).default(50),
  /** Local activities run at once (short bookkeeping steps run inside a workflow task). */
  ROTOR_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES: z.coerce
    .number()
    .int()
    .min(1)
    .max(2000)
    .default(50),
  /**
   * How long a task for a cached workflow waits for this worker (its sticky queue) before any
   * worker may take it with a full replay; seconds.
   */
  ROTOR_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS: z.coerce.number().min(1).max(600).default(10),
  /**
   * Where a worker finds (or builds once, in a child process) its workflow bundle, by the
   * sources' hash, so webpack never runs in the worker; `.rotor-bundles` in the repository if unset.
   */
  ROTOR_WORKER_WORKFLOW_BUNDLE_DIR: z.string().min(1).optional(),
  /** Connections in each engine-database pool (worker, API); activities beyond it wait for one. */
  ROTOR_DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(500).default(10),
});
export type Env = z.infer<typeof envSchema>;

/** The typed configuration the rest of the code receives; nothing else reads process.env. */
export interface Config {
  temporal: { address: string; namespace: string; taskQueue: string; workerIdentity?: string };
  databaseUrl: string;
  vault: { addr: string; token: string; kvMount: string };
  /**
   * tokenTtlSeconds: the default lifetime of a token created through the API or CLI.
   * trustedProxies: peers (IPs, CIDR blocks) whose X-Forwarded-For is believed; empty: none.
   * authBurst: how many 401/403 answers to one token or IP within how long is a burst.
   */
  api: {
    host: string;
    port: number;
    tokenTtlSeconds: number;
    trustedProxies?: string[];
    authBurst?: { threshold: number; windowSeconds: number };
    /** KV paths the admin-only KV import may read (ROTOR_IMPORT_KV_PREFIXES); empty: refused. */
    importKvPrefixes?: string[];
    /** Seconds a verified token or API key is served from memory (0 or absent: never). */
    credentialCacheSeconds?: number;
  };
  logLevel: Env['LOG_LEVEL'];
  workerMetrics: { host: string; port: number };
  worker: WorkerSettings;
  /** Connections per engine-database pool. */
  databasePoolSize: number;
  policy: { minRotationIntervalSeconds: number; maxValueBytes: number };
  notifications: NotificationConfig;
  targets: {
    postgresUrl?: string;
    apiKeyPepper?: string;
    apiKeyUsageFlushSeconds: number;
  };
  /** Every this many seconds the security report is sent; 0: never. */
  securityReportIntervalSeconds: number;
  /** Audit rows older than this are archived by a daily Temporal Schedule; 0: never. */
  auditRetentionDays: number;
  /** Delivered outbox rows older than this are deleted by a daily Temporal Schedule; 0: never. */
  outboxRetentionDays: number;
}

/** How much a worker runs at once and keeps in memory (see the env schema for each). */
export interface WorkerSettings {
  maxCachedWorkflows: number;
  maxConcurrentWorkflowTasks: number;
  maxConcurrentActivities: number;
  maxConcurrentLocalActivities: number;
  stickyQueueTimeoutSeconds: number;
  /** The workflow-bundle cache folder; the repository's `.rotor-bundles` if unset. */
  workflowBundleDir?: string;
}

export interface NotificationConfig {
  smtp?: { url: string; from: string; requireTLS: boolean; rejectUnauthorized: boolean };
  slack?: { token: string; apiUrl?: string };
  security: { emails: string[]; slackChannel?: string; escalationSlackChannel?: string };
  ops: { emails: string[]; slackChannel?: string };
  /** Events for one tenant within this many seconds go out as one message per audience. */
  digestSeconds: number;
  /** A worker's periodic outbox sweep, in seconds; 0 or unset: only the one at startup. */
  outboxSweepSeconds?: number;
  /**
   * Internal networks webhook deliveries may reach (ROTOR_WEBHOOK_ALLOWED_NETWORKS); empty or
   * unset: public addresses only.
   */
  webhookAllowedNetworks?: string[];
}

const list = (v: string | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);

export function toConfig(env: Env): Config {
  return {
    temporal: {
      address: env.TEMPORAL_ADDRESS,
      namespace: env.TEMPORAL_NAMESPACE,
      taskQueue: env.TEMPORAL_TASK_QUEUE,
      ...(env.ROTOR_WORKER_IDENTITY ? { workerIdentity: env.ROTOR_WORKER_IDENTITY } : {}),
    },
    databaseUrl: env.DATABASE_URL,
    vault: { addr: env.VAULT_ADDR, token: env.VAULT_TOKEN, kvMount: env.VAULT_KV_MOUNT },
    api: {
      host: env.API_HOST,
      port: env.API_PORT,
      tokenTtlSeconds: env.ROTOR_TOKEN_TTL_SECONDS,
      trustedProxies: env.ROTOR_TRUSTED_PROXIES,
      authBurst: {
        threshold: env.ROTOR_AUTH_BURST_THRESHOLD,
        windowSeconds: env.ROTOR_AUTH_BURST_WINDOW_SECONDS,
      },
      importKvPrefixes: env.ROTOR_IMPORT_KV_PREFIXES,
      credentialCacheSeconds: env.ROTOR_CREDENTIAL_CACHE_SECONDS,
    },
    logLevel: env.LOG_LEVEL,
    workerMetrics: { host: env.ROTOR_WORKER_METRICS_HOST, port: env.ROTOR_WORKER_METRICS_PORT },
    worker: {
      maxCachedWorkflows: env.ROTOR_WORKER_MAX_CACHED_WORKFLOWS,
      maxConcurrentWorkflowTasks: env.ROTOR_WORKER_MAX_CONCURRENT_WORKFLOW_TASKS,
      maxConcurrentActivities: env.ROTOR_WORKER_MAX_CONCURRENT_ACTIVITIES,
      maxConcurrentLocalActivities: env.ROTOR_WORKER_MAX_CONCURRENT_LOCAL_ACTIVITIES,
      stickyQueueTimeoutSeconds: env.ROTOR_WORKER_STICKY_QUEUE_TIMEOUT_SECONDS,
      ...(env.ROTOR_WORKER_WORKFLOW_BUNDLE_DIR
        ? { workflowBundleDir: env.ROTOR_WORKER_WORKFLOW_BUNDLE_DIR }
        : {}),
    },
    databasePoolSize: env.ROTOR_DATABASE_POOL_SIZE,
    policy: {
      minRotationIntervalSeconds: env.ROTOR_MIN_ROTATION_INTERVAL_SECONDS,
      maxValueBytes: env.ROTOR_MAX_VALUE_BYTES,
    },
    notifications: {
      ...(env.SMTP_URL
        ? {
            smtp: {
              url: env.SMTP_URL,
              from: env.SMTP_FROM,
              requireTLS: env.SMTP_REQUIRE_TLS === 'true',
              rejectUnauthorized: env.SMTP_TLS_REJECT_UNAUTHORIZED === 'true',
            },
          }
        : {}),
      ...(env.SLACK_TOKEN
        ? {
            slack: {
              token: env.SLACK_TOKEN,
              ...(env.SLACK_API_URL ? { apiUrl: env.SLACK_API_URL } : {}),
            },
          }
        : {}),
      security: {
        emails: list(env.ROTOR_SECURITY_EMAILS),
        ...(env.ROTOR_SECURITY_SLACK_CHANNEL
          ? { slackChannel: env.ROTOR_SECURITY_SLACK_CHANNEL }
          : {}),
        ...(env.ROTOR_SECURITY_ESCALATION_SLACK_CHANNEL
          ? { escalationSlackChannel: env.ROTOR_SECURITY_ESCALATION_SLACK_CHANNEL }
          : {}),
      },
      ops: {
        emails: list(env.ROTOR_OPS_EMAILS),
        ...(env.ROTOR_OPS_SLACK_CHANNEL ? { slackChannel: env.ROTOR_OPS_SLACK_CHANNEL } : {}),
      },
      digestSeconds: env.ROTOR_NOTIFY_DIGEST_SECONDS,
      outboxSweepSeconds: env.ROTOR_NOTIFY_OUTBOX_SWEEP_SECONDS,
      webhookAllowedNetworks: env.ROTOR_WEBHOOK_ALLOWED_NETWORKS,
    },
    targets: {
      ...(env.ROTOR_TARGET_DATABASE_URL ? { postgresUrl: env.ROTOR_TARGET_DATABASE_URL } : {}),
      ...(env.ROTOR_API_KEY_PEPPER ? { apiKeyPepper: env.ROTOR_API_KEY_PEPPER } : {}),
      apiKeyUsageFlushSeconds: env.ROTOR_API_KEY_USAGE_FLUSH_SECONDS,
    },
    securityReportIntervalSeconds: env.ROTOR_SECURITY_REPORT_INTERVAL_SECONDS,
    auditRetentionDays: env.ROTOR_AUDIT_RETENTION_DAYS,
    outboxRetentionDays: env.ROTOR_NOTIFY_OUTBOX_RETENTION_DAYS,
  };
}
