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
import { type IRChain, type IRRule, type NodeIR, tierDenyChainId } from '../compile/index.js'
import type { ClusterPolicyTier, Family } from '../model/index.js'

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
  /** One ClusterNetworkPolicy, one direction (shared by the local pods its subject selects). */
  | {
      readonly kind: 'cluster-policy'
      readonly direction: TraceDirection
      readonly policy: string
      readonly tier: ClusterPolicyTier
      readonly priority: number
    }
  /** A local pod's ClusterNetworkPolicy tier chain: its Admin tier (then its next stage), or its Baseline stage. */
  | {
      readonly kind: 'tier'
      readonly direction: TraceDirection
      readonly pod: string
      readonly tier: ClusterPolicyTier
    }
  /** Where a ClusterNetworkPolicy Deny goes: the chain finding the pod (pod absent), or the pod's counting drop. */
  | { readonly kind: 'deny'; readonly direction: TraceDirection; readonly pod?: string }
  /** Where an Admin tier Pass goes: the chain finding the pod's NetworkPolicy stage. */
  | { readonly kind: 'pass'; readonly direction: TraceDirection }
  /** A port dispatch chain shared by pods (nftables tier dispatch, iptables dispatch and its helpers). */
  | { readonly kind: 'port-dispatch' }

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
  /** Chains of ours known by their name's shape rather than listed (port dispatch: hashed names). */
  readonly patterns?: readonly { readonly name: RegExp; readonly role: ChainRole }[]
}

/** The role of a chain of ours: listed in the index, or named as one of its patterns. */
export function chainRole(index: TraceIndex, chain: string): ChainRole | undefined {
  return index.chains.get(chain) ?? index.patterns?.find((p) => p.name.test(chain))?.role
}

/** The fixed names of the chains a ClusterNetworkPolicy Deny or Pass goes to, per direction, in one backend. */
export interface TierChainNames {
  readonly deny: Readonly<Record<TraceDirection, string>>
  readonly pass: Readonly<Record<TraceDirection, string>>
}

/**
 * Adds the ClusterNetworkPolicy chains of the IR to a trace index: each policy's chain, each local pod's
 * tier chains and Deny chain, and the shared Deny and Pass chains (both backends' indexes).
 */
export function indexTierChains(
  ir: NodeIR,
  chains: Map<string, ChainRole>,
  chainName: (id: string) => string,
  fixed: TierChainNames,
): void {
  if (!ir.clusterChains || ir.clusterChains.length === 0) return
  for (const c of ir.clusterChains) {
    const direction = c.direction === 'Ingress' ? 'ingress' : 'egress'
    chains.set(chainName(c.id), {
      kind: 'cluster-policy',
      direction,
      policy: c.policy,
      tier: c.tier,
      priority: c.priority,
    })
  }
  for (const direction of ['ingress', 'egress'] as const) {
    chains.set(fixed.deny[direction], { kind: 'deny', direction })
    chains.set(fixed.pass[direction], { kind: 'pass', direction })
  }
  for (const p of ir.pods) {
    const pod = `${p.namespace}/${p.name}`
    for (const [direction, t] of [
      ['ingress', p.ingressTiers],
      ['egress', p.egressTiers],
    ] as const) {
      if (!t) continue
      chains.set(chainName(t.chain), { kind: 'tier', direction, pod, tier: 'Admin' })
      chains.set(chainName(t.baselineChain), { kind: 'tier', direction, pod, tier: 'Baseline' })
      chains.set(chainName(tierDenyChainId(t)), { kind: 'deny', direction, pod })
    }
  }
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
  const to = target === undefined ? undefined : chainRole(index, target)
  if (role === undefined && to !== undefined) return `enters Palisade's chain ${target}`
  if (to?.kind === 'base' && to.direction !== undefined) return `the ${to.direction} check`
  if (role !== undefined && to !== undefined) {
    const who = role.kind === 'pod' || role.kind === 'tier' ? `${role.pod}: ` : ''
    switch (to.kind) {
      case 'pod':
        return `${to.pod} is isolated for ${to.direction}: to its pod chain`
      case 'policy':
        return `${who}tries policy ${to.policy} (${to.direction})`
      case 'dispatch':
        return `${to.pod}: the policies with a rule for this port`
      case 'tier':
        return to.tier === 'Admin'
          ? `${to.pod} is selected by a ClusterNetworkPolicy (${to.direction}): to its Admin tier`
          : `${to.pod}: no NetworkPolicy isolates it for ${to.direction}, to its Baseline tier`
      case 'cluster-policy':
        return `${who}tries ClusterNetworkPolicy ${to.policy} (${to.tier} tier, priority ${to.priority}, ${to.direction})`
      case 'port-dispatch':
        return `${who}the chains with a rule for this port`
      case 'deny':
        if (role.kind === 'cluster-policy')
          return `DENIED by ClusterNetworkPolicy ${s.comment ?? role.policy}`
        if (to.pod !== undefined) return `${to.pod}: counted and dropped as denied by a ClusterNetworkPolicy`
        break
      case 'allow':
        if (role.kind === 'tier')
          return `${role.pod} (${role.direction}): no ClusterNetworkPolicy rule of its ${role.tier} tier decided and no later stage isolates it: admitted`
        break
      case 'pass':
        if (role.kind === 'cluster-policy')
          return `PASSED by ClusterNetworkPolicy ${s.comment ?? role.policy}: on to the NetworkPolicy stage`
        break
    }
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
    case 'cluster-policy':
      if (v === 'accept')
        return `ACCEPTED by ClusterNetworkPolicy ${s.comment ?? `${role.policy} (${role.direction})`}`
      if (v === 'return' || s.kind === 'return')
        return `ClusterNetworkPolicy ${role.policy} (${role.direction}): no rule matches, the next policy of the ${role.tier} tier`
      return `ClusterNetworkPolicy ${role.policy} (${role.direction}): ${s.comment ? `${s.comment}: ` : ''}${v}`
    case 'tier':
      if (v === 'drop')
        return `DROPPED: ${role.pod} (${role.direction}): ${s.comment ?? 'its ClusterNetworkPolicy tier drops'}`
      if (v === 'accept') return `${role.pod} (${role.direction}): accepted by its ${role.tier} tier`
      if (v === 'continue') return `${role.pod} (${role.direction}): clears the "admitted" mark`
      return `${role.pod} (${role.direction}, ${role.tier} tier): ${v}`
    case 'deny':
      if (v === 'drop')
        return `DROPPED: denied by a ClusterNetworkPolicy${role.pod !== undefined ? ` (${role.pod}, ${role.direction})` : ''}`
      return `the ${role.direction} Deny of a ClusterNetworkPolicy: ${v}`
    case 'pass':
      return `an Admin tier Pass (${role.direction}): ${v}`
    case 'port-dispatch':
      return `port dispatch: ${v}`
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
    const role = ours ? chainRole(index, s.chain) : undefined
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
