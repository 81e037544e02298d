import { Role } from '../../domain';
import { ApiError } from '../errors';
import { assertTenant } from './access';
import type { Principal } from './tokens';

/**
 * The tenant a listing or count is limited to, or null for all tenants. A tenant token always
 * gets its own; naming another tenant is refused (404), never quietly narrowed to its own.
 */
export function tenantScope(principal: Principal, requested: string | undefined): string | null {
  if (requested !== undefined) assertTenant(principal, requested);
  if (principal.role !== Role.Tenant) return requested ?? null;
  if (!principal.tenantId) throw new ApiError(403, 'ROT_ERR_FORBIDDEN', 'Token has no tenant');
  return principal.tenantId;
}
