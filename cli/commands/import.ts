import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { isValidName } from '../../domain/naming';
import { CliError } from '../api-client';
import { printObject, progressBar } from '../output';
import type { CliContext } from './context';
import { checkName, secretPath } from './names';

/** One `KEY=value` line of a .env file, with the secret name its key maps to. */
export interface EnvEntry {
  line: number;
  key: string;
  name: string;
  value: string;
}

/** A line that could not be read; says why, never what the line held. */
export interface EnvProblem {
  line: number;
  reason: string;
}

const KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** `DB_PASSWORD` → `db-password`: lowercased, `_` becomes `-`. */
export const secretNameFor = (key: string): string => key.toLowerCase().replace(/_/g, '-');

/** A quoted value and what follows it; null if the quote is never closed on this line. */
function unquote(raw: string): { value: string; rest: string } | null {
  const quote = raw[0];
  let value = '';
  for (let i = 1; i < raw.length; i++) {
    const c = raw[i] ?? '';
    if (c === quote) return { value, rest: raw.slice(i + 1) };
    if (quote === '"' && c === '\\' && i + 1 < raw.length) {
      const next = raw[++i] ?? '';
      value += next === 'n' ? '\n' : next === 'r' ? '\r' : next === 't' ? '\t' : next;
    } else value += c;
  }
  return null;
}

/**
 * Reads a .env file: `KEY=value` lines, blank lines and `#` comments, an optional `export `
 * prefix, values unquoted (a ` #` starts a comment), in double quotes (with \n, \", \\ escapes)
 * or single quotes (literal). A value spanning lines is not supported. Problems name the line
 * number and the rule, never the line's content: it holds a secret.
 */
export function parseDotEnv(text: string): { entries: EnvEntry[]; problems: EnvProblem[] } {
  const entries: EnvEntry[] = [];
  const problems: EnvProblem[] = [];
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = i + 1;
    let rest = raw.trim();
    if (rest === '' || rest.startsWith('#')) return;
    if (rest.startsWith('export ')) rest = rest.slice('export '.length).trimStart();
    const eq = rest.indexOf('=');
    if (eq < 0) return problems.push({ line, reason: 'is not KEY=value' });
    const key = rest.slice(0, eq).trim();
    if (!KEY.test(key)) return problems.push({ line, reason: 'has a malformed key' });
    let value = rest.slice(eq + 1).trim();
    if (value.startsWith('"') || value.startsWith("'")) {
      const quoted = unquote(value);
      if (!quoted) return problems.push({ line, reason: 'has a quote that is not closed' });
      const after = quoted.rest.trim();
      if (after !== '' && !after.startsWith('#'))
        return problems.push({ line, reason: 'has text after the closing quote' });
      value = quoted.value;
    } else {
      const comment = value.search(/\s#/);
      if (comment >= 0) value = value.slice(0, comment).trimEnd();
    }
    if (value === '') return problems.push({ line, reason: 'has an empty value' });
    const name = secretNameFor(key);
    if (!isValidName(name))
      return problems.push({ line, reason: 'has a key that maps to no valid secret name' });
    const earlier = seen.get(name);
    if (earlier !== undefined)
      return problems.push({ line, reason: `maps to the same secret name as line ${earlier}` });
    seen.set(name, line);
    entries.push({ line, key, name, value });
  });
  return { entries, problems };
}

type Outcome = 'created' | 'already managed' | 'would create' | 'failed';

interface ImportResult {
  line: number;
  name: string;
  outcome: Outcome;
  code?: string;
}

interface ImportOptions {
  tenant: string;
  fromKv?: string;
  type: string;
  interval?: number;
  cron?: string;
  grace?: number;
  allowValueRead?: boolean;
  dryRun?: boolean;
  partial?: boolean;
}

/**
 * `rotor import <file>`: brings every secret of a .env file under management with its current
 * value (POST /secrets with initialValue). Values go only into request bodies: nothing printed
 * names one, and a malformed line is reported by its number.
 */
export function registerImportCommand(program: Command, ctx: CliContext): void {
  program
    .command('import [file]')
    .description(
      'bring existing secrets under management from a .env file (KEY=value; DB_PASSWORD → db-password) or, with --from-kv, from the keys of an existing KV v2 secret (admin); never prints a value',
    )
    .option(
      '--from-kv <path>',
      'import the keys of this KV v2 secret (under the mount, e.g. legacy/orders) instead of a file',
    )
    .requiredOption('--tenant <id>', 'the tenant that owns them')
    .requiredOption('--type <type>', 'their type (api_key, database_password, service_token…)')
    .option('--interval <seconds>', 'rotate every N seconds', (v) => Number(v))
    .option('--cron <expression>', 'rotate on a cron schedule')
    .option('--grace <seconds>', 'keep the previous version valid this long', (v) => Number(v))
    .option('--allow-value-read', 'let `secrets value` read them over the API (audited)')
    .option('--dry-run', 'print what would be created; create nothing')
    .option('--partial', 'import the lines that parse even if others do not')
    .action(async (file: string | undefined, o: ImportOptions) => {
      const tenant = checkName(o.tenant, '--tenant');
      if ((file === undefined) === (o.fromKv === undefined)) {
        throw new CliError(
          'ROT_ERR_VALIDATION',
          'give either a .env file or --from-kv <path>, not both and not neither',
          [],
          2,
        );
      }
      if (o.fromKv !== undefined) return importFromKv(ctx, tenant, o.fromKv, o);
      if (file === undefined) return;
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (err) {
        const why = (err as { code?: string }).code ?? 'unreadable';
        throw new CliError('ROT_ERR_IMPORT_FILE', `cannot read ${file} (${why})`, [], 66);
      }
      const { entries, problems } = parseDotEnv(text);
      for (const p of problems) process.stderr.write(`✗ line ${p.line}: ${p.reason}\n`);
      if (problems.length > 0 && !o.partial) {
        throw new CliError(
          'ROT_ERR_IMPORT_MALFORMED',
          `${problems.length} line(s) of ${file} could not be read; nothing was imported (--partial imports the rest)`,
          [],
          2,
        );
      }
      const policy = policyOf(o);
      const api = ctx.api();
      const results: ImportResult[] = problems.map((p) => ({
        line: p.line,
        name: '',
        outcome: 'failed',
        code: 'ROT_ERR_IMPORT_MALFORMED',
      }));
      const tty = process.stderr.isTTY;
      const showProgress = entries.length > 1;
      for (const [i, entry] of entries.entries()) {
        const base = { line: entry.line, name: entry.name };
        if (o.dryRun) {
          const exists = await api.request('GET', secretPath(tenant, entry.name)).then(
            () => true,
            (err: unknown) => {
              if (err instanceof CliError && err.code === 'ROT_ERR_NOT_FOUND') return false;
              throw err;
            },
          );
          results.push({ ...base, outcome: exists ? 'already managed' : 'would create' });
        } else {
          try {
            await api.request('POST', '/api/v1/secrets', {
              tenantId: tenant,
              name: entry.name,
              type: o.type,
              initialValue: entry.value,
              ...(Object.keys(policy).length ? { policy } : {}),
            });
            results.push({ ...base, outcome: 'created' });
          } catch (err) {
            // Rotor or one of its dependencies is down: every remaining line would fail the same
            // way, so stop here (a re-run skips what was created).
            if (
              !(err instanceof CliError) ||
              err.code === 'ROT_ERR_UNREACHABLE' ||
              err.code === 'ROT_ERR_DEPENDENCY_UNAVAILABLE'
            )
              throw err;
            results.push(
              err.code === 'ROT_ERR_ALREADY_MANAGED'
                ? { ...base, outcome: 'already managed' }
                : { ...base, outcome: 'failed', code: err.code },
            );
          }
        }
        if (showProgress) {
          const line = progressBar(i + 1, entries.length, o.dryRun ? 'checked' : 'imported');
          process.stderr.write(tty ? `\r${line}` : `${line}\n`);
        }
      }
      if (showProgress && tty) process.stderr.write('\n');
      results.sort((a, b) => a.line - b.line);
      const count = (outcome: Outcome) => results.filter((r) => r.outcome === outcome).length;
      const summary = {
        tenant,
        type: o.type,
        dryRun: Boolean(o.dryRun),
        ...(o.dryRun ? { wouldCreate: count('would create') } : { created: count('created') }),
        alreadyManaged: count('already managed'),
        failed: count('failed'),
        secrets: results,
      };
      if (ctx.json()) printObject(summary, true);
      else {
        for (const r of results) {
          const what = r.name ? `${tenant}/${r.name}` : '(not read)';
          process.stdout.write(
            `line ${r.line}: ${what} ${r.outcome}${r.code ? ` (${r.code})` : ''}\n`,
          );
        }
        const done = o.dryRun
          ? `${count('would create')} would be created`
          : `${count('created')} created`;
        process.stdout.write(
          `${done}, ${summary.alreadyManaged} already managed, ${summary.failed} failed\n`,
        );
      }
      if (summary.failed > 0) process.exitCode = 1;
    });
}

/** The policy options both imports share, as the API takes them. */
function policyOf(o: ImportOptions): Record<string, unknown> {
  return {
    ...(o.interval !== undefined ? { intervalSeconds: o.interval } : {}),
    ...(o.cron !== undefined ? { cron: o.cron } : {}),
    ...(o.grace !== undefined ? { graceSeconds: o.grace } : {}),
    ...(o.allowValueRead ? { allowValueRead: true } : {}),
  };
}

interface KvImportAnswer {
  tenantId: string;
  path: string;
  type: string;
  dryRun: boolean;
  partial: boolean;
  secrets: { key: string; name: string | null; outcome: string; reason?: string }[];
}

/** What each outcome is called on a terminal; --json keeps the API's own words. */
const KV_OUTCOME_WORDS: Record<string, string> = {
  created: 'created',
  would_create: 'would create',
  exists: 'already managed',
  invalid_name: 'invalid name',
  invalid_value: 'invalid value',
  duplicate_name: 'duplicate name',
  not_imported: 'not imported',
  failed: 'failed',
};
const KV_SUCCESS = new Set(['created', 'would_create', 'exists']);

/**
 * `rotor import --from-kv <path>`: the API reads the KV v2 secret (admin, allowed prefixes
 * only) and creates one secret per key. The CLI never sees a value: the answer has none.
 */
async function importFromKv(
  ctx: CliContext,
  tenant: string,
  path: string,
  o: ImportOptions,
): Promise<void> {
  const policy = policyOf(o);
  const answer = await ctx
    .api()
    .request<KvImportAnswer>('POST', `/api/v1/tenants/${encodeURIComponent(tenant)}/imports/kv`, {
      path,
      type: o.type,
      ...(Object.keys(policy).length ? { policy } : {}),
      dryRun: Boolean(o.dryRun),
      partial: Boolean(o.partial),
    });
  const count = (outcome: string) => answer.secrets.filter((s) => s.outcome === outcome).length;
  const failed = answer.secrets.filter((s) => !KV_SUCCESS.has(s.outcome)).length;
  if (ctx.json()) printObject(answer, true);
  else {
    for (const s of answer.secrets) {
      const what = s.name ? `${tenant}/${s.name}` : '(no valid name)';
      const word = KV_OUTCOME_WORDS[s.outcome] ?? s.outcome;
      process.stdout.write(`key ${s.key}: ${what} ${word}${s.reason ? ` (${s.reason})` : ''}\n`);
    }
    const done = o.dryRun
      ? `${count('would_create')} would be created`
      : `${count('created')} created`;
    process.stdout.write(`${done}, ${count('exists')} already managed, ${failed} failed\n`);
  }
  if (failed > 0) process.exitCode = count('not_imported') > 0 ? 2 : 1;
}
