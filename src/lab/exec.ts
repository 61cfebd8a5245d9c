/** Runs commands for the lab with a time limit each; the only place the lab spawns processes. */
import { spawn } from 'node:child_process'

export interface ExecResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
}

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
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, o.timeoutMs ?? DEFAULT_TIMEOUT_MS)
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.stdin.on('error', () => undefined)
    child.on('error', (e) => {
      clearTimeout(timer)
      resolve({ code: 127, stdout: '', stderr: String(e), timedOut })
    })
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({
        code: code ?? 128,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        timedOut,
      })
    })
    child.stdin.end(o.input ?? '')
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
