import type { FastifyRequest } from 'fastify';
import type { Role } from '../../domain';
import { ApiError } from '../errors';
import { TokenRefusal } from './tokens';
import type { Principal } from './tokens';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
    /** Why the presented token was refused, when it was (each reason has its own 401 code). */
    authRefusal?: TokenRefusal;
  }
}

const REFUSALS: Record<TokenRefusal, string> = {
  [TokenRefusal.Unauthenticated]: 'A valid bearer token is required',
  [TokenRefusal.Revoked]: 'This token has been revoked; ask an admin for a new one',
  [TokenRefusal.Expired]: 'This token has expired; ask an admin for a new one',
};

/** The caller, or 401 with the reason's own code (unknown, revoked or expired token). */
export function principalOf(req: FastifyRequest): Principal {
  if (!req.principal) {
    const refusal = req.authRefusal ?? TokenRefusal.Unauthenticated;
    throw new ApiError(401, refusal, REFUSALS[refusal]);
  }
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
