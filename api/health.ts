import type { HealthCheck } from '../engine';

export type { HealthCheck };

export interface DependencyStatus {
  status: 'up' | 'down';
  latencyMs: number;
  /** A short cause (timeout, ECONNREFUSED, HTTP 503), never a stack or a connection string. */
  error?: string;
}

const TIMEOUT_MS = 2000;

export async function runChecks(
  checks: Record<string, HealthCheck>,
): Promise<Record<string, DependencyStatus>> {
  const entries = await Promise.all(
    Object.entries(checks).map(async ([name, check]) => {
      const started = performance.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('timeout')), TIMEOUT_MS);
          }),
        ]);
        return [
          name,
          { status: 'up', latencyMs: Math.round(performance.now() - started) },
        ] as const;
      } catch (err) {
        return [
          name,
          {
            status: 'down',
            latencyMs: Math.round(performance.now() - started),
            error: shortCause(err),
          },
        ] as const;
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return Object.fromEntries(entries) as Record<string, DependencyStatus>;
}

function shortCause(err: unknown): string {
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && /^[A-Z_]+$/.test(code)) return code;
  const message = err instanceof Error ? err.message : '';
  return message === 'timeout' ? 'timeout' : (/HTTP \d{3}/.exec(message)?.[0] ?? 'unavailable');
}
