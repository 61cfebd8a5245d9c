/**
 * The connection tracking table of a network namespace (edge, but for the pure parser): list it as a
 * stream (`conntrack -L -o extended`, one entry per line, handed over as it is read so a large table
 * never sits in memory as text), and delete chosen entries by their exact original tuple in one
 * `conntrack -R` batch (one process, whatever the count). Used by the agent's `--revoke-established`.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { IRFlow } from '../compile/index.js'
import type { Family, Protocol } from '../model/index.js'
import { DEFAULT_EXEC_TIMEOUT_MS, execCommand, isValidNetnsName } from './exec.js'

/** One direction of a conntrack entry. */
export interface ConntrackTuple {
  readonly src: string
  readonly dst: string
  readonly sport: number
  readonly dport: number
}

/** A TCP, UDP or SCTP entry of the table (the protocols NetworkPolicy speaks of). */
export interface ConntrackEntry {
  readonly family: Family
  readonly protocol: Protocol
  /** As the first packet arrived (before NAT). */
  readonly orig: ConntrackTuple
  /** As the answer is expected (after NAT: its source is the real destination). */
  readonly reply: ConntrackTuple
  /** TCP/SCTP state (ESTABLISHED, ...); absent for UDP. */
  readonly state?: string
  readonly zone?: number
}

const PROTOCOLS: Readonly<Record<string, Protocol>> = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' }

/**
 * Parses one line of `conntrack -L -o extended` (`ipv4 2 tcp 6 431999 ESTABLISHED src=.. dst=.. sport=..
 * dport=.. [UNREPLIED] src=.. dst=.. sport=.. dport=.. [ASSURED] mark=0 zone=3 use=1`). Undefined for
 * other protocols (ICMP, GRE...) and for lines that are not an entry.
 */
export function parseConntrackLine(line: string): ConntrackEntry | undefined {
  const t = line.trim().split(/\s+/)
  const family = t[0] === 'ipv4' ? 4 : t[0] === 'ipv6' ? 6 : undefined
  const protocol = PROTOCOLS[t[2] ?? '']
  if (family === undefined || protocol === undefined) return undefined
  const tuples: Record<string, string>[] = []
  let state: string | undefined
  let zone: number | undefined
  for (let i = 5; i < t.length; i++) {
    const tok = t[i] as string
    const eq = tok.indexOf('=')
    if (eq < 0) {
      if (i === 5 && /^[A-Z_]+$/.test(tok)) state = tok
      continue
    }
    const k = tok.slice(0, eq)
    const v = tok.slice(eq + 1)
    if (k === 'src') tuples.push({ src: v })
    else if (k === 'dst' || k === 'sport' || k === 'dport') {
      const cur = tuples[tuples.length - 1]
      if (cur) cur[k] = v
    } else if (k === 'zone') zone = Number(v)
  }
  const tuple = (r: Record<string, string> | undefined): ConntrackTuple | undefined => {
    if (!r || r.src === undefined || r.dst === undefined) return undefined
    const sport = Number(r.sport)
    const dport = Number(r.dport)
    if (!Number.isInteger(sport) || !Number.isInteger(dport)) return undefined
    return { src: r.src, dst: r.dst, sport, dport }
  }
  const orig = tuple(tuples[0])
  const reply = tuple(tuples[1])
  if (!orig || !reply) return undefined
  return {
    family,
    protocol,
    orig,
    reply,
    ...(state !== undefined ? { state } : {}),
    ...(zone !== undefined && Number.isInteger(zone) ? { zone } : {}),
  }
}

/**
 * The flow as the FORWARD hook saw its first packet: the original source (SNAT happens after FORWARD)
 * and the destination after DNAT (a Service address is already its backend pod), i.e. the reply's source.
 */
export function forwardFlow(e: ConntrackEntry): IRFlow {
  return {
    family: e.family,
    protocol: e.protocol,
    src: e.orig.src,
    sport: e.orig.sport,
    dst: e.reply.src,
    dport: e.reply.sport,
  }
}

/** The `conntrack -R` line that deletes exactly this entry (its original tuple, protocol, family, zone). */
export function deleteLine(e: ConntrackEntry): string {
  return deleteArgs(e, ['--sport', String(e.orig.sport), '--dport', String(e.orig.dport)])
}

/** `-D` with the entry's family, protocol, original source and destination, then `match`, then its zone. */
function deleteArgs(e: ConntrackEntry, match: readonly string[]): string {
  return [
    '-D',
    '-f',
    e.family === 4 ? 'ipv4' : 'ipv6',
    '-p',
    e.protocol.toLowerCase(),
    '-s',
    e.orig.src,
    '-d',
    e.orig.dst,
    ...match,
    ...(e.zone !== undefined ? ['-w', String(e.zone)] : []),
  ].join(' ')
}

/**
 * The `conntrack -R` line that deletes this entry and the entries that differ from it only by their
 * source port (the one field a verdict never depends on): the same protocol, family, original source,
 * original destination and port, reply source and port (the destination after DNAT) and zone. One line
 * per such group: conntrack dumps the whole table for every `-D` (conntrack-tools 1.4.7), so the cost is
 * one dump per group, not per entry.
 */
export function deleteGroupLine(e: ConntrackEntry): string {
  return deleteArgs(e, [
    '--dport',
    String(e.orig.dport),
    '-r',
    e.reply.src,
    '--reply-port-src',
    String(e.reply.sport),
  ])
}

/** `conntrack -D` lines per `conntrack -R` process. */
const DELETE_BATCH = 64

export interface ConntrackTarget {
  /** Network namespace (`ip netns exec`); absent = the current one. */
  readonly netns?: string
  /** Time limit of each command (default 30 s); the listing is killed after it. */
  readonly timeoutMs?: number
}

export interface ListStats {
  /** Lines read (every entry, any protocol). */
  readonly lines: number
  /** TCP, UDP and SCTP entries handed over. */
  readonly entries: number
}

/**
 * Streams the table (both families) to onEntry as it is read. Rejects when conntrack fails, times out
 * or is missing; entries handed over before that stand.
 */
export function listConntrack(
  target: ConntrackTarget,
  onEntry: (e: ConntrackEntry) => void,
): Promise<ListStats> {
  if (target.netns !== undefined && !isValidNetnsName(target.netns))
    return Promise.reject(new Error(`invalid netns name: ${JSON.stringify(target.netns)}`))
  const argv = [
    ...(target.netns !== undefined ? ['ip', 'netns', 'exec', target.netns] : []),
    'conntrack',
    '-L',
    '-o',
    'extended',
  ]
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0] as string, argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] })
    let lines = 0
    let entries = 0
    let stderr = ''
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, target.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS)
    child.stderr.on('data', (b: Buffer) => {
      if (stderr.length < 4096) stderr += b.toString('utf8')
    })
    const rl = createInterface({ input: child.stdout, crlfDelay: Number.POSITIVE_INFINITY })
    rl.on('line', (line) => {
      lines++
      const e = parseConntrackLine(line)
      if (!e) return
      entries++
      onEntry(e)
    })
    let spawnError: Error | undefined
    child.on('error', (err) => {
      spawnError = err
    })
    // 'close' comes after stdout ended, so every line was read.
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (spawnError) reject(new Error(`conntrack: ${spawnError.message}`))
      else if (timedOut)
        reject(new Error(`conntrack -L: killed after ${target.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS} ms`))
      else if (code !== 0)
        reject(new Error(`conntrack -L exited ${code ?? signal}: ${stderr.trim().split('\n').pop() ?? ''}`))
      else resolve({ lines, entries })
    })
  })
}

/**
 * Deletes the entries with `conntrack -R` batches, one line per group of entries that differ only by
 * source port (deleteGroupLine: every entry of a group has the same verdict); resolves with how many the
 * kernel deleted (an entry that ended meanwhile is not an error). Rejects when conntrack fails. A batch
 * goes through a file in the temporary folder (the DaemonSet's /tmp emptyDir): conntrack cannot open
 * /dev/stdin when stdin is the socket Node gives a child.
 */
export async function deleteConntrack(
  target: ConntrackTarget,
  entries: readonly ConntrackEntry[],
): Promise<{ readonly deleted: number }> {
  if (entries.length === 0) return { deleted: 0 }
  const lines = [...new Set(entries.map(deleteGroupLine))]
  const dir = await mkdtemp(join(tmpdir(), 'palisade-conntrack-'))
  let deleted = 0
  try {
    // Batches of DELETE_BATCH lines, each its own process and time limit: a large revocation makes
    // progress batch by batch (each line costs one dump of the table).
    for (let i = 0; i < lines.length; i += DELETE_BATCH) {
      const file = join(dir, `delete-${i}`)
      await writeFile(file, `${lines.slice(i, i + DELETE_BATCH).join('\n')}\n`)
      const r = await execCommand('conntrack', ['-R', file], {
        ...(target.netns !== undefined ? { netns: target.netns } : {}),
        timeoutMs: target.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
      })
      if (r.code !== 0)
        throw new Error(
          `conntrack -R exited ${r.code} after ${deleted} deleted: ${r.stderr.trim().split('\n').pop() ?? ''}`,
        )
      // conntrack prints each entry it deleted, one per line.
      deleted += r.stdout.split('\n').filter((l) => l.trim() !== '').length
    }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
  return { deleted }
}

/** The addresses of the namespace's own interfaces (`ip -j addr show`): flows from or to them are the node's. */
export async function listNodeAddresses(target: ConntrackTarget): Promise<string[]> {
  const r = await execCommand('ip', ['-j', 'addr', 'show'], {
    ...(target.netns !== undefined ? { netns: target.netns } : {}),
    timeoutMs: target.timeoutMs ?? DEFAULT_EXEC_TIMEOUT_MS,
  })
  if (r.code !== 0) throw new Error(`ip addr: ${r.stderr.trim()}`)
  const links = JSON.parse(r.stdout) as { addr_info?: { local?: string }[] }[]
  return links.flatMap((l) => (l.addr_info ?? []).flatMap((a) => (a.local ? [a.local] : [])))
}
