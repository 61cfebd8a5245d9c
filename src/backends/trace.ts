/**
 * `palisade trace`, the backend-neutral part (pure): the kernel's own trace of one packet (what `nft monitor
 * trace` or `xtables-monitor --trace` printed, parsed by the backend into RawTrace), explained step by step
 * with the policy and rule each step belongs to. A backend says what its chains and rule comments mean
 * (TraceIndex, built from the node IR it rendered the ruleset from); nothing here knows which backend ran.
 *
 * The mapping compares the kernel's rule comments with the comments the backend renders for each IR rule
 * (equal strings, never a parse of a comment): a rule the kernel holds that the input does not compile to
 * is shown as the kernel printed it, marked "not in the ruleset compiled from the input".
 */
import type { IRChain, IRRule, NodeIR } from '../compile/index.js'
import type { Family } from '../model/index.js'

/** The packet a trace follows: protocol, addresses and destination port (any source port). */
export interface TraceMatch {
  readonly family: Family
  readonly protocol: 'TCP' | 'UDP'
  readonly saddr: string
  readonly daddr: string
  readonly dport: number
}

/** Header fields of a traced packet, as the kernel printed them. */
export interface TracePacket {
  readonly saddr?: string
  readonly daddr?: string
  readonly protocol?: string
  readonly sport?: number
  readonly dport?: number
  readonly iif?: string
  readonly oif?: string
  /** IPv4 identification: tells a trace id the kernel reused for a later packet apart. */
  readonly ipId?: string
  /** TCP flags ('syn', 'SYN'), when printed. */
  readonly flags?: string
}

/** One line of the kernel's trace: a rule that matched, or the end of a chain. */
export interface RawTraceStep {
  /** 'palisade' (nftables) or 'filter' (iptables). */
  readonly table: string
  readonly chain: string
  /** rule = a rule matched; policy = a base chain ended with its policy; return = a chain ended (iptables). */
  readonly kind: 'rule' | 'policy' | 'return'
  /** 'accept', 'drop', 'continue', 'return', 'jump CHAIN', 'goto CHAIN'. */
  readonly verdict: string
  /** The rule as the tool printed it. */
  readonly rule?: string
  readonly comment?: string
  /** Rule handle (nftables) or rule number the tool printed. */
  readonly handle?: number
}

/** The steps of one packet through the hooks of one network namespace. */
export interface RawTrace {
  readonly id: string
  readonly packet: TracePacket
  readonly steps: readonly RawTraceStep[]
}

export type TraceDirection = 'ingress' | 'egress'

/** What a chain of ours is. */
export type ChainRole =
  /** A base chain (nftables `egress`/`ingress`) or an entry chain (iptables PAL-FORWARD/-EGRESS/-INGRESS). */
  | { readonly kind: 'base'; readonly direction?: TraceDirection }
  /** The chain of one isolated local pod: tries its policies, then drops. */
  | { readonly kind: 'pod'; readonly direction: TraceDirection; readonly pod: string }
  /** Port dispatch helper of a pod chain (nftables). */
  | { readonly kind: 'dispatch'; readonly direction: TraceDirection; readonly pod: string }
  /** One policy, one direction. */
  | { readonly kind: 'policy'; readonly direction: TraceDirection; readonly policy: string }
  /** iptables: sets the "a policy admitted it" mark bit. */
  | { readonly kind: 'allow' }

/** The policy rule a kernel rule was compiled from. */
export interface RuleRole {
  /** 'namespace/name' */
  readonly policy: string
  readonly direction: TraceDirection
  /** Index in spec.ingress / spec.egress. */
  readonly rule: number
  /** Index in from / to. */
  readonly peer?: number
  /** Indexes in ports. */
  readonly ports?: readonly number[]
  readonly family?: Family
}

/** What the chains and rule comments of one node's ruleset mean, from the IR it was rendered from. */
export interface TraceIndex {
  /** The kernel table our chains live in ('palisade', 'filter'). */
  readonly table: string
  readonly chains: ReadonlyMap<string, ChainRole>
  /** ruleKey(chain, comment) -> the policy rule. */
  readonly rules: ReadonlyMap<string, RuleRole>
}

/** Returns the key of a rule in TraceIndex.rules. */
export function ruleKey(chain: string, comment: string): string {
  return `${chain}\u0000${comment}`
}

/**
 * Adds the policy chains of the IR to a trace index, and each of their rules under its key: the backend's
 * name of the chain and the rule's comment as the kernel prints it (both backends' indexes).
 */
export function indexPolicyChains(
  ir: NodeIR,
  chains: Map<string, ChainRole>,
  rules: Map<string, RuleRole>,
  chainName: (c: IRChain) => string,
  kernelComment: (c: IRChain, r: IRRule) => string,
): void {
  for (const c of ir.chains) {
    const direction = c.direction === 'Ingress' ? 'ingress' : 'egress'
    const policy = `${c.policy.namespace}/${c.policy.name}`
    const name = chainName(c)
    chains.set(name, { kind: 'policy', direction, policy })
    for (const r of c.rules) {
      rules.set(ruleKey(name, kernelComment(c, r)), {
        policy,
        direction,
        rule: r.rule,
        ...(r.peer !== undefined ? { peer: r.peer } : {}),
        ...(r.ports !== undefined ? { ports: r.ports } : {}),
        ...(r.family !== undefined ? { family: r.family } : {}),
      })
    }
  }
}

/** One step of the explained trace. */
export interface TraceStep {
  readonly chain: string
  readonly verdict: string
  readonly rule?: string
  readonly comment?: string
  readonly handle?: number
  /** Absent: not a chain of ours (another table, or a chain the compiled ruleset does not have). */
  readonly role?: ChainRole
  readonly policyRule?: RuleRole
  /** True when the kernel's rule has a comment the ruleset compiled from the input does not have. */
  readonly unknownRule?: boolean
  /** One line for people. */
  readonly meaning: string
}

export type KernelVerdict = 'accepted' | 'dropped' | 'not seen'

/** One node's trace, explained. */
export interface ExplainedTrace {
  readonly packet: TracePacket
  readonly steps: readonly TraceStep[]
  readonly verdict: KernelVerdict
  /** The step that decided a drop, or the policy rules that admitted the packet. */
  readonly droppedBy?: TraceStep
  readonly allowedBy: readonly RuleRole[]
}

/** Returns true when a trace's packet is the one asked for (any source port). */
export function matchesPacket(p: TracePacket, m: TraceMatch): boolean {
  return (
    p.saddr === m.saddr &&
    p.daddr === m.daddr &&
    p.dport === m.dport &&
    (p.protocol === undefined || p.protocol.toLowerCase() === m.protocol.toLowerCase())
  )
}

/**
 * Returns the first trace of the matching packet that passed through our chains (the first packet of a
 * connection: a trace rule only marks new connections), or undefined.
 */
export function firstMatchingTrace(
  traces: readonly RawTrace[],
  m: TraceMatch,
  table: string,
): RawTrace | undefined {
  return traces.find((t) => matchesPacket(t.packet, m) && t.steps.some((s) => s.table === table))
}

const ruleLabel = (r: RuleRole): string =>
  `${r.policy} ${r.direction}[${r.rule}]${r.peer !== undefined ? ` ${r.direction === 'ingress' ? 'from' : 'to'}[${r.peer}]` : ''}${r.ports !== undefined ? ` ports[${r.ports.join(',')}]` : ''}`

/** Returns how people read a policy rule: 'testing/web ingress[0] from[1] ports[0]'. */
export function formatRuleRole(r: RuleRole): string {
  return ruleLabel(r)
}

/** Says in one line what a step of ours means. */
function meaningOf(
  s: RawTraceStep,
  role: ChainRole | undefined,
  rule: RuleRole | undefined,
  index: TraceIndex,
): string {
  const v = s.verdict
  const target = /^(?:jump|goto) (.+)$/.exec(v)?.[1]
  const to = target === undefined ? undefined : index.chains.get(target)
  if (role === undefined && to !== undefined) return `enters Palisade's chain ${target}`
  if (to?.kind === 'base' && to.direction !== undefined) return `the ${to.direction} check`
  if (role !== undefined && to !== undefined) {
    if (to.kind === 'pod') return `${to.pod} is isolated for ${to.direction}: to its pod chain`
    if (to.kind === 'policy')
      return `${role.kind === 'pod' ? `${role.pod}: ` : ''}tries policy ${to.policy} (${to.direction})`
    if (to.kind === 'dispatch') return `${to.pod}: the policies with a rule for this port`
  }
  if (role === undefined)
    return s.kind === 'policy' ? `chain policy: ${v}` : `not a chain of Palisade's: ${v}`
  const text = s.rule ?? ''
  if (/established/i.test(text) && v === 'accept')
    return 'part of an established connection: accepted before any policy'
  if (/invalid/i.test(text) && v === 'drop') return 'DROPPED: conntrack state invalid'
  if (/anti-spoofing/i.test(s.comment ?? '') && v === 'drop')
    return "DROPPED: anti-spoofing (the source address is not the sending pod's)"
  if (/neighbour discovery/i.test(s.comment ?? '')) return 'IPv6 neighbour discovery: accepted'
  switch (role.kind) {
    case 'base': {
      if (s.kind === 'policy' || s.kind === 'return' || v === 'return') {
        if (role.direction === 'egress')
          return 'the source is not a local pod isolated for egress: egress passes'
        if (role.direction === 'ingress')
          return 'the destination is not a local pod isolated for ingress: ingress passes'
        return `end of ${s.chain}: ${v}`
      }
      if (target !== undefined) return `${target}: the ${role.direction ?? 'next'} check`
      if (v === 'accept') return `accepted (${s.comment ?? 'passed the policy checks'})`
      return `${v}${s.comment ? `: ${s.comment}` : ''}`
    }
    case 'pod':
    case 'dispatch':
      if (v === 'drop')
        return `DROPPED: ${role.pod} is isolated for ${role.direction} and no policy selecting it admits this packet`
      if (target !== undefined) return `${role.pod} (${role.direction}): tries ${target}`
      if (v === 'return')
        return `${role.pod} (${role.direction}): a policy admitted it, ${role.direction} passes`
      if (v === 'continue') return `${role.pod} (${role.direction}): clears the "admitted" mark`
      return `${role.pod} (${role.direction}): ${v}`
    case 'policy':
      if (rule !== undefined) return `ADMITTED by ${ruleLabel(rule)}`
      if (v === 'accept' || target !== undefined)
        return `admitted by ${role.policy} (${role.direction}), a rule the compiled input does not have: ${s.comment ?? s.rule ?? ''}`
      return `${role.policy} (${role.direction}): ${v}`
    case 'allow':
      return 'marks the packet "admitted by a policy"'
  }
}

/**
 * Explains one node's trace with the index of its ruleset: each step of ours with its chain's role and,
 * for a policy rule, the rule's policy, direction and indexes; the node's verdict (a drop anywhere is
 * final; otherwise the packet was accepted).
 */
export function explainTrace(t: RawTrace, index: TraceIndex): ExplainedTrace {
  const steps: TraceStep[] = []
  for (const s of t.steps) {
    const ours = s.table === index.table
    const role = ours ? index.chains.get(s.chain) : undefined
    const rule =
      role?.kind === 'policy' && s.comment !== undefined
        ? index.rules.get(ruleKey(s.chain, s.comment))
        : undefined
    const unknownRule = role?.kind === 'policy' && s.kind === 'rule' && rule === undefined
    steps.push({
      chain: s.chain,
      verdict: s.verdict,
      ...(s.rule !== undefined ? { rule: s.rule } : {}),
      ...(s.comment !== undefined ? { comment: s.comment } : {}),
      ...(s.handle !== undefined ? { handle: s.handle } : {}),
      ...(role ? { role } : {}),
      ...(rule ? { policyRule: rule } : {}),
      ...(unknownRule ? { unknownRule: true } : {}),
      meaning: meaningOf(s, role, rule, index),
    })
  }
  const droppedBy = steps.find((s) => s.verdict === 'drop')
  return {
    packet: t.packet,
    steps,
    verdict: droppedBy ? 'dropped' : 'accepted',
    ...(droppedBy ? { droppedBy } : {}),
    allowedBy: steps.flatMap((s) => (s.policyRule ? [s.policyRule] : [])),
  }
}

/** Tools and commands a backend variant traces with (or why it cannot). */
export interface TraceSession {
  /** What the monitor printed so far. */
  readonly output: () => string
  /** Why the monitor ended on its own before stop() (its exit code and stderr), else undefined. */
  readonly failure: () => string | undefined
  /** Stops the monitor and removes the trace rule or table; safe to call twice. */
  readonly stop: () => Promise<string>
}
