import { Counter } from 'prom-client';
import type { Registry } from 'prom-client';

/** Why a value read was refused: the audit row's `why`, as a bounded metric label. */
export const ValueReadRefusal = {
  Role: 'role',
  OtherTenant: 'other_tenant',
  NotFound: 'not_found',
  Policy: 'policy',
  Unavailable: 'unavailable',
  NoCurrentValue: 'no_current_value',
} as const;
export type ValueReadRefusal = (typeof ValueReadRefusal)[keyof typeof ValueReadRefusal];

/** What a burst of refusals is counted by. */
export const BurstKey = { Token: 'token', Ip: 'ip' } as const;
export type BurstKey = (typeof BurstKey)[keyof typeof BurstKey];

/** The tenant label of a refused read whose tenant does not exist (the URL names anything). */
export const UNKNOWN_TENANT = '(unknown)';

/**
 * Counters of what this API process refused. Unlike the engine metrics (counted from the
 * database, the same on every replica) these are per process: sum them across replicas.
 */
export interface SecurityMetrics {
  /** A value read refused, by the secret's tenant (UNKNOWN_TENANT if none) and the reason. */
  valueReadRefused(tenant: string, reason: ValueReadRefusal): void;
  /** A 401 or 403 answer, by status and code. */
  authRefused(status: 401 | 403, code: string): void;
  /** A burst of 401/403 answers for one token or one client IP (see AuthBurstDetector). */
  burst(by: BurstKey): void;
}

export function registerSecurityMetrics(registry: Registry): SecurityMetrics {
  const reads = new Counter({
    name: 'secret_value_reads_refused_total',
    help: 'Value reads the API refused, by the secret’s tenant and the reason (role, other_tenant, not_found, policy, unavailable, no_current_value)',
    labelNames: ['tenant', 'reason'],
    registers: [registry],
  });
  const refusals = new Counter({
    name: 'api_auth_refusals_total',
    help: '401 and 403 answers of the API, by status and error code',
    labelNames: ['status', 'code'],
    registers: [registry],
  });
  const bursts = new Counter({
    name: 'api_auth_refusal_bursts_total',
    help: 'Times one token or one client IP drew repeated 401/403 answers within the burst window',
    labelNames: ['kind'],
    registers: [registry],
  });
  // Series that exist from the first scrape at 0, so the first burst is an increase alerts see.
  for (const kind of Object.values(BurstKey)) bursts.inc({ kind }, 0);
  return {
    valueReadRefused: (tenant, reason) => reads.inc({ tenant, reason }),
    authRefused: (status, code) => refusals.inc({ status: String(status), code }),
    burst: (kind) => bursts.inc({ kind }),
  };
}
