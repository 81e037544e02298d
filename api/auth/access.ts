import type { FastifyRequest } from 'fastify';
import type { Role } from '../../domain';
import { ApiError } from '../errors';
import type { Principal } from './tokens';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

/** The caller, or 401. */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal)
    throw new ApiError(401, 'ROT_ERR_UNAUTHENTICATED', 'A valid bearer token is required');
  return req.principal;
}

/** The caller, if it holds one of `roles`; otherwise 403. */
export function requireRole(req: FastifyRequest, roles: readonly Role[]): Principal {
  const principal = principalOf(req);
  if (!roles.includes(principal.role)) {
    throw new ApiError(
      403,
      'ROT_ERR_FORBIDDEN',
      `This needs one of the roles: ${roles.join(', ')}`,
    );
  }
  return principal;
}

/**
 * A tenant token sees only its own tenant; anything else answers 404, exactly as if it did not
 * exist, so a tenant cannot even learn which other tenants or secrets there are.
 */
export function assertTenant(principal: Principal, tenantId: string): void {
  if (principal.role === 'tenant' && principal.tenantId !== tenantId) {
    throw new ApiError(404, 'ROT_ERR_NOT_FOUND', 'No such secret');
  }
}
