import { isValidName } from '../../domain/naming';
import { CliError } from '../api-client';

/** The naming rule, as users read it (domain/naming.ts's NAME_PATTERN, plus no `..`). */
export const NAME_RULE =
  "1-63 characters: lowercase letters, digits, '.', '_' and '-', starting with a letter or digit, with no '..'";
const ID_RULE = "1-100 characters: letters, digits, '.', '_', ':' and '-', with no '..'";
const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,99}$/;

/** A usage error: exit status 2, and nothing has been sent. The value is not repeated. */
function invalid(field: string, kind: 'name' | 'id', rule: string): CliError {
  return new CliError(
    'ROT_ERR_VALIDATION',
    `${field} is not a valid ${kind}; nothing was sent`,
    [{ field, message: `must be ${rule}` }],
    2,
  );
}

/** A tenant id or secret name, checked against the naming rule; returned unchanged. */
export function checkName(value: string, field: string): string {
  if (!isValidName(value)) throw invalid(field, 'name', NAME_RULE);
  return value;
}

/**
 * A tenant id or secret name as one URL path segment. Every name the CLI puts into a path goes
 * through here, so `../other/secret` can never address another secret: it is refused before any
 * request, and what passes is percent-encoded as well.
 */
export function nameSegment(value: string, field: string): string {
  return encodeURIComponent(checkName(value, field));
}

/** Another id (a rotation, a batch) as one URL path segment, checked and encoded likewise. */
export function idSegment(value: string, field: string): string {
  if (!ID_PATTERN.test(value) || value.includes('..')) throw invalid(field, 'id', ID_RULE);
  return encodeURIComponent(value);
}

/**
 * `/api/v1/secrets/<tenant>/<name>` plus `rest`, with both names checked and encoded; `fields`
 * names them as the command line does (arguments `tenant` and `name` unless options).
 */
export function secretPath(
  tenant: string,
  name: string,
  rest = '',
  fields: { tenant: string; name: string } = { tenant: 'tenant', name: 'name' },
): string {
  return `/api/v1/secrets/${nameSegment(tenant, fields.tenant)}/${nameSegment(name, fields.name)}${rest}`;
}
