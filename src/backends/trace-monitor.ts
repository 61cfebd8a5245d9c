/**
 * The edge of `palisade trace`: a monitor process (`nft monitor trace`, `xtables-monitor --trace`) read while
 * a trace rule is in place, and the rule removed afterwards whatever happens. The backends say which
 * commands; this file runs them.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { type ExecResult, execCommand, isValidNetnsName } from './exec.js'
import type { TraceSession } from './trace.js'

export interface MonitorSpec {
  /** Network namespace (absent: the current one). */
  readonly netns?: string
  /** The monitor command, e.g. ['nft', 'monitor', 'trace']. */
  readonly monitor: readonly string[]
  /** Installs the trace rule; a non-zero exit is an error (the monitor is stopped, remove still runs). */
  readonly install: () => Promise<ExecResult>
  /** Removes the trace rule or table; runs on every path. */
  readonly remove: () => Promise<ExecResult>
  /** Time limit of each command in ms (default 10 s). */
  readonly timeoutMs?: number
}

/** How long a monitor needs to subscribe to trace events before the rule goes in (measured: < 50 ms). */
const MONITOR_SETTLE_MS = 250

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Runs a command of a trace spec inside the namespace. */
export function traceCommand(
  netns: string | undefined,
  argv: readonly string[],
  input?: string,
  timeoutMs = 10_000,
): Promise<ExecResult> {
  return execCommand(argv[0] as string, argv.slice(1), {
    ...(netns !== undefined ? { netns } : {}),
    ...(input !== undefined ? { input } : {}),
    timeoutMs,
  })
}

/**
 * Starts the monitor, waits for it to subscribe, installs the trace rule. On any failure the rule is
 * removed and the monitor stopped before the error is thrown.
 */
export async function startMonitorSession(spec: MonitorSpec): Promise<TraceSession> {
  if (spec.netns !== undefined && !isValidNetnsName(spec.netns))
    throw new Error(`invalid netns name: ${JSON.stringify(spec.netns)}`)
  const argv =
    spec.netns !== undefined ? ['ip', 'netns', 'exec', spec.netns, ...spec.monitor] : [...spec.monitor]
  const child: ChildProcess = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let exited: number | null | undefined
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString('utf8')
  })
  child.stderr?.on('data', (d: Buffer) => {
    err += d.toString('utf8')
  })
  const done = new Promise<void>((resolve) => {
    child.on('exit', (code) => {
      exited = code
      resolve()
    })
    child.on('error', (e) => {
      err += String(e)
      exited = 127
      resolve()
    })
  })
  let stopped: Promise<string> | undefined
  const stop = (): Promise<string> => {
    stopped ??= (async () => {
      try {
        await spec.remove()
      } finally {
        if (exited === undefined) {
          child.kill('SIGTERM')
          // an unref'd timer: a monitor that exits at once must not keep the process alive for 2 s
          await Promise.race([done, new Promise((r) => setTimeout(r, 2000).unref())])
          if (exited === undefined) child.kill('SIGKILL')
        }
      }
      return out
    })()
    return stopped
  }
  try {
    await sleep(MONITOR_SETTLE_MS)
    if (exited !== undefined)
      throw new Error(`${spec.monitor.join(' ')} exited (${exited}): ${err.trim() || 'no output'}`)
    const r = await spec.install()
    if (r.code !== 0 || r.timedOut)
      throw new Error(`installing the trace rule failed: ${r.timedOut ? 'timed out' : r.stderr.trim()}`)
  } catch (e) {
    await stop().catch(() => undefined)
    throw e
  }
  return {
    output: () => out,
    failure: () =>
      exited !== undefined && stopped === undefined
        ? `${spec.monitor.join(' ')} exited (${exited}): ${err.trim().split('\n').join('; ') || 'no output'}`
        : undefined,
    stop,
  }
}
