import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { sql } from 'kysely';
import type { Database } from '../db/schema';
import { webhookSecretPath } from '../domain';
import type { VaultKv } from '../vault';
import { generateWebhookSecret } from './signing';

/** How long a rotated-out signing secret still signs (beside the new one), so receivers can move. */
export const PREVIOUS_SECRET_GRACE_SECONDS = 24 * 3600;

/** An endpoint as stored: nothing secret. */
export interface WebhookEndpoint {
  id: string;
  tenantId: string;
  url: string;
  events: string[];
  enabled: boolean;
  createdAt: Date;
  secretRotatedAt: Date | null;
}

const COLUMNS = [
  'id',
  'tenant_id',
  'url',
  'events',
  'enabled',
  'created_at',
  'secret_rotated_at',
] as const;

function toEndpoint(row: {
  id: string;
  tenant_id: string;
  url: string;
  events: unknown;
  enabled: boolean;
  created_at: Date;
  secret_rotated_at: Date | null;
}): WebhookEndpoint {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    url: row.url,
    events: Array.isArray(row.events)
      ? row.events.filter((e): e is string => typeof e === 'string')
      : [],
    enabled: row.enabled,
    createdAt: row.created_at,
    secretRotatedAt: row.secret_rotated_at,
  };
}

/** A tenant's endpoints, oldest first. */
export async function listWebhookEndpoints(
  db: Kysely<Database>,
  tenantId: string,
): Promise<WebhookEndpoint[]> {
  const rows = await db
    .selectFrom('webhook_endpoints')
    .select(COLUMNS)
    .where('tenant_id', '=', tenantId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
  return rows.map(toEndpoint);
}

/** One of a tenant's endpoints, or undefined (also for another tenant's). */
export async function findWebhookEndpoint(
  db: Kysely<Database>,
  tenantId: string,
  id: string,
): Promise<WebhookEndpoint | undefined> {
  const row = await db
    .selectFrom('webhook_endpoints')
    .select(COLUMNS)
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  return row ? toEndpoint(row) : undefined;
}

/**
 * Creates an endpoint and its signing secret. The secret goes to Vault first, so no row names an
 * endpoint whose secret write failed; it is returned once, to be shown once, and never stored here.
 */
export async function createWebhookEndpoint(
  db: Kysely<Database>,
  vault: VaultKv,
  spec: { tenantId: string; url: string; events: string[]; enabled: boolean; by: string },
): Promise<{ endpoint: WebhookEndpoint; secret: string }> {
  const id = randomUUID();
  const secret = generateWebhookSecret();
  await vault.write(webhookSecretPath(spec.tenantId, id), { secret }, 0);
  const row = await db
    .insertInto('webhook_endpoints')
    .values({
      id,
      tenant_id: spec.tenantId,
      url: spec.url,
      events: JSON.stringify(spec.events),
      enabled: spec.enabled,
      created_by: spec.by,
    })
    .returning(COLUMNS)
    .executeTakeFirstOrThrow();
  return { endpoint: toEndpoint(row), secret };
}

/** Removes the row and every version of its signing secret in Vault. */
export async function deleteWebhookEndpoint(
  db: Kysely<Database>,
  vault: VaultKv,
  tenantId: string,
  id: string,
): Promise<boolean> {
  const deleted = await db
    .deleteFrom('webhook_endpoints')
    .where('tenant_id', '=', tenantId)
    .where('id', '=', id)
    .executeTakeFirst();
  if ((deleted.numDeletedRows ?? 0n) === 0n) return false;
  await vault.deleteAll(webhookSecretPath(tenantId, id));
  return true;
}

/**
 * A new signing secret for an endpoint (a new Vault version, check-and-set). The one it replaces
 * keeps signing beside it for PREVIOUS_SECRET_GRACE_SECONDS, so receivers can switch unhurried.
 */
export async function rotateWebhookSecret(
  db: Kysely<Database>,
  vault: VaultKv,
  endpoint: WebhookEndpoint,
  now: Date = new Date(),
): Promise<{ secret: string; previousValidUntil: Date | null }> {
  const path = webhookSecretPath(endpoint.tenantId, endpoint.id);
  const current = await vault.read(path);
  const old = current?.data.secret;
  const secret = generateWebhookSecret();
  const previousValidUntil =
    typeof old === 'string' ? new Date(now.getTime() + PREVIOUS_SECRET_GRACE_SECONDS * 1000) : null;
  await vault.write(
    path,
    {
      secret,
      ...(typeof old === 'string' && previousValidUntil
        ? { previous: old, previousValidUntil: previousValidUntil.toISOString() }
        : {}),
    },
    current?.version ?? 0,
  );
  await db
    .updateTable('webhook_endpoints')
    .set({ secret_rotated_at: sql`now()` })
    .where('id', '=', endpoint.id)
    .execute();
  return { secret, previousValidUntil };
}

/** The secrets to sign with now: the current one, and the previous one while it is honoured. */
export async function signingSecrets(
  vault: VaultKv,
  tenantId: string,
  id: string,
  now: Date = new Date(),
): Promise<string[]> {
  const read = await vault.read(webhookSecretPath(tenantId, id));
  const { secret, previous, previousValidUntil } = read?.data ?? {};
  if (typeof secret !== 'string') return [];
  const previousLive =
    typeof previous === 'string' &&
    typeof previousValidUntil === 'string' &&
    Date.parse(previousValidUntil) > now.getTime();
  return previousLive ? [secret, previous] : [secret];
}
