/**
 * nftables tracing for `palisade trace`: a short-lived table of our own (`table inet palisade_trace_<tag>`)
 * whose one chain, on prerouting at priority mangle (-150: after conntrack at -200, before our forward
 * chains), sets `meta nftrace set 1` on the first packet (`ct state new`) of exactly the asked connection;
 * `nft monitor trace` prints every rule that packet then meets. The parser reads that output (nft 1.0.6
 * has no JSON for trace events: `nft -j monitor trace` prints text), the index says what our chains and
 * rule comments mean.
 */
import type { NodeIR } from '../../compile/index.js'
import { commentText } from '../../compile/index.js'
import type {
  ChainRole,
  RawTrace,
  RawTraceStep,
  RuleRole,
  TraceIndex,
  TraceMatch,
  TracePacket,
} from '../trace.js'
import { indexPolicyChains, indexTierChains } from '../trace.js'
import { denyChainName, NFT_TABLE, passChainName, ruleComment } from './render.js'

/** Every trace table starts with this; `palisade cleanup` and the tests look for it. */
export const NFT_TRACE_TABLE_PREFIX = 'palisade_trace'

/** Returns the name of a trace table: the prefix and a tag (a process id) so that two traces never share one. */
export function nftTraceTable(tag: string): string {
  return `${NFT_TRACE_TABLE_PREFIX}_${tag.replace(/[^A-Za-z0-9_]/g, '_')}`
}

/** Returns the `nft -f` text of the trace table: one rule marking the first packet of the connection. */
export function renderNftTraceTable(table: string, m: TraceMatch): string {
  const ip = m.family === 4 ? 'ip' : 'ip6'
  const l4 = m.protocol === 'TCP' ? 'tcp' : 'udp'
  return [
    `table inet ${table} {`,
    '\tcomment "palisade trace: removed when the trace ends"',
    '\tchain trace {',
    '\t\ttype filter hook prerouting priority mangle; policy accept;',
    `\t\tmeta l4proto ${l4} ${ip} saddr ${m.saddr} ${ip} daddr ${m.daddr} th dport ${m.dport} ct state new meta nftrace set 1`,
    '\t}',
    '}',
    '',
  ].join('\n')
}

/** Reads the header fields of a `packet:` line. */
function parsePacket(text: string): TracePacket {
  const field = (re: RegExp) => re.exec(text)?.[1]
  const num = (re: RegExp) => {
    const v = field(re)
    return v === undefined ? undefined : Number(v)
  }
  const saddr = field(/\bip6? saddr (\S+)/)
  const daddr = field(/\bip6? daddr (\S+)/)
  const protocol = field(/\bip protocol (\S+)/) ?? field(/\bip6 nexthdr (\S+)/)
  const sport = num(/\b(?:tcp|udp) sport (\d+)/)
  const dport = num(/\b(?:tcp|udp) dport (\d+)/)
  const iif = field(/\biif "([^"]*)"/)
  const oif = field(/\boif "([^"]*)"/)
  const ipId = field(/\bip id (\d+)/)
  const flags = field(/\btcp flags == (\S+)/)
  return {
    ...(saddr !== undefined ? { saddr } : {}),
    ...(daddr !== undefined ? { daddr } : {}),
    ...(protocol !== undefined ? { protocol } : {}),
    ...(sport !== undefined ? { sport } : {}),
    ...(dport !== undefined ? { dport } : {}),
    ...(iif !== undefined ? { iif } : {}),
    ...(oif !== undefined ? { oif } : {}),
    ...(ipId !== undefined ? { ipId } : {}),
    ...(flags !== undefined ? { flags } : {}),
  }
}

const LINE = /^trace id ([0-9a-f]+) (\S+) (\S+) (\S+) (.*)$/

/**
 * Parses `nft monitor trace` output (with or without `-a`) into one trace per packet: lines share a trace
 * id per packet; the kernel may reuse an id for a later packet, which a new IPv4 id tells apart.
 */
export function parseNftTrace(text: string): RawTrace[] {
  const traces: { id: string; key: string; packet: TracePacket; steps: RawTraceStep[] }[] = []
  const latest = new Map<string, (typeof traces)[number]>()
  for (const raw of text.split('\n')) {
    const line = raw.trimEnd()
    const m = LINE.exec(line)
    if (!m) continue
    const [, id, , table, chain, rest] = m as unknown as [string, string, string, string, string, string]
    if (rest.startsWith('packet: ')) {
      const packet = parsePacket(rest.slice('packet: '.length))
      const key = `${packet.ipId ?? ''}|${packet.sport ?? ''}|${packet.flags ?? ''}`
      const cur = latest.get(id)
      if (cur && cur.key === key) {
        // the same packet entering the next base chain: keep what the first packet line lacked (oif)
        cur.packet = { ...packet, ...cur.packet, ...(packet.oif ? { oif: packet.oif } : {}) }
        continue
      }
      const t = { id, key, packet, steps: [] as RawTraceStep[] }
      traces.push(t)
      latest.set(id, t)
      continue
    }
    const t = latest.get(id)
    if (!t) continue
    const rule = /^rule (.*?)(?: # handle (\d+))? \(verdict ([^)]*)\)$/.exec(rest)
    if (rule) {
      const text = (rule[1] as string).trim()
      const comment = /\bcomment "([^"]*)"/.exec(text)?.[1]
      t.steps.push({
        table,
        chain,
        kind: 'rule',
        verdict: (rule[3] as string).trim(),
        rule: text,
        ...(comment !== undefined ? { comment } : {}),
        ...(rule[2] !== undefined ? { handle: Number(rule[2]) } : {}),
      })
      continue
    }
    const policy = /^policy (\S+)/.exec(rest)
    if (policy) {
      t.steps.push({ table, chain, kind: 'policy', verdict: policy[1] as string })
      continue
    }
    const verdict = /^(?:verdict )?(return|continue|accept|drop)\b/.exec(rest)
    if (verdict) t.steps.push({ table, chain, kind: 'return', verdict: verdict[1] as string })
  }
  return traces.map((t) => ({
    id: t.id,
    packet: t.packet,
    steps: t.steps.filter((s) => !isTraceTable(s.table)),
  }))
}

const isTraceTable = (table: string) => table.startsWith(NFT_TRACE_TABLE_PREFIX)

/** Says what each chain and policy rule comment of the node's nftables ruleset means. */
export function nftTraceIndex(ir: NodeIR): TraceIndex {
  const chains = new Map<string, ChainRole>()
  const rules = new Map<string, RuleRole>()
  chains.set('egress', { kind: 'base', direction: 'egress' })
  chains.set('ingress', { kind: 'base', direction: 'ingress' })
  indexPolicyChains(
    ir,
    chains,
    rules,
    (c) => c.id,
    (c, r) => commentText(ruleComment(c, r)),
  )
  indexTierChains(ir, chains, (id) => id, {
    deny: { ingress: denyChainName('Ingress'), egress: denyChainName('Egress') },
    pass: { ingress: passChainName('Ingress'), egress: passChainName('Egress') },
  })
  for (const p of ir.pods) {
    const pod = `${p.namespace}/${p.name}`
    for (const [direction, d] of [
      ['ingress', p.ingress],
      ['egress', p.egress],
    ] as const) {
      if (!d) continue
      chains.set(d.chain, { kind: 'pod', direction, pod })
      // the port dispatch helpers of this pod chain: ports_<...>_h<n> (render.ts portMapName)
      const base = `ports_${d.chain.replace(/^pod_/, '')}`
      for (let n = 0; n < 64; n++) chains.set(`${base}_h${n}`, { kind: 'dispatch', direction, pod })
    }
  }
  // a tier's port dispatch: tdisp_<hash> (render.ts tierDispatchName)
  return { table: NFT_TABLE, chains, rules, patterns: [{ name: /^tdisp_/, role: { kind: 'port-dispatch' } }] }
}
