/**
 * CPU accounting for the CLI copy bench, from /proc (Linux only): where the
 * CPU of one copy goes — the client process (ferry or skopeo), the fresh
 * destination registry, the source registry. On a 2-core machine the copy is
 * CPU-bound, so these sums, not the client alone, set the wall time.
 *
 * The client's CPU is read from this process's `cutime + cstime` (the CPU of
 * children that were waited for): the delta across one child's run is that
 * child's user + sys, with no wrapper process in the timing.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const CLK_TCK = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/** Fields of /proc/PID/stat after the `(comm)`: utime is field 14 of the file, i.e. index 11 here. */
function statFields(pid: number | 'self'): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

const ticksToMs = (t: number) => (t * 1000) / CLK_TCK;

/** user + sys CPU (ms) of a running process; NaN once it is gone. */
export function processCpuMs(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const f = statFields(pid);
    return ticksToMs(Number(f[11]) + Number(f[12]));
  } catch {
    return NaN;
  }
}

/** user + sys CPU (ms) of this process's children that have exited and been waited for. */
export function reapedChildrenCpuMs(): number {
  const f = statFields('self');
  return ticksToMs(Number(f[13]) + Number(f[14]));
}

/** 1-minute load average (/proc/loadavg), for reading a run's noise. */
export function loadNow(): number {
  return Number(readFileSync('/proc/loadavg', 'utf8').split(' ')[0]);
}
