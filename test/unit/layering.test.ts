import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const ROOT = path.join(__dirname, '../..');
const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

/** One import as a rule sees it: what it names, where that is, and whether it is erased. */
interface Imported {
  specifier: string;
  /** Repository-relative path, or null for a package. */
  target: string | null;
  /** `import type` / `export type`: erased, so nothing is loaded or called at run time. */
  typeOnly: boolean;
}

interface Rule {
  from: string;
  forbidden: (imported: Imported) => boolean;
  /** Type-only imports of what is forbidden are allowed. */
  typesAllowed?: boolean;
  says: string;
}

const folder =
  (name: string) =>
  ({ target }: Imported): boolean =>
    target !== null && within(target, name);
const pkg =
  (name: string) =>
  ({ specifier }: Imported): boolean =>
    specifier === name || specifier.startsWith(`${name}/`);

/**
 * Which folder may not reach which. The API, control/ (the one road from the API to Temporal)
 * and the CLI use library code (vault/, audit/, reports/, schedule/, api-keys/) and engine/'s
 * clients, never the worker's activities; the API never reaches into the worker process, and
 * reaches Temporal only through control/: it may name the Temporal client's and the workflows'
 * types, but loads neither, so it cannot start, signal, update, query or catch anything itself.
 * engine/ builds the clients both processes use, so it depends on neither process nor on what
 * runs over its clients. A migration stays frozen in time, so it imports nothing of the app (only
 * its own folder and packages).
 */
const RULES: Rule[] = [
  ...['api', 'control', 'cli'].map((from) => ({
    from,
    forbidden: folder('activities'),
    says: 'activities/',
  })),
  { from: 'api', forbidden: folder('workers'), says: 'workers/' },
  {
    from: 'api',
    forbidden: pkg('@temporalio/client'),
    typesAllowed: true,
    says: '@temporalio/client except for types',
  },
  {
    from: 'api',
    forbidden: folder('workflows'),
    typesAllowed: true,
    says: 'workflows/ except for types',
  },
  ...['activities', 'api', 'control', 'workers', 'cli'].map((name) => ({
    from: 'engine',
    forbidden: folder(name),
    says: `${name}/`,
  })),
  {
    from: 'migrations',
    forbidden: ({ target }) => target !== null && !within(target, 'migrations'),
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

/**
 * The same imports as specifiersOf, read from the syntax tree so each says whether it is erased.
 * Only a declaration-level `import type` or `export type` counts: under verbatimModuleSyntax,
 * `import { type X } from 'm'` still loads 'm'.
 */
function importsOf(source: string): { specifier: string; typeOnly: boolean }[] {
  const file = ts.createSourceFile('scanned.ts', source, ts.ScriptTarget.Latest, true);
  const found: { specifier: string; typeOnly: boolean }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const typeOnly = node.importClause?.isTypeOnly ?? false;
      found.push({ specifier: node.moduleSpecifier.text, typeOnly });
    } else if (
      ts.isExportDeclaration(node) &&
      node.moduleSpecifier &&
      ts.isStringLiteral(node.moduleSpecifier)
    ) {
      found.push({ specifier: node.moduleSpecifier.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isImportEqualsDeclaration(node) &&
      ts.isExternalModuleReference(node.moduleReference) &&
      ts.isStringLiteral(node.moduleReference.expression)
    ) {
      found.push({ specifier: node.moduleReference.expression.text, typeOnly: node.isTypeOnly });
    } else if (
      ts.isCallExpression(node) &&
      (node.expression.kind === ts.SyntaxKind.ImportKeyword ||
        (ts.isIdentifier(node.expression) && node.expression.text === 'require')) &&
      node.arguments[0] &&
      ts.isStringLiteralLike(node.arguments[0])
    ) {
      found.push({ specifier: node.arguments[0].text, typeOnly: false });
    } else if (
      ts.isImportTypeNode(node) &&
      ts.isLiteralTypeNode(node.argument) &&
      ts.isStringLiteral(node.argument.literal)
    ) {
      // `typeof import('m')` in a type position.
      found.push({ specifier: node.argument.literal.text, typeOnly: true });
    } else if (ts.isModuleDeclaration(node) && ts.isStringLiteral(node.name)) {
      // `declare module 'm' { … }`: an augmentation of m's types.
      found.push({ specifier: node.name.text, typeOnly: true });
    }
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
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

/** `file -> specifier` for every import in `source` (the text of `file`) that the rule forbids. */
function violationsIn(rule: Rule, file: string, source: string): string[] {
  return importsOf(source)
    .map(({ specifier, typeOnly }) => ({ specifier, typeOnly, target: targetOf(file, specifier) }))
    .filter((imported) => !(rule.typesAllowed && imported.typeOnly) && rule.forbidden(imported))
    .map(({ specifier }) => `${file} -> ${specifier}`);
}

/** `file -> specifier` for every import in the rule's folder that it forbids. */
function violations(rule: Rule): string[] {
  return sourceFiles(rule.from).flatMap((file) =>
    violationsIn(rule, file, readFileSync(path.join(ROOT, file), 'utf8')),
  );
}

const ruleSaying = (from: string, says: string): Rule => {
  const rule = RULES.find((r) => r.from === from && r.says === says);
  if (!rule) throw new Error(`no rule for ${from} -> ${says}`);
  return rule;
};

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

  it('the syntax-tree scanner finds exactly what the preprocessor finds, in every source file', () => {
    const folders = [...new Set([...RULES.map((r) => r.from), 'workers', 'workflows', 'test'])];
    for (const file of folders.flatMap(sourceFiles)) {
      const source = readFileSync(path.join(ROOT, file), 'utf8');
      expect(
        importsOf(source).map((i) => i.specifier),
        file,
      ).toEqual(specifiersOf(source));
    }
  });

  it('a rule that allows types catches every import that loads the module, and only those', () => {
    const planted = [
      "import type { Client } from '@temporalio/client';",
      "export type { WorkflowHandle } from '@temporalio/client';",
      "import { WorkflowNotFoundError } from '@temporalio/client';",
      "import { type Connection } from '@temporalio/client';",
      "export { Client as C } from '@temporalio/client';",
      "const sdk = await import('@temporalio/client');",
      "import type { BulkProgress } from '../../workflows';",
      "import { statusQuery } from '../../workflows';",
      "import { createActivities } from '../../activities';",
    ].join('\n');
    const file = 'api/routes/planted.ts';
    expect(
      violationsIn(ruleSaying('api', '@temporalio/client except for types'), file, planted),
    ).toEqual([
      `${file} -> @temporalio/client`,
      `${file} -> @temporalio/client`,
      `${file} -> @temporalio/client`,
      `${file} -> @temporalio/client`,
    ]);
    expect(violationsIn(ruleSaying('api', 'workflows/ except for types'), file, planted)).toEqual([
      `${file} -> ../../workflows`,
    ]);
    // Where types are not allowed, a type import is a violation too.
    expect(violationsIn(ruleSaying('api', 'activities/'), file, planted)).toEqual([
      `${file} -> ../../activities`,
    ]);
    expect(
      violationsIn(
        ruleSaying('engine', 'activities/'),
        'engine/clients.ts',
        "import type { TargetDeps } from '../activities';",
      ),
    ).toEqual(['engine/clients.ts -> ../activities']);
  });

  it('control/ is the application layer the rules name, and client/ is gone', () => {
    expect(RULES.map((r) => r.from)).toContain('control');
    expect(RULES.map((r) => r.from)).not.toContain('client');
    expect(
      violationsIn(
        ruleSaying('control', 'activities/'),
        'control/planted.ts',
        "import type { TargetDeps } from '../activities';",
      ),
    ).toEqual(['control/planted.ts -> ../activities']);
  });

  it.each(RULES.map((rule) => [rule.from, rule.says, rule] as const))(
    'no file under %s/ imports %s',
    (_from, _says, rule) => {
      expect(sourceFiles(rule.from).length).toBeGreaterThan(0);
      expect(violations(rule)).toEqual([]);
    },
  );
});
