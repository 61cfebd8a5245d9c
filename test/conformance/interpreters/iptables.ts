/**
 * A naive interpreter of the iptables backend's STRUCTURE (src/backends/iptables/structure.ts): runs a
 * new connection's first packet from FORWARD into PAL-FORWARD (the one jump apply installs; FORWARD's
 * policy is accept) through the family's filter rules and the ipsets, reading each rule spec as
 * iptables would (-j pushes a return, -g does not, MARK carries on). It knows exactly the matches and
 * targets the renderer writes and throws on anything else.
 */
import type { Ipset, IptablesRuleset } from '../../../src/backends/iptables/structure.js'
import { inAddress, inPortRange, type Packet } from './packet.js'

const ENTRY = 'PAL-FORWARD'
type Outcome = 'ACCEPT' | 'DROP' | 'RETURN'

/** Splits a spec into tokens; a quoted string is one token. */
function tokenize(spec: string): string[] {
  return spec.match(/"[^"]*"|\S+/g) ?? []
}

class IptablesInterpreter {
  private readonly sets: Map<string, Ipset>
  private readonly rules: Map<string, string[]>
  private mark = 0
  /** Chains entered so far (a goto loop would never deepen the stack). */
  private visits = 0

  constructor(
    rs: IptablesRuleset,
    private readonly p: Packet,
  ) {
    this.sets = new Map(rs.sets.map((s) => [s.name, s]))
    this.rules = new Map()
    const filter = p.family === 4 ? rs.filter4 : rs.filter6
    for (const c of filter.chains) this.rules.set(c, [])
    for (const r of filter.rules) {
      const list = this.rules.get(r.chain)
      if (!list) throw new Error(`iptables: rule in undeclared chain ${r.chain}`)
      list.push(r.spec)
    }
  }

  /** FORWARD -> PAL-FORWARD; a RETURN falls back to FORWARD, whose policy accepts. */
  forward(): boolean {
    return this.run(ENTRY, 0) !== 'DROP'
  }

  /** Runs a chain: its outcome, or RETURN when it falls off its end. */
  private run(chain: string, depth: number): Outcome {
    const rules = this.rules.get(chain)
    if (!rules) throw new Error(`iptables: no chain ${chain}`)
    if (depth > 16) throw new Error(`iptables: jumps too deep at ${chain}`)
    if (++this.visits > 10_000) throw new Error(`iptables: a loop through ${chain}`)
    for (const spec of rules) {
      const t = tokenize(spec)
      const target = this.matches(t, spec)
      if (target === undefined) continue
      const [kind, name, ...args] = target
      // a goto replaces the chain on the kernel's jump stack: only -j makes it deeper
      if (kind === '-g') return this.run(name as string, depth)
      if (name === 'ACCEPT' || name === 'DROP' || name === 'RETURN') return name
      if (name === 'MARK') {
        if (args[0] !== '--set-xmark') throw new Error(`iptables: cannot read ${spec}`)
        const [value, mask] = (args[1] as string).split('/').map(Number) as [number, number]
        this.mark = (this.mark & ~mask) ^ value
        continue
      }
      const v = this.run(name as string, depth + 1)
      if (v !== 'RETURN') return v
    }
    return 'RETURN'
  }

  private inSet(name: string, dirs: string): boolean {
    const s = this.sets.get(name)
    if (!s) throw new Error(`iptables: no ipset ${name}`)
    if ((s.family === 4) !== (this.p.family === 4)) return false
    const p = this.p
    const addr = (d: string) => (d === 'src' ? p.src : p.dst)
    const [d1, d2] = dirs.split(',') as [string, string | undefined]
    switch (s.type) {
      case 'hash:ip':
      case 'hash:net':
        return s.elements.some((e) => inAddress(e, addr(d1)))
      case 'hash:ip,port':
        if (d2 !== 'dst') throw new Error(`iptables: ${s.type} read as ${dirs}`)
        return s.elements.some((e) => {
          // address,proto:port; an IPv6 address has colons of its own: split at the comma, then the last colon
          const comma = e.indexOf(',')
          const a = e.slice(0, comma)
          const [proto, port] = e.slice(comma + 1).split(':') as [string, string]
          return inAddress(a, addr(d1)) && proto === p.protocol.toLowerCase() && Number(port) === p.port
        })
      case 'hash:net,iface':
        if (d2 !== 'src') throw new Error(`iptables: ${s.type} read as ${dirs}`)
        return s.elements.some((e) => {
          const [a, iface] = e.split(',') as [string, string]
          return iface === p.iif && inAddress(a, addr(d1))
        })
      default:
        throw new Error(`iptables: cannot read ipset type ${s.type}`)
    }
  }

  /** Returns the target tokens (`-j X ...` / `-g X`) when every match holds, else undefined. */
  private matches(t: string[], spec: string): string[] | undefined {
    const p = this.p
    let i = 0
    while (i < t.length) {
      const w = t[i] as string
      if (w === '-j' || w === '-g') return t.slice(i)
      if (w === '-p') {
        if (t[i + 1] !== p.protocol.toLowerCase()) return undefined
        i += 2
      } else if (w === '--dport') {
        if (!inPortRange(t[i + 1] as string, p.port)) return undefined
        i += 2
      } else if (w === '-s' || w === '-d') {
        if (!inAddress(t[i + 1] as string, w === '-s' ? p.src : p.dst)) return undefined
        i += 2
      } else if (w === '-m') {
        const module = t[i + 1]
        i += 2
        if (module === 'set') {
          const negate = t[i] === '!'
          if (negate) i++
          if (t[i] !== '--match-set') throw new Error(`iptables: cannot read ${spec}`)
          if (this.inSet(t[i + 1] as string, t[i + 2] as string) === negate) return undefined
          i += 3
        } else if (module === 'multiport') {
          if (t[i] !== '--dports') throw new Error(`iptables: cannot read ${spec}`)
          if (!(t[i + 1] as string).split(',').some((r) => inPortRange(r, p.port))) return undefined
          i += 2
        } else if (module === 'comment') {
          i += 2
        } else if (module === 'conntrack') {
          if (t[i] !== '--ctstate') throw new Error(`iptables: cannot read ${spec}`)
          if (!(t[i + 1] as string).split(',').includes('NEW')) return undefined
          i += 2
        } else if (module === 'mark') {
          const [value, mask] = (t[i + 1] as string).split('/').map(Number) as [number, number]
          if ((this.mark & mask) !== value) return undefined
          i += 2
        } else {
          throw new Error(`iptables: cannot read -m ${module} in ${spec}`)
        }
      } else {
        throw new Error(`iptables: cannot read "${w}" in ${spec}`)
      }
    }
    throw new Error(`iptables: no target in ${spec}`)
  }
}

/** Returns whether a node with this ruleset forwards the packet. */
export function iptablesForwards(rs: IptablesRuleset, p: Packet): boolean {
  return new IptablesInterpreter(rs, p).forward()
}
