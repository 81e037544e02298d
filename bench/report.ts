/** Printing: one line per figure, the Temporal figure beside its baseline from the same run. */

export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

export const ms = (v: number): string => (Number.isFinite(v) ? `${v.toFixed(0)} ms` : 'n/a');
export const perSecond = (v: number): string => `${v.toFixed(1)}/s`;
export const mb = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** `figure   Rotor … | baseline … | goal … (size)` on one line, flushed at once. */
export function figure(
  name: string,
  rotor: string,
  baseline: string,
  notes: { goal?: string; size: string },
): void {
  const goal = notes.goal ? `  goal ${notes.goal}` : '';
  process.stdout.write(
    `${name.padEnd(34)} Rotor ${rotor.padEnd(28)} baseline ${baseline.padEnd(26)}${goal}  [${notes.size}]\n`,
  );
}

/** A line on stderr for long phases, so stdout keeps only the figures. */
export function progress(message: string): void {
  process.stderr.write(`… ${message}\n`);
}

export function latencySummary(values: readonly number[]): string {
  return `p50 ${ms(percentile(values, 50))} p99 ${ms(percentile(values, 99))}`;
}
