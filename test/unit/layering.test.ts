import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '../..');
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/**
 * Which folder may not reach which. The API, its application layer and the CLI use library code
 * (vault/, audit/, reports/, schedule/, api-keys/) and engine/'s clients, never the worker's
 * activities; the API never reaches into the worker process; a migration stays frozen in time,
 * so it imports nothing of the app (only its own folder and packages).
 */
const RULES: { from: string; forbidden: (target: string) => boolean; says: string }[] = [
  ...['api', 'control', 'cli'].map((from) => ({
    from,
    forbidden: (target: string) => within(target, 'activities'),
    says: 'activities/',
  })),
  { from: 'api', forbidden: (target) => within(target, 'workers'), says: 'workers/' },
  {
    from: 'migrations',
    forbidden: (target) => !within(target, 'migrations'),
    says: 'anything outside migrations/',
  },
];

function within(target: string, folder: string): boolean {
  return target === folder || target.startsWith(`${folder}/`);
}

/** Every module specifier a source text imports, re-exports or loads dynamically. */
function specifiersOf(source: string): string[] {
  return ts.preProcessFile(source, true, true).importedFiles.map((f) => f.fileName);
}

/** The repository-relative path a specifier names, or null for a package. */
function targetOf(file: string, specifier: string): string | null {
  if (!specifier.startsWith('.')) return null;
  const absolute = path.resolve(ROOT, path.dirname(file), specifier);
  return path.relative(ROOT, absolute).split(path.sep).join('/');
}

function sourceFiles(folder: string): string[] {
  return readdirSync(path.join(ROOT, folder), { recursive: true, encoding: 'utf8' })
    .filter((name) => SOURCE.test(name))
    .map((name) => `${folder}/${name.split(path.sep).join('/')}`);
}

/** `file -> specifier` for every import in `folder` that the rule forbids. */
function violations(rule: (typeof RULES)[number]): string[] {
  return sourceFiles(rule.from).flatMap((file) =>
    specifiersOf(readFileSync(path.join(ROOT, file), 'utf8'))
      .filter((specifier) => {
        const target = targetOf(file, specifier);
        return target !== null && rule.forbidden(target);
      })
      .map((specifier) => `${file} -> ${specifier}`),
  );
}

describe('layering', () => {
  it('the scanner sees every form of import: type, multi-line, re-export, dynamic, side effect', () => {
    const planted = [
      "import type { Activities } from '../activities';",
      "import {\n  appendAudit,\n} from '../../activities/audit';",
      "export { x } from '../workers/clients';",
      "const m = await import('../activities/vault/kv');",
      "import '../workers/telemetry';",
      "// import { no } from '../activities';",
    ].join('\n');
    expect(specifiersOf(planted)).toEqual([
      '../activities',
      '../../activities/audit',
      '../workers/clients',
      '../activities/vault/kv',
      '../workers/telemetry',
    ]);
    expect(targetOf('api/routes/audit.ts', '../../activities/audit')).toBe('activities/audit');
    expect(targetOf('api/server.ts', '../engine')).toBe('engine');
    expect(targetOf('api/server.ts', 'kysely')).toBeNull();
  });

  it.each(RULES.map((rule) => [rule.from, rule.says, rule] as const))(
    'no file under %s/ imports %s',
    (_from, _says, rule) => {
      expect(sourceFiles(rule.from).length).toBeGreaterThan(0);
      expect(violations(rule)).toEqual([]);
    },
  );
});
