/**
 * A naive interpreter of the nftables backend's STRUCTURE (src/backends/nftables/structure.ts): runs a
 * new connection's first packet through the base chains of `table inet palisade` on the forward hook,
 * in priority order, reading each rule statement as nft would. It knows exactly the statements the
 * renderer writes and throws on anything else, so a new statement shape cannot pass unread.
 */
import type {
  NftChain,
  NftMap,
  NftSet,
  NftTable,
  NftVerdict,
} from '../../../src/backends/nftables/structure.js'
import { inAddress, inPortRange, type Packet } from './packet.js'

/** 'return': a goto's target ended without a verdict, so the chain that went there ends too. */
type Verdict = 'accept' | 'drop' | 'continue' | 'return'

const L4 = { tcp: 'TCP', udp: 'UDP', sctp: 'SCTP' } as const

/** Splits a statement into tokens: words, `{ ... }` groups as one token, quoted strings as one token. */
function tokenize(rule: string): string[] {
  const out: string[] = []
  let i = 0
  while (i < rule.length) {
    const c = rule[i] as string
    if (c === ' ') {
      i++
    } else if (c === '"') {
      const end = rule.indexOf('"', i + 1)
      out.push(rule.slice(i, end + 1))
      i = end + 1
    } else if (c === '{') {
      const end = rule.indexOf('}', i)
      out.push(rule.slice(i, end + 1))
      i = end + 1
    } else {
      let j = i
      while (j < rule.length && rule[j] !== ' ') j++
      out.push(rule.slice(i, j))
      i = j
    }
  }
  return out
}

/** The values of a `{ a, b }` group or a single value. */
function values(token: string): string[] {
  return token.startsWith('{')
    ? token
        .slice(1, -1)
        .split(',')
        .map((v) => v.trim())
    : [token]
}

class NftInterpreter {
  private readonly objects = new Map<string, NftSet | NftMap | NftChain>()

  constructor(private readonly table: NftTable) {
    for (const o of table.objects) this.objects.set(`${o.kind === 'chain' ? 'chain' : 'set'}:${o.name}`, o)
  }

  /** Runs the packet through the forward hook's base chains; true when none drops it. */
  forward(p: Packet): boolean {
    const base = this.table.objects
      .filter((o): o is NftChain => o.kind === 'chain' && o.hook !== undefined)
      .map((c) => ({
        c,
        prio: c.hook?.priority === 'filter' ? 0 : Number(c.hook?.priority.replace('filter + ', '')),
      }))
      .sort((a, b) => a.prio - b.prio)
    for (const { c } of base) {
      if (this.chain(c.name, p, 0) === 'drop') return false
    }
    return true
  }

  private set(name: string): NftSet | NftMap {
    const o = this.objects.get(`set:${name.replace(/^@/, '')}`)
    if (!o || o.kind === 'chain') throw new Error(`nft: no set ${name}`)
    return o
  }

  private chain(name: string, p: Packet, depth: number): Verdict {
    const c = this.objects.get(`chain:${name}`)
    if (c?.kind !== 'chain') throw new Error(`nft: no chain ${name}`)
    if (depth > 16) throw new Error(`nft: jumps too deep at ${name}`)
    for (const rule of c.rules) {
      const v = this.rule(rule, p, depth)
      if (v === 'return') return 'continue'
      if (v !== 'continue') return v
    }
    return 'continue'
  }

  private verdict(v: NftVerdict, p: Packet, depth: number): Verdict {
    if (!('chain' in v)) return v.kind
    const end = this.chain(v.chain, p, depth + 1)
    // a goto does not come back: the chain that went there ends with its target
    return v.kind === 'goto' && end === 'continue' ? 'return' : end
  }

  /** Address of the packet for `ip saddr` / `ip6 daddr`; undefined when the family does not match. */
  private address(kw: string, field: string, p: Packet): string | undefined {
    if ((kw === 'ip' && p.family !== 4) || (kw === 'ip6' && p.family !== 6)) return undefined
    if (field === 'saddr') return p.src
    if (field === 'daddr') return p.dst
    throw new Error(`nft: unknown field ${kw} ${field}`)
  }

  /** Evaluates one rule statement: a verdict, or 'continue' when a match fails or nothing is decided. */
  private rule(rule: string, p: Packet, depth: number): Verdict {
    const t = tokenize(rule)
    let i = 0
    while (i < t.length) {
      const w = t[i] as string
      if (w === 'meta' && t[i + 1] === 'l4proto' && t[i + 2] === '.' && t[i + 3] === 'th') {
        // meta l4proto . th dport vmap @map
        if (t[i + 4] !== 'dport' || t[i + 5] !== 'vmap') throw new Error(`nft: cannot read ${rule}`)
        const map = this.set(t[i + 6] as string)
        if (map.kind !== 'map') throw new Error(`nft: ${t[i + 6]} is not a map`)
        const hit = map.elements.find((e) => {
          const [proto, range] = e.key.split(' . ') as [keyof typeof L4, string]
          return L4[proto] === p.protocol && inPortRange(range, p.port)
        })
        return hit ? this.verdict(hit.verdict, p, depth) : 'continue'
      } else if (w === 'meta' && t[i + 1] === 'l4proto') {
        if (L4[t[i + 2] as keyof typeof L4] !== p.protocol) return 'continue'
        i += 3
      } else if (w === 'meta' && t[i + 1] === 'nfproto') {
        if (t[i + 2] !== `ipv${p.family}`) return 'continue'
        i += 3
      } else if ((w === 'tcp' || w === 'udp') && t[i + 1] === 'dport') {
        if (L4[w] !== p.protocol) return 'continue'
        if (!values(t[i + 2] as string).some((v) => inPortRange(v, p.port))) return 'continue'
        i += 3
      } else if (w === 'th' && t[i + 1] === 'dport') {
        if (!values(t[i + 2] as string).some((v) => inPortRange(v, p.port))) return 'continue'
        i += 3
      } else if ((w === 'ip' || w === 'ip6') && t[i + 2] === '.' && t[i + 3] === 'th') {
        // ip daddr . th dport @named_port_set
        const addr = this.address(w, t[i + 1] as string, p)
        const set = this.set(t[i + 5] as string)
        if (t[i + 4] !== 'dport' || set.kind !== 'set') throw new Error(`nft: cannot read ${rule}`)
        const hit =
          addr !== undefined &&
          set.elements.some((e) => {
            const [a, port] = e.split(' . ') as [string, string]
            return inAddress(a, addr) && inPortRange(port, p.port)
          })
        if (!hit) return 'continue'
        i += 6
      } else if ((w === 'ip' || w === 'ip6') && t[i + 2] === 'vmap') {
        const addr = this.address(w, t[i + 1] as string, p)
        if (addr === undefined) return 'continue'
        const map = this.set(t[i + 3] as string)
        if (map.kind !== 'map') throw new Error(`nft: ${t[i + 3]} is not a map`)
        const hit = map.elements.find((e) => inAddress(e.key, addr))
        return hit ? this.verdict(hit.verdict, p, depth) : 'continue'
      } else if ((w === 'ip' || w === 'ip6') && (t[i + 2] as string).startsWith('@')) {
        const addr = this.address(w, t[i + 1] as string, p)
        const set = this.set(t[i + 2] as string)
        if (set.kind !== 'set') throw new Error(`nft: ${t[i + 2]} is not a set`)
        if (addr === undefined || !set.elements.some((e) => inAddress(e, addr))) return 'continue'
        i += 3
      } else if (w === 'iifname' && (t[i + 1] as string).startsWith('@')) {
        const set = this.set(t[i + 1] as string)
        if (set.kind !== 'set') throw new Error(`nft: ${t[i + 1]} is not a set`)
        if (p.iif === undefined || !set.elements.includes(`"${p.iif}"`)) return 'continue'
        i += 2
      } else if (w === 'iifname' && t[i + 1] === '.' && t[i + 4] === '!=') {
        // iifname . ip saddr != @pod_sources_v4
        const addr = this.address(t[i + 2] as string, t[i + 3] as string, p)
        const set = this.set(t[i + 5] as string)
        if (set.kind !== 'set') throw new Error(`nft: ${t[i + 5]} is not a set`)
        const listed =
          addr !== undefined &&
          set.elements.some((e) => {
            const [ifname, a] = e.split(' . ') as [string, string]
            return ifname === `"${p.iif}"` && inAddress(a, addr)
          })
        if (listed) return 'continue'
        i += 6
      } else if (w === 'icmpv6') {
        return 'continue' // a new TCP, UDP or SCTP connection is never ICMPv6
      } else if (w === 'ct' && t[i + 1] === 'state') {
        if (
          !values(t[i + 2] as string)
            .flatMap((v) => v.split(','))
            .includes('new')
        )
          return 'continue'
        i += 3
      } else if (w === 'counter') {
        i += 1
      } else if (w === 'comment') {
        i += 2
      } else if (w === 'accept' || w === 'drop') {
        return w
      } else if (w === 'jump') {
        return this.chain(t[i + 1] as string, p, depth + 1)
      } else {
        throw new Error(`nft: cannot read "${w}" in ${rule}`)
      }
    }
    return 'continue'
  }
}

/** Returns whether a node with this table forwards the packet (both base chains let it through). */
export function nftForwards(table: NftTable, p: Packet): boolean {
  return new NftInterpreter(table).forward(p)
}
