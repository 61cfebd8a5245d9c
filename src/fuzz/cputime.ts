/**
 * CPU time of a thread or a process, from /proc (Linux). The hang bound counts CPU, not wall time: on a
 * machine shared with other jobs a case can wait for a core far longer than it computes, and only the
 * computing is Palisade's doing. Returns undefined where /proc is not available (the wall clock is then
 * used).
 */
import { readFileSync, readlinkSync } from 'node:fs'

/** Linux reports utime and stime in clock ticks of 1/100 s (USER_HZ). */
const TICK_MS = 10

function cpuFromStat(path: string): number | undefined {
  try {
    const stat = readFileSync(path, 'utf8')
    // Fields after the command name (which may hold spaces and parentheses): state is field 3, utime 14, stime 15.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return (Number(rest[11]) + Number(rest[12])) * TICK_MS
  } catch {
    return undefined
  }
}

/** CPU milliseconds the calling thread has used so far. */
export function threadCpuMs(): number | undefined {
  return cpuFromStat('/proc/thread-self/stat')
}

/** The calling thread's Linux thread id (to watch it from another thread). */
export function threadTid(): number | undefined {
  try {
    return Number(readlinkSync('/proc/thread-self').split('/').pop())
  } catch {
    return undefined
  }
}

/** CPU milliseconds thread `tid` of this process has used. */
export function tidCpuMs(tid: number): number | undefined {
  return cpuFromStat(`/proc/${process.pid}/task/${tid}/stat`)
}

/** CPU milliseconds process `pid` has used (all its threads). */
export function pidCpuMs(pid: number): number | undefined {
  return cpuFromStat(`/proc/${pid}/stat`)
}
