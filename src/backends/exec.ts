/**
 * Runs a command (no shell) with stdin text and a time limit, optionally inside a network namespace
 * (`ip netns exec NAME ...`). Never throws: a missing binary gives code 127, a timeout kills the child
 * (SIGKILL) and sets timedOut.
 */
import { spawn } from 'node:child_process'
import { access, constants } from 'node:fs/promises'
import { delimiter, join } from 'node:path'

export interface ExecOptions {
  /** Network namespace to run in; absent = the current one. */
  readonly netns?: string
  /** Text written to stdin (stdin is closed after it). */
  readonly input?: string
  /** Time limit in ms (default 30 s). */
  readonly timeoutMs?: number
}

export interface ExecResult {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
  readonly timedOut: boolean
}

export const DEFAULT_EXEC_TIMEOUT_MS = 30_000

/** Returns true when a netns name is safe to pass to `ip netns` (what iproute2 accepts, no path tricks). */
export function isValidNetnsName(name: string): boolean {
  return /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$/.test(name) && name !== '.' && name !== '..'
}

/** Runs `cmd args...` and resolves with its exit code and output. */
export function execCommand(
  cmd: string,
  args: readonly string[],
  opts: ExecOptions = {},
): Promise<ExecResult> {
  if (opts.netns !== undefined && !isValidNetnsName(opts.netns)) {
    return Promise.resolve({
      code: 2,
      stdout: '',
      stderr: `invalid netns name: ${JSON.stringify(opts.netns)}`,
      timedOut: false,
    })
  }
  const argv = opts.netns !== undefined ? ['ip', 'netns', 'exec', opts.netns, cmd, ...args] : [cmd, ...args]
  return new Promise((resolve) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let timedOut = false
    let settled = false
    const finish = (r: ExecResult): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve(r)
    }
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, opts.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS)
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => err.push(b))
    child.stdin.on('error', () => undefined)
    child.on('error', (e) => finish({ code: 127, stdout: '', stderr: String(e), timedOut }))
    child.on('close', (code, signal) =>
      finish({
        code: code ?? (signal ? 128 : 1),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8') + (timedOut ? `\n${cmd}: killed after timeout` : ''),
        timedOut,
      }),
    )
    child.stdin.end(opts.input ?? '')
  })
}

/** Returns true when an executable of that name is on PATH (or in /usr/sbin, /sbin). */
export async function hasCommand(name: string): Promise<boolean> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/sbin']
  for (const d of dirs) {
    if (!d) continue
    try {
      await access(join(d, name), constants.X_OK)
      return true
    } catch {
      // not here
    }
  }
  return false
}
