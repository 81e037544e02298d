import type { Kysely } from 'kysely';
import type { Database } from '../db';
import type { Principal } from './auth/tokens';
import { assertTenant } from './auth/access';
import { ApiError } from './errors';

/**
 * The secret's row, or 404. A tenant token naming another tenant is refused first, so another
 * tenant's secret answers exactly like a missing one.
 */
export async function findSecret(
  db: Kysely<Database>,
  principal: Principal,
  tenantId: string,
  name: string,
) {
  assertTenant(principal, tenantId);
  const row = await db
    .selectFrom('secrets')
    .selectAll()
    .where('tenant_id', '=', tenantId)
    .where('name', '=', name)
    .executeTakeFirst();
  if (!row) throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such secret');
  return row;
}
