import { envSchema, toConfig } from './schema';
import type { Config } from './schema';

/** Raised for bad configuration; its message names each variable but never echoes a value. */
export class ConfigError extends Error {
  readonly code = 'ROT_ERR_CONFIG';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Empty strings count as unset, as they do in most .env tooling.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, v]) => v !== undefined && v !== ''),
  );
  const parsed = envSchema.safeParse(cleaned);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = issue.path.join('.') || '(environment)';
      const missing = issue.code === 'invalid_type' && cleaned[name] === undefined;
      return missing ? `${name} is required but not set` : `${name} ${issue.message}`;
    });
    throw new ConfigError(problems);
  }
  return toConfig(parsed.data);
}

/** For process entry points: print the problem and exit 78 (EX_CONFIG) instead of a stack trace. */
export function loadConfigOrExit(env: Record<string, string | undefined> = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\nSee .env.example for every variable.\n`);
      process.exit(78);
    }
    throw err;
  }
}
