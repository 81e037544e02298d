import type { Kysely } from 'kysely';
import type { Database } from '../../db/schema';
import { NotificationKind, SecretType } from '../../domain';
import type { NotificationEvent } from '../../domain';
import { uniqueName } from './stack';

/** A tenant whose owners get email at owner@<tenant>.example and Slack in #<tenant>. */
export async function notifiedTenant(
  db: Kysely<Database>,
  prefix: string,
  settings: { slackChannel?: string } = {},
): Promise<string> {
  const id = uniqueName(prefix);
  await db
    .insertInto('tenants')
    .values({
      id,
      name: id,
      notification_settings: JSON.stringify({
        emails: [`owner@${id}.example`],
        slackChannel: `#${id}`,
        ...settings,
      }),
    })
    .execute();
  return id;
}

/**
 * A "rotation completed" event whose secret name (`<tag>0007x`) is unique, so each delivery of it
 * can be counted in the mail.
 */
export function completedEvent(tenantId: string, tag: string, n: number): NotificationEvent {
  return {
    kind: NotificationKind.RotationCompleted,
    audience: 'tenant',
    tenantId,
    secretName: `${tag}${String(n).padStart(4, '0')}x`,
    secretType: SecretType.ApiKey,
    workflowId: `secret/${tenantId}/${tag}${n}`,
    at: new Date().toISOString(),
    version: 2,
    previousVersion: 1,
  };
}
