/**
 * A long-lived `nft -i` per network namespace (edge: a child process), fed one batch per line
 * (docs/dataplane.md#nft-session).
 *
 * Every `nft -f` process pays, before its first command, for loading libnftables and for building its
 * cache of the table (a dump of every chain and set: 5.5k chains and 3k sets at 102k pods), in fresh
 * memory: ~60 ms of a quiet core for a one-element change, most of it page faults. A running `nft -i`
 * fetches the same cache again for each line but into memory it already has, and starts nothing: a
 * one-element change costs ~10-20 ms.
 *
 * Protocol: `nft -i` (libedit, stdin not a terminal) reads one line, runs it as ONE buffer (one
 * netlink batch: one transaction, all or nothing, like `nft -f`) and prints errors on stderr; it says
 * nothing on success. After each batch line a sentinel line is written that can never parse
 * (`palisade_sync_<pid>_<n>`): nft answers it with a syntax error that echoes it, so whatever stderr
 * held before that echo is the batch's own output, and the batch failed when it holds an `Error:`.
 * A new process answers one sentinel before it gets a batch (a `nft` without `-i` support is found
 * before anything is sent). A batch not answered within the time limit, or a process that ends first,
 * leaves its outcome unknown: the process is killed and the caller is told so (the agent then reloads
 * the table in full, which is atomic and makes the outcome known again). The process is replaced after
 * a number of batches (libedit keeps every line in its history) and never writes a history file (HOME
 * points at /dev/null).
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process'
import { isValidNetnsName } from './exec.js'
import { NFT_FAMILY, NFT_TABLE } from './nftables/render.js'

/** Why a batch was not applied by the session. */
export class NftSessionError extends Error {
  constructor(
    message: string,
    /**
     * 'rejected': nft refused the batch (nothing changed); 'unknown': the process failed or timed out
     * after the batch was sent (it may or may not be in force); 'unavailable': nothing was sent (no
     * process could be started, or it does not speak the protocol).
     */
    readonly outcome: 'rejected' | 'unknown' | 'unavailable',
  ) {
    super(message)
  }
}

export interface NftSessionOptions {
  /** Network namespace (entered with nsenter); absent = the current one. */
  readonly netns?: string
  /** Time limit of one batch in ms (default 30 s). */
  readonly timeoutMs?: number
  /** Batches before the process is replaced (default 256). */
  readonly maxBatches?: number
  /** The command line of the process (tests); default nsenter + `nft -i`. */
  readonly command?: readonly string[]
}

/**
 * The first line of a process: fills nft's cache, changes nothing (no such set: see ready()). Our set
 * names are lower-case slugs (src/compile/names.ts), so this one is never ours.
 */
const WARM_LINE = `add element ${NFT_FAMILY} ${NFT_TABLE} Palisade_Warm_Up_No_Such_Set { 127.0.0.1 }`

/**
 * Lines longer than this go through a one-shot `nft -f` (the caller's choice: see fits()): libedit reads
 * its line one byte per read(2), so past ~60 KiB a new process is faster (measured, 10k elements in
 * 123 KB: 480 ms in the session, 190 ms one-shot; 1k elements in 12 KB: 48 ms against 106 ms).
 */
export const NFT_SESSION_MAX_LINE = 64 * 1024

interface Proc {
  readonly child: ChildProcessWithoutNullStreams
  err: string
  exited: boolean
  batches: number
  /** Wakes the batch in flight when stderr grows or the process ends. */
  wake?: () => void
}

/** One `nft -i` process at a time, started on first use and after any failure; batches run one by one. */
export class NftSession {
  private proc: Proc | undefined
  private queue: Promise<unknown> = Promise.resolve()
  private seq = 0
  private closed = false

  constructor(private readonly opts: NftSessionOptions = {}) {}

  /** True when the line can be sent as one batch (one line, not too long). */
  static fits(line: string): boolean {
    return line.length <= NFT_SESSION_MAX_LINE && !/[\n\r]/.test(line) && !line.endsWith('\\')
  }

  /** Runs one batch line; resolves when nft committed it, throws an NftSessionError otherwise. */
  run(line: string): Promise<void> {
    const next = this.queue.then(() => this.runNow(line))
    this.queue = next.catch(() => undefined)
    return next
  }

  /**
   * Starts the process now if none runs (after a full load: the next delta finds it ready), without
   * waiting for it. Best effort: a failure here shows again, and is handled, in the next run().
   */
  warm(): void {
    if (this.closed || (this.proc && !this.proc.exited)) return
    const next = this.queue.then(() => this.ready())
    this.queue = next.catch(() => undefined)
  }

  /** Ends the process (stdin closed, then killed if it lingers); a later run() starts a new one. */
  async close(): Promise<void> {
    this.closed = true
    await this.queue
    this.stop()
  }

  private argv(): readonly string[] {
    if (this.opts.command) return this.opts.command
    const ns = this.opts.netns
    if (ns === undefined) return ['nft', '-i']
    if (!isValidNetnsName(ns))
      throw new NftSessionError(`invalid netns name: ${JSON.stringify(ns)}`, 'unavailable')
    return ['nsenter', `--net=/run/netns/${ns}`, 'nft', '-i']
  }

  private stop(): void {
    const p = this.proc
    this.proc = undefined
    if (!p || p.exited) return
    p.child.stdin.end()
    const t = setTimeout(() => p.child.kill('SIGKILL'), 2000)
    t.unref()
    p.child.once('exit', () => clearTimeout(t))
  }

  private start(): Proc {
    const [cmd, ...args] = this.argv()
    const child = spawn(cmd as string, args, {
      stdio: ['pipe', 'pipe', 'pipe'],
      // libedit reads and writes $HOME/.nft.history: a path that is never a directory.
      env: { ...process.env, HOME: '/dev/null' },
    })
    const p: Proc = { child, err: '', exited: false, batches: 0 }
    child.stdout.resume() // prompts, if any: drained so the pipe never fills
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (s: string) => {
      p.err += s
      p.wake?.()
    })
    child.stdin.on('error', () => undefined)
    const ended = () => {
      p.exited = true
      p.wake?.()
    }
    child.on('error', ended)
    child.on('exit', ended)
    // Never keeps the agent's process alive on its own.
    child.unref()
    for (const s of [child.stdin, child.stdout, child.stderr]) (s as { unref?: () => void }).unref?.()
    return p
  }

  /** Writes `line` (may be '') and the sentinel; returns what stderr said before the sentinel's echo. */
  private async exchange(p: Proc, line: string, timeoutMs: number): Promise<string | undefined> {
    const tag = `palisade_sync_${process.pid}_${++this.seq}`
    p.err = ''
    p.child.stdin.write(line === '' ? `${tag}\n` : `${line}\n${tag}\n`)
    let timer: NodeJS.Timeout | undefined
    try {
      return await new Promise<string | undefined>((resolve) => {
        timer = setTimeout(() => resolve(undefined), timeoutMs)
        p.wake = () => {
          // The echo is the sentinel's own line, then the caret line under it.
          const at = p.err.indexOf(`\n${tag}\n`)
          const start = at >= 0 ? at + 1 : p.err.startsWith(`${tag}\n`) ? 0 : -1
          if (start >= 0 && p.err.indexOf('\n', start + tag.length + 1) >= 0) {
            // Drop the sentinel's error line (the line before the echo).
            const before = p.err.slice(0, Math.max(0, start - 1))
            resolve(before.slice(0, before.lastIndexOf('\n') + 1))
          } else if (p.exited) resolve(undefined)
        }
        p.wake()
      })
    } finally {
      clearTimeout(timer)
      p.wake = undefined
    }
  }

  /**
   * Returns the running process, or starts one and checks that it answers. Its first line also fills
   * nft's cache once (the first fill of a process costs most: fresh memory), by naming a set that does
   * not exist in an `add element`: nft fetches the table's chains and sets, finds no such set and
   * stops before the kernel sees anything. Nothing is ever changed by this line.
   */
  private async ready(): Promise<Proc> {
    if (this.closed) throw new NftSessionError('the nft session is closed', 'unavailable')
    const p0 = this.proc
    if (p0 && !p0.exited) return p0
    const p = this.start()
    this.proc = p
    const hello = await this.exchange(p, WARM_LINE, this.opts.timeoutMs ?? 30_000)
    if (hello === undefined) {
      const why = p.err.trim().split('\n')[0] ?? ''
      this.stop()
      throw new NftSessionError(`nft -i did not answer${why ? `: ${why}` : ''}`, 'unavailable')
    }
    return p
  }

  private async runNow(line: string): Promise<void> {
    if (!NftSession.fits(line)) throw new NftSessionError('the batch does not fit on one line', 'unavailable')
    const timeoutMs = this.opts.timeoutMs ?? 30_000
    const p = await this.ready()
    p.batches++
    const said = await this.exchange(p, line, timeoutMs)
    if (said === undefined) {
      const how = p.exited ? 'ended' : `did not answer within ${timeoutMs} ms`
      p.child.kill('SIGKILL')
      this.proc = undefined
      throw new NftSessionError(`nft -i ${how} during a batch: its outcome is unknown`, 'unknown')
    }
    if (p.batches >= (this.opts.maxBatches ?? 256)) {
      // Replaced now, off the next batch's path.
      this.stop()
      this.warm()
    }
    if (/\bError: /.test(said))
      throw new NftSessionError(said.trim().split('\n')[0] ?? 'nft rejected the batch', 'rejected')
  }
}
