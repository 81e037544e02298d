/** The benchmark's sizes, from `npm run bench -- --flag N`. Every figure prints the size it ran at. */
export interface BenchSizes {
  /** Rotations measured closed-loop for throughput, per path. */
  throughput: number;
  /** Requests in flight at once in the throughput phase, per path. */
  concurrency: number;
  /** Tenants the throughput, single and open-loop secrets are spread over. */
  tenants: number;
  /** Single rotations, one at a time with nothing else running, per path. */
  single: number;
  /** Requests of the open-loop phase, per path (its rate is half the measured capacity). */
  open: number;
  /** Secrets one bulk request rotates (emergency), and the baseline rotates directly. */
  emergency: number;
  /** Sleeping secrets at the scale measurement (topped up if the phases before made fewer). */
  scale: number;
  /** Samples of the worker's RSS on the way to --scale (each after provisioning settles). */
  scaleSteps: number;
  /** Seconds the idle Vault and database calls are counted for (then scaled to an hour). */
  idleSeconds: number;
  /** Seconds of API-key verification load (autocannon), its connections, and requests each
   * connection keeps in flight (HTTP/1.1 pipelining; 1: none). */
  apiKeySeconds: number;
  apiKeyConnections: number;
  apiKeyPipelining: number;
}

/** The phases of `npm run bench`, in the order they run; `--only` picks some of them. */
export const BENCH_PHASES = [
  'single',
  'throughput',
  'open',
  'emergency',
  'api-keys',
  'scale',
] as const;
export type BenchPhase = (typeof BENCH_PHASES)[number];

/** The sizes, and the phases to run: all of them unless `--only` names some. */
export interface BenchRun extends BenchSizes {
  only: readonly BenchPhase[] | null;
}

/** Whether a run measures `phase` (every phase when `--only` was not given). */
export function runsPhase(run: BenchRun, phase: BenchPhase): boolean {
  return run.only === null || run.only.includes(phase);
}

export const DEFAULT_SIZES: BenchSizes = {
  throughput: 200,
  concurrency: 50,
  tenants: 8,
  single: 30,
  open: 100,
  emergency: 300,
  scale: 1000,
  scaleSteps: 3,
  idleSeconds: 30,
  apiKeySeconds: 10,
  apiKeyConnections: 50,
  apiKeyPipelining: 1,
};

const FLAGS: Record<string, keyof BenchSizes> = {
  '--throughput': 'throughput',
  '--concurrency': 'concurrency',
  '--tenants': 'tenants',
  '--single': 'single',
  '--open': 'open',
  '--emergency': 'emergency',
  '--scale': 'scale',
  '--scale-steps': 'scaleSteps',
  '--idle-seconds': 'idleSeconds',
  '--api-key-seconds': 'apiKeySeconds',
  '--api-key-connections': 'apiKeyConnections',
  '--api-key-pipelining': 'apiKeyPipelining',
};

export const USAGE = `npm run bench [-- flags]   (defaults finish in about 10 minutes on 2 cores)
${Object.entries(FLAGS)
  .map(([flag, key]) => `  ${flag.padEnd(24)} ${DEFAULT_SIZES[key]}`)
  .join('\n')}
  --only <phase,...>       every phase
      Runs only these phases, comma-separated:
      ${BENCH_PHASES.join(', ')}.
      The stack, the worker and the API still start; "open" also runs "throughput" (its
      rate is half the measured capacity). E.g. --only api-keys --api-key-seconds 10
The issue's full sizes: npm run bench -- --emergency 10000 --scale 100000`;

/** `--only`'s value: known phase names, comma-separated, at least one. */
function parsePhases(raw: string | undefined): BenchPhase[] {
  const names = (raw ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const known: readonly string[] = BENCH_PHASES;
  const unknown = names.find((n) => !known.includes(n));
  if (names.length === 0 || unknown !== undefined) {
    throw new UsageError(`--only needs phase names from: ${BENCH_PHASES.join(', ')}`);
  }
  return names as BenchPhase[];
}

/**
 * Parses `--flag N` and `--flag=N` (and `--only a,b`); an unknown flag or a value that is not a
 * positive integer stops the run.
 */
export function parseSizes(argv: readonly string[]): BenchRun {
  const sizes: BenchRun = { ...DEFAULT_SIZES, only: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    if (arg === '--help' || arg === '-h') throw new UsageError('');
    const [flag = '', inline] = arg.split('=', 2);
    if (flag === '--only') {
      sizes.only = [...new Set([...(sizes.only ?? []), ...parsePhases(inline ?? argv[++i])])];
      continue;
    }
    const key = FLAGS[flag];
    if (!key) throw new UsageError(`unknown flag ${arg}`);
    const raw = inline ?? argv[++i];
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) {
      throw new UsageError(`${flag} needs a positive integer`);
    }
    sizes[key] = value;
  }
  return sizes;
}

export class UsageError extends Error {
  /** True for --help: usage was asked for, nothing is wrong. */
  readonly help: boolean;
  constructor(problem: string) {
    super(problem ? `${problem}\n${USAGE}` : USAGE);
    this.name = 'UsageError';
    this.help = problem === '';
  }
}

/**
 * A bench entry point: parse the sizes from the command line (usage on stderr, exit 64, or 0 for
 * --help), then run `main` with them; a failure prints its stack and exits 1.
 */
export function runWithSizes(main: (sizes: BenchRun) => Promise<void>): void {
  let sizes: BenchRun;
  try {
    sizes = parseSizes(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(err instanceof UsageError ? (err.help ? 0 : 64) : 1);
  }
  main(sizes).catch((err: unknown) => {
    process.stderr.write(`✗ ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  });
}
