/** One line per step on stderr, so long first-run steps (compiling Temporal) never look hung. */
export interface Progress {
  step(message: string): void;
  done(message: string): void;
}

export const stderrProgress: Progress = {
  step: (m) => process.stderr.write(`… ${m}\n`),
  done: (m) => process.stderr.write(`✓ ${m}\n`),
};

export const silentProgress: Progress = { step: () => undefined, done: () => undefined };

export function since(startMs: number): string {
  return `${((Date.now() - startMs) / 1000).toFixed(1)}s`;
}
