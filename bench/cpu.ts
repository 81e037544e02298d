import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { Stack } from '../devstack';

/**
 * CPU seconds used so far by each process of each part of the stack (Linux /proc; only this
 * process elsewhere). Kept per process: a PostgreSQL backend that exits takes its time with it,
 * so a part's total could shrink between two samples.
 */
export type CpuSample = Record<string, Map<number, number>>;

const TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  ppid: number;
  pgrp: number;
  seconds: number;
}

function readProcs(): ProcStat[] {
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return [];
  }
  const procs: ProcStat[] = [];
  for (const entry of entries) {
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after the command name, which may hold spaces: state ppid pgrp … utime(14) stime(15).
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.push({
        pid: Number(entry),
        ppid: Number(fields[1]),
        pgrp: Number(fields[2]),
        seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND,
      });
    } catch {
      // Gone in between.
    }
  }
  return procs;
}

/**
 * Samples CPU time per part: the Temporal dev server, OpenBao and the Rotor processes by their
 * process groups, PostgreSQL as the postmaster and its backends, and this process (the harness
 * and the direct baseline). Differences of two samples show where a phase's time went.
 */
export function sampleCpu(stack: Stack, groups: Record<string, number | undefined>): CpuSample {
  const procs = readProcs();
  const sample: CpuSample = {};
  const part = (name: string, match: (p: ProcStat) => boolean): void => {
    sample[name] = new Map(procs.filter(match).map((p) => [p.pid, p.seconds]));
  };
  const byGroup = (name: string, pgrp: number | undefined): void => {
    if (pgrp !== undefined) part(name, (p) => p.pgrp === pgrp);
  };
  byGroup('temporal', stack.pids.temporal);
  byGroup('openbao', stack.pids.openbao);
  for (const [name, pgrp] of Object.entries(groups)) byGroup(name, pgrp);
  try {
    const postmaster = Number(
      readFileSync(
        path.join(stack.stateDir, 'postgres', 'cluster', 'postmaster.pid'),
        'utf8',
      ).split('\n')[0],
    );
    part('postgres', (p) => p.pid === postmaster || p.ppid === postmaster);
  } catch {
    // Not on this layout.
  }
  const own = process.cpuUsage();
  sample['bench (harness, baseline)'] = new Map([[process.pid, (own.user + own.system) / 1e6]]);
  return sample;
}

/** "temporal 12.3 s, postgres 4.5 s, …" for the time between two samples, biggest first. */
export function cpuBetween(before: CpuSample, after: CpuSample, per = 1, unit = 's'): string {
  const used = (name: string, pids: Map<number, number>): number => {
    let total = 0;
    for (const [pid, seconds] of pids) total += seconds - (before[name]?.get(pid) ?? 0);
    return total;
  };
  return Object.entries(after)
    .map(([name, pids]) => [name, used(name, pids) / per] as const)
    .sort((a, b) => b[1] - a[1])
    .map(([name, v]) => `${name} ${unit === 'ms' ? (v * 1000).toFixed(1) : v.toFixed(1)} ${unit}`)
    .join(', ');
}
