import { z } from 'zod';
import { isValidName } from './naming';
import {
  TargetKind,
  isIamUserName,
  isManageableMariaDbHost,
  isManageableMariaDbUser,
} from './targets';
import type { MariaDbUserTarget } from './targets';

// Not re-exported from domain/index.ts: workflows import that index, and zod has no place in
// their bundle. control/ (the request validator) and the driver's folder import this file.

const userField = z
  .string()
  .refine(
    isManageableMariaDbUser,
    'must be 1-80 of A-Z, a-z, 0-9, "_", ".", "-", starting with a letter or "_"',
  );
const hostField = z
  .string()
  .refine(
    isManageableMariaDbHost,
    'must be "%" or a host name, address or netmask (A-Z, 0-9, ".", ":", "/", "-", "%"), at most 255 characters',
  );
const connectionField = z
  .string({ error: 'is required for a mariadb_user target' })
  .refine(isValidName, 'must be a connection name (1-63 of a-z, 0-9, ".", "_", "-")');

/** The request shape of a mariadb_user target; messages name the rule, never echo the value. */
export const mariaDbUserTargetSchema = z.discriminatedUnion('strategy', [
  z.strictObject({
    kind: z.literal(TargetKind.MariaDbUser),
    connection: connectionField,
    strategy: z.literal('single'),
    user: userField,
    host: hostField.optional(),
  }),
  z.strictObject({
    kind: z.literal(TargetKind.MariaDbUser),
    connection: connectionField,
    strategy: z.literal('alternating'),
    users: z
      .tuple([userField, userField])
      .refine(([a, b]) => a !== b, 'must name two different users'),
    host: hostField.optional(),
  }),
]) satisfies z.ZodType<MariaDbUserTarget>;

/**
 * The request shape of an aws_iam_access_key target; messages name the rule, never echo the
 * value. The connection is required here (there is no default AWS account); the driver's own
 * tests build specs without one.
 */
export const awsIamAccessKeyTargetSchema = z.strictObject({
  kind: z.literal(TargetKind.AwsIamAccessKey),
  connection: z
    .string({ error: 'is required for an aws_iam_access_key target' })
    .refine(isValidName, 'must be a connection name (1-63 of a-z, 0-9, ".", "_", "-")')
    .optional(),
  userName: z
    .string()
    .refine(isIamUserName, 'must be an IAM user name: 1-64 of letters, digits, _+=,.@-'),
  staleKeys: z.enum(['refuse', 'delete']).optional(),
});
