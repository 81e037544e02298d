import type { FastifyInstance, FastifyRequest } from 'fastify';
import { hasControlCharacter as hasControl, hasLoneSurrogate } from '../domain';
import { ApiError } from './errors';
import type { Issue } from './errors';

/**
 * The fields that may span lines, by route: values a tenant supplies (a certificate and its
 * private key are PEM). Every other string is a name, a reason or a filter, and single-line.
 */
const MULTILINE: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['POST /api/v1/secrets', new Set(['body.initialValue', 'body.initialPrivateKey'])],
  ['POST /api/v1/secrets/:tenantId/:name/supply', new Set(['body.value', 'body.privateKey'])],
]);
const SINGLE_LINE: ReadonlySet<string> = new Set();

/** Headers the API stores (in the engine database); the rest are read, never kept. */
const STORED_HEADERS = ['idempotency-key'] as const;

/** Enough to name what to fix without turning one bad request into a long answer. */
const MAX_ISSUES = 20;

const MESSAGE = 'must not contain control characters';
const KEY_MESSAGE = 'has a field name with control characters';
const SURROGATE_MESSAGE = 'must be well-formed Unicode (it holds a lone surrogate)';
const SURROGATE_KEY_MESSAGE = 'has a field name that is not well-formed Unicode';

/** What is wrong with one string, or null: control characters, or a lone surrogate. */
function textProblem(s: string, allowLines: boolean): string | null {
  if (hasControl(s, allowLines)) return MESSAGE;
  return hasLoneSurrogate(s) ? SURROGATE_MESSAGE : null;
}

function keyProblem(key: string): string | null {
  if (hasControl(key)) return KEY_MESSAGE;
  return hasLoneSurrogate(key) ? SURROGATE_KEY_MESSAGE : null;
}

/**
 * Every string in `value` (nested objects and arrays too, and object keys) that holds a control
 * character or a lone surrogate, as issues naming the field. Iterative, so a deeply nested body
 * cannot exhaust the stack. Such field names are not echoed: the issue names their parent.
 */
export function controlCharacterIssues(
  value: unknown,
  root: string,
  multiline: ReadonlySet<string> = SINGLE_LINE,
): Issue[] {
  const issues: Issue[] = [];
  // Most values are absent or one short string: answered without the stack.
  if (value === undefined || value === null) return issues;
  if (typeof value === 'string') {
    const problem = textProblem(value, multiline.has(root));
    if (problem) issues.push({ field: root, message: problem });
    return issues;
  }
  const stack: { value: unknown; field: string }[] = [{ value, field: root }];
  while (stack.length > 0 && issues.length < MAX_ISSUES) {
    const next = stack.pop();
    if (next === undefined) break;
    const { value: v, field } = next;
    if (typeof v === 'string') {
      const problem = textProblem(v, multiline.has(field));
      if (problem) issues.push({ field, message: problem });
    } else if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) stack.push({ value: v[i], field: `${field}.${i}` });
    } else if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v as Record<string, unknown>).reverse();
      for (const [key, child] of entries) {
        const problem = keyProblem(key);
        if (problem) {
          issues.push({ field, message: problem });
          continue;
        }
        stack.push({ value: child, field: `${field}.${key}` });
      }
    }
  }
  return issues;
}

function requestIssues(req: FastifyRequest): Issue[] {
  const multiline = MULTILINE.get(`${req.method} ${req.routeOptions.url ?? ''}`) ?? SINGLE_LINE;
  // Only the stored headers that are present (every request runs this: no object otherwise).
  let headers: Record<string, unknown> | undefined;
  for (const h of STORED_HEADERS) {
    if (req.headers[h] !== undefined) (headers ??= {})[h] = req.headers[h];
  }
  const issues = [
    ...controlCharacterIssues(req.params, 'params'),
    ...controlCharacterIssues(req.query, 'query'),
    ...controlCharacterIssues(headers, 'headers'),
    ...controlCharacterIssues(req.body, 'body', multiline),
  ];
  return issues.length > MAX_ISSUES ? issues.slice(0, MAX_ISSUES) : issues;
}

/**
 * Refuses control characters and lone surrogates in every string a request carries (path,
 * query, body, stored headers) with 400 ROT_ERR_VALIDATION naming each field, before any schema
 * or handler sees it. One hook for every route, so a new route cannot forget it.
 */
export function registerInputGuard(app: FastifyInstance): void {
  app.addHook('preValidation', (req, _reply, done) => {
    const issues = requestIssues(req);
    done(
      issues.length > 0
        ? new ApiError(400, 'ROT_ERR_VALIDATION', 'invalid request', issues)
        : undefined,
    );
  });
}
