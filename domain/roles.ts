/** Who may do what. The API derives a caller's roles from its token; workflows check them. */
export const Role = {
  Admin: 'admin',
  Security: 'security',
  Operator: 'operator',
  Tenant: 'tenant',
} as const;
export type Role = (typeof Role)[keyof typeof Role];
