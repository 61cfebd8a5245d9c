/**
 * Runs commands for the lab with a time limit each (through the dataplane's execCommand, the one spawner),
 * and starts the lab's long-lived processes inside its namespaces.
 */
import { type ChildProcess, spawn } from 'node:child_process'
import { closeSync, openSync } from 'node:fs'
import { type ExecResult, execCommand } from '../backends/index.js'

export type { ExecResult }

export interface ExecOptions {
  /** Written to the child's stdin, which is then closed. */
  readonly input?: string
  /** Killed with SIGKILL after this many ms (default 10 s). */
  readonly timeoutMs?: number
}

/** An error of a lab step, with the command and its stderr. */
export class LabError extends Error {
  override readonly name = 'LabError'
}

const DEFAULT_TIMEOUT_MS = 10_000

/** Runs argv with a time limit and resolves with its exit code and output; never rejects. */
export function run(argv: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
  return execCommand(argv[0] as string, argv.slice(1), {
    ...(o.input !== undefined ? { input: o.input } : {}),
    timeoutMs: o.timeoutMs ?? DEFAULT_TIMEOUT_MS,
  })
}

/** Runs argv and returns its stdout; rejects with a LabError naming the command when it fails or times out. */
export async function runOk(argv: readonly string[], o: ExecOptions = {}): Promise<string> {
  const r = await run(argv, o)
  if (r.code !== 0 || r.timedOut) {
    const why = r.timedOut ? `timed out after ${o.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms` : `exit ${r.code}`
    const cmd = argv.join(' ')
    throw new LabError(
      `${cmd.length > 200 ? `${cmd.slice(0, 200)}...` : cmd}: ${why}: ${r.stderr.trim().slice(0, 2000)}`,
    )
  }
  return r.stdout
}

/** Runs `ip [-n NS] -batch -` with the given lines (one process for many ip commands). */
export async function ipBatch(
  netns: string | undefined,
  lines: readonly string[],
  timeoutMs = 20_000,
): Promise<void> {
  if (lines.length === 0) return
  const argv = netns ? ['ip', '-n', netns, '-batch', '-'] : ['ip', '-batch', '-']
  await runOk(argv, { input: `${lines.join('\n')}\n`, timeoutMs })
}

/** Runs argv inside a network namespace (`ip netns exec NS ...`). */
export function runIn(netns: string, argv: readonly string[], o: ExecOptions = {}): Promise<ExecResult> {
  return run(['ip', 'netns', 'exec', netns, ...argv], o)
}

/** Runs argv inside a network namespace and returns stdout; rejects on failure. */
export function runInOk(netns: string, argv: readonly string[], o: ExecOptions = {}): Promise<string> {
  return runOk(['ip', 'netns', 'exec', netns, ...argv], o)
}

/** Resolves after ms milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}

/** Rejects with a LabError when the promise does not settle within ms. */
export async function withTimeout<T>(what: string, ms: number, p: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LabError(`${what}: timed out after ${ms} ms`)), ms)
  })
  try {
    return await Promise.race([p, limit])
  } finally {
    clearTimeout(timer)
  }
}

/**
 * Starts `node <argv>` inside a network namespace, detached, with stdout and stderr appended to logFile.
 * The child is unref'd: it outlives the caller when asked to, and teardown kills it with its namespace.
 */
export function spawnNodeInNetns(netns: string, argv: readonly string[], logFile: string): ChildProcess {
  const log = openSync(logFile, 'a')
  try {
    const child = spawn('ip', ['netns', 'exec', netns, process.execPath, ...argv], {
      detached: true,
      stdio: ['ignore', log, log],
    })
    child.on('error', () => undefined)
    child.unref()
    return child
  } finally {
    closeSync(log)
  }
}
