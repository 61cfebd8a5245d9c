/**
 * iptables tracing for `palisade trace`. iptables-nft: one `-j TRACE` rule at the top of raw PREROUTING,
 * matching exactly the asked connection (TCP: only the SYN), read with `xtables-monitor --trace` and
 * deleted afterwards. iptables-legacy cannot be traced this way: its TRACE target writes to the kernel log,
 * which the kernel suppresses outside the initial network namespace (net.netfilter.nf_log_all_netns=0) and
 * which would need the host's log reader; `palisade trace` refuses it (exit 2) and says so.
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
import { chainNameOf, IPTABLES_ENTRY_CHAIN, IPTABLES_TIER_CHAINS, ruleComment } from './render.js'

/** Why iptables-legacy is not traced (printed by `palisade trace`, exit 2). */
export const LEGACY_TRACE_REFUSAL =
  'iptables-legacy cannot be traced: its TRACE target writes to the kernel log, which the kernel suppresses outside the initial network namespace (net.netfilter.nf_log_all_netns=0) and which palisade does not read; trace with nftables or iptables-nft (xtables-monitor --trace)'

/** Returns the rule spec (after `-I CHAIN`/`-D CHAIN`) of the trace rule. */
export function iptablesTraceRule(m: TraceMatch, tag: string): string[] {
  const tcp = m.protocol === 'TCP'
  return [
    '-p',
    tcp ? 'tcp' : 'udp',
    '-s',
    m.saddr,
    '-d',
    m.daddr,
    '--dport',
    String(m.dport),
    ...(tcp ? ['--tcp-flags', 'SYN,ACK,RST,FIN', 'SYN'] : []),
    '-m',
    'comment',
    '--comment',
    `palisade trace ${tag}`,
    '-j',
    'TRACE',
  ]
}

const VERDICTS: Readonly<Record<string, string>> = {
  ACCEPT: 'accept',
  DROP: 'drop',
  CONTINUE: 'continue',
  RETURN: 'return',
  // NFT_RETURN (-5): xtables-monitor prints the raw verdict code
  '0xfffffffb': 'return',
}

/** Reads the fields of a PACKET line (KEY=VALUE words and bare flags). */
function parsePacket(text: string): TracePacket {
  const kv = new Map<string, string>()
  const flags: string[] = []
  for (const w of text.trim().split(/\s+/)) {
    const eq = w.indexOf('=')
    if (eq > 0) kv.set(w.slice(0, eq), w.slice(eq + 1))
    else if (/^(SYN|ACK|FIN|RST|PSH|URG)$/.test(w)) flags.push(w)
  }
  const num = (k: string) => (kv.has(k) ? Number(kv.get(k)) : undefined)
  const sport = num('SPORT')
  const dport = num('DPORT')
  const get = (k: string) => kv.get(k)
  const out: Record<string, string | number> = {}
  const put = (k: string, v: string | number | undefined) => {
    if (v !== undefined && v !== '') out[k] = v
  }
  put('saddr', get('SRC'))
  put('daddr', get('DST'))
  put('protocol', get('PROTO')?.toLowerCase())
  put('sport', sport)
  put('dport', dport)
  put('iif', get('IN'))
  put('oif', get('OUT'))
  put('ipId', get('ID'))
  if (flags.length > 0) out.flags = flags.join(',')
  return out as TracePacket
}

/** Parses `xtables-monitor --trace` output into one trace per packet. */
export function parseXtablesTrace(text: string): RawTrace[] {
  const traces: { id: string; key: string; packet: TracePacket; steps: RawTraceStep[] }[] = []
  const latest = new Map<string, (typeof traces)[number]>()
  for (const raw of text.split('\n')) {
    const packet = /^PACKET: \d+ ([0-9a-f]+) (.*)$/.exec(raw.trimEnd())
    if (packet) {
      const id = packet[1] as string
      const p = parsePacket(packet[2] as string)
      const key = `${p.ipId ?? ''}|${p.sport ?? ''}|${p.flags ?? ''}`
      const cur = latest.get(id)
      if (cur && cur.key === key) {
        cur.packet = { ...p, ...cur.packet, ...(p.oif ? { oif: p.oif } : {}) }
        continue
      }
      const t = { id, key, packet: p, steps: [] as RawTraceStep[] }
      traces.push(t)
      latest.set(id, t)
      continue
    }
    const trace = /^\s*TRACE: \d+ ([0-9a-f]+) (\S+)(?:\s+(.*))?$/.exec(raw.trimEnd())
    if (!trace) continue
    const t = latest.get(trace[1] as string)
    if (!t) continue
    const [table, chain, kind, ...tail] = (trace[2] as string).split(':') as [
      string,
      string,
      string,
      ...string[],
    ]
    const ruleText = trace[3]?.trim()
    if (ruleText !== undefined && / -j TRACE\b/.test(ruleText)) continue
    if (table === 'raw' && kind === 'policy') continue
    const handle =
      tail[0]?.startsWith('0x') && tail.length > 1 ? Number.parseInt(tail.shift() as string, 16) : undefined
    const code = tail[0] ?? ''
    const verdict =
      code === 'JUMP' || code === 'GOTO'
        ? `${code.toLowerCase()} ${tail[1] ?? ''}`
        : (VERDICTS[code] ?? code.toLowerCase())
    const comment = ruleText === undefined ? undefined : parseComment(ruleText)
    t.steps.push({
      table,
      chain,
      kind: kind === 'policy' ? 'policy' : kind === 'return' ? 'return' : 'rule',
      verdict,
      ...(ruleText ? { rule: ruleText } : {}),
      ...(comment !== undefined ? { comment } : {}),
      ...(handle !== undefined && !Number.isNaN(handle) ? { handle } : {}),
    })
  }
  return traces.map((t) => ({ id: t.id, packet: t.packet, steps: t.steps }))
}

/** Returns the text of a rule's `--comment` as iptables prints it (quoted with `\'` escapes, or one word). */
function parseComment(rule: string): string | undefined {
  const q = /--comment "((?:[^"\\]|\\.)*)"/.exec(rule)
  if (q) return (q[1] as string).replace(/\\(.)/g, '$1')
  return /--comment (\S+)/.exec(rule)?.[1]
}

/** Says what each chain and policy rule comment of the node's iptables ruleset means. */
export function iptablesTraceIndex(ir: NodeIR): TraceIndex {
  const chains = new Map<string, ChainRole>()
  const rules = new Map<string, RuleRole>()
  chains.set(IPTABLES_ENTRY_CHAIN, { kind: 'base' })
  chains.set('PAL-EGRESS', { kind: 'base', direction: 'egress' })
  chains.set('PAL-INGRESS', { kind: 'base', direction: 'ingress' })
  chains.set('PAL-ALLOW', { kind: 'allow' })
  indexPolicyChains(
    ir,
    chains,
    rules,
    (c) => chainNameOf(c.id),
    (c, r) => commentText(ruleComment(c, r).slice(1, -1), 255, '_'),
  )
  for (const p of ir.pods) {
    const pod = `${p.namespace}/${p.name}`
    if (p.ingress) chains.set(chainNameOf(p.ingress.chain), { kind: 'pod', direction: 'ingress', pod })
    if (p.egress) chains.set(chainNameOf(p.egress.chain), { kind: 'pod', direction: 'egress', pod })
  }
  indexTierChains(ir, chains, chainNameOf, IPTABLES_TIER_CHAINS)
  // port dispatch (NetworkPolicy and tiers): PAL-T<hash>, its group chains and helpers (render.ts
  // renderPortDispatch; IR ids are lower case, so no chain of an IR id starts PAL-T)
  return {
    table: 'filter',
    chains,
    rules,
    patterns: [{ name: /^PAL-T[0-9a-z]{8}(?:-|$)/, role: { kind: 'port-dispatch' } }],
  }
}
