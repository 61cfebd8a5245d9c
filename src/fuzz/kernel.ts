/**
 * Kernel checks of compiled rulesets (edge): every nftables ruleset a case compiles goes through
 * `nft -c -f -` inside a throwaway network namespace the checker created (`pz-<pid>-fuzz-<n>`, removed
 * on stop), many rulesets per `nft` run. iptables rulesets go through `ipset restore` + `iptables-restore
 * --test` in a second namespace, one at a time, when the checker is free (the others are counted as
 * skipped). Nothing is ever loaded into the machine's own namespace.
 */
import { execFileSync } from 'node:child_process'
import { execCommand, hasCommand } from '../backends/exec.js'
import type { IptablesRuleset } from './execute.js'

let counter = 0

/** A shell step feeding `text` to `cmd` through a here-document; says which step failed on stderr. */
function iptStep(cmd: string, tag: string, text: string): string {
  if (text.trim() === '') return ':'
  const marker = `PALISADE_FUZZ_${tag}_EOF`
  // A line equal to the marker would end the document early: never in a compiled ruleset, but be sure.
  const body = text
    .split('\n')
    .filter((l) => l !== marker)
    .join('\n')
  return `${cmd} <<'${marker}' || { echo "${cmd}: refused" >&2; exit 1; }\n${body}\n${marker}`
}

/** Returns why kernel checks cannot run here, or undefined when they can. */
export async function kernelSkipReason(): Promise<string | undefined> {
  if (!(await hasCommand('nft'))) return 'nft is not installed (apt-get install nftables)'
  if (!(await hasCommand('ip'))) return 'ip is not installed (apt-get install iproute2)'
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'network namespaces need root'
  return undefined
}

async function createNetns(tag: string): Promise<string> {
  counter++
  const name = `pz-${process.pid}-fuzz-${tag}-${counter}`
  const r = await execCommand('ip', ['netns', 'add', name], { timeoutMs: 10_000 })
  if (r.code !== 0) throw new Error(`ip netns add ${name}: ${r.stderr}`)
  return name
}

async function deleteNetns(name: string): Promise<void> {
  if (!name.startsWith(`pz-${process.pid}-fuzz-`))
    throw new Error(`refusing to delete a namespace we did not create: ${name}`)
  await execCommand('ip', ['netns', 'del', name], { timeoutMs: 10_000 })
}

export interface KernelVerdict {
  readonly ok: boolean
  readonly stderr: string
}

interface Pending {
  readonly text: string
  readonly resolve: (v: KernelVerdict) => void
}

export interface KernelStats {
  nftChecked: number
  nftBatches: number
  nftRefused: number
  iptablesChecked: number
  iptablesSkipped: number
  iptablesRefused: number
}

/** Batches nftables rulesets into `nft -c` runs in a private namespace; checks iptables rulesets when idle. */
export class KernelChecker {
  readonly stats: KernelStats = {
    nftChecked: 0,
    nftBatches: 0,
    nftRefused: 0,
    iptablesChecked: 0,
    iptablesSkipped: 0,
    iptablesRefused: 0,
  }
  private nftNs?: string
  private iptNs?: string
  private queue: Pending[] = []
  private timer: NodeJS.Timeout | undefined
  private flushing: Promise<void> = Promise.resolve()
  private iptBusy = false

  constructor(
    private readonly batchSize = 40,
    private readonly maxWaitMs = 300,
  ) {}

  async start(): Promise<void> {
    this.nftNs = await createNetns('nft')
    this.iptNs = await createNetns('ipt')
    process.once('exit', this.removeOnExit)
  }

  /** Removes the namespaces even when the process exits without stop() (a second Ctrl-C, SIGTERM). */
  private readonly removeOnExit = (): void => {
    for (const ns of [this.nftNs, this.iptNs]) {
      if (ns === undefined || !ns.startsWith(`pz-${process.pid}-fuzz-`)) continue
      try {
        execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore', timeout: 10_000 })
      } catch {
        // already gone
      }
    }
  }

  /** Resolves with nft's verdict on one ruleset (checked together with others). */
  checkNft(text: string): Promise<KernelVerdict> {
    return new Promise((resolve) => {
      this.queue.push({ text, resolve })
      if (this.queue.length >= this.batchSize) this.flushSoon(0)
      else this.flushSoon(this.maxWaitMs)
    })
  }

  private flushSoon(ms: number): void {
    if (this.timer !== undefined && ms > 0) return
    clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = undefined
      const batch = this.queue.splice(0, this.queue.length)
      if (batch.length > 0) this.flushing = this.flushing.then(() => this.runBatch(batch))
    }, ms)
  }

  private async nft(text: string): Promise<KernelVerdict> {
    const r = await execCommand('nft', ['-c', '-f', '-'], {
      netns: this.nftNs as string,
      input: text,
      timeoutMs: 60_000,
    })
    return { ok: r.code === 0, stderr: r.stderr }
  }

  private async runBatch(batch: Pending[]): Promise<void> {
    this.stats.nftBatches++
    this.stats.nftChecked += batch.length
    // Each ruleset is `table ...; delete table ...; table ... {}`: concatenated, they are one valid transaction.
    const all = await this.nft(batch.map((p) => p.text).join('\n'))
    if (all.ok) {
      for (const p of batch) p.resolve(all)
      return
    }
    for (const p of batch) {
      const one = batch.length === 1 ? all : await this.nft(p.text)
      if (!one.ok) this.stats.nftRefused++
      p.resolve(one)
    }
  }

  /** Checks an iptables ruleset when no other is being checked; undefined when skipped. */
  async checkIptables(rs: IptablesRuleset): Promise<KernelVerdict | undefined> {
    if (this.iptBusy || this.iptNs === undefined) {
      this.stats.iptablesSkipped++
      return undefined
    }
    this.iptBusy = true
    try {
      this.stats.iptablesChecked++
      // One process for the three steps (each spawn of a large process costs milliseconds of its CPU):
      // the files go to a script's stdin as three here-documents.
      const script = [
        // Every set in the namespace is made by the steps below (the namespace is ours alone): destroy them all.
        "trap 'ipset destroy 2>/dev/null' EXIT",
        iptStep('ipset restore -exist', 'IPSET', rs.ipset),
        iptStep('iptables-restore --test --noflush', 'IPT4', rs.v4),
        iptStep('ip6tables-restore --test --noflush', 'IPT6', rs.v6),
      ].join('\n')
      const r = await execCommand('sh', ['-c', script], { netns: this.iptNs, timeoutMs: 60_000 })
      if (r.code !== 0) {
        this.stats.iptablesRefused++
        return { ok: false, stderr: r.stderr }
      }
      return { ok: true, stderr: '' }
    } finally {
      this.iptBusy = false
    }
  }

  /** Checks what is queued and removes the namespaces. */
  async stop(): Promise<void> {
    this.flushSoon(0)
    await new Promise((r) => setTimeout(r, 10))
    await this.flushing
    for (const ns of [this.nftNs, this.iptNs]) if (ns !== undefined) await deleteNetns(ns)
    this.nftNs = undefined
    this.iptNs = undefined
    process.off('exit', this.removeOnExit)
  }
}

const BROKEN_COMMENT = 'a line break in a name ends a # comment: the rest of the name is read as rules'

/** Why nft refused a ruleset, in words that do not depend on the case (for grouping). */
export function nftCause(text: string, stderr: string): string {
  const m = /\/dev\/stdin:(\d+):(\d+)(?:-\d+)?: (Error: .*)/.exec(stderr)
  if (!m) return normalizeKernelError(stderr.split('\n')[0] ?? '')
  const lines = text.split('\n')
  const at = Number(m[1])
  const line = lines[at - 1] ?? ''
  const before = lines[at - 2] ?? ''
  const error = normalizeKernelError(m[3] ?? '')
  if (before.startsWith('#') && !line.trimStart().startsWith('#')) return BROKEN_COMMENT
  // Where nft stopped: inside a quoted string (a comment broken by a quote or a line break), or in the rule.
  const upTo = Buffer.from(line, 'utf8')
    .subarray(0, Number(m[2]) - 1)
    .toString('utf8')
  if ((upTo.match(/"/g) ?? []).length % 2 === 1) return `inside a quoted string: ${error}`
  const rule = line.replace(/"[^"]*"/g, '""')
  if (/\b(?:dport|sport|tcp \.|udp \.|sctp \.)\s[^;]*?(?:\d+\.\d+(?!\.\d)|Infinity|NaN)/.test(rule))
    return `a port that is not an integer: ${error}`
  return error
}

// 's': a carriage return inside a comment belongs to that line for these tools.
const IPSET_LINE = /^(#.*|create .*|add .*|)$/s
const IPTABLES_LINE = /^(#.*|\*\w+|:\S+ .*|-[AIN] .*|COMMIT|)$/s

/** Why ipset/iptables-restore refused a ruleset, in words that do not depend on the case. */
export function iptablesCause(rs: IptablesRuleset, stderr: string): string {
  const step =
    /^(ipset restore|iptables-restore|ip6tables-restore)[^:]*: refused$/m.exec(stderr)?.[1] ?? 'restore'
  const [text, valid] =
    step === 'ipset restore'
      ? [rs.ipset, IPSET_LINE]
      : [step === 'iptables-restore' ? rs.v4 : rs.v6, IPTABLES_LINE]
  const lines = text.split('\n')
  const bad = lines.findIndex((l) => !valid.test(l))
  if (bad > 0 && (lines[bad - 1] ?? '').startsWith('#')) return `${step}: ${BROKEN_COMMENT}`
  const first = stderr.split('\n').find((l) => l.trim() !== '') ?? ''
  return `${step}: ${normalizeKernelError(first)}`
}

function normalizeKernelError(s: string): string {
  return s
    .replace(/unknown argument .*/, 'unknown argument')
    .replace(/line \d+/g, 'line N')
    .replace(/v\d+(\.\d+)*/g, 'vN')
    .replace(/'[^']*'|"[^"]*"/g, '…')
    .slice(0, 120)
}
