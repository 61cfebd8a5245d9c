/**
 * Shares the equal parts of the pods and policies the agent's store keeps (pure logic, state in the
 * instance): at 100k pods and 75k policies most label maps, port lists, selectors and names are equal to
 * one another (the pods of a ReplicaSet carry the same labels and ports; the policies of a namespace
 * template select with the same selectors), and each copy costs tens to hundreds of bytes. A value is
 * shared only with values of equal content, and the model's objects are immutable, so what the compiler
 * reads is unchanged (docs/dataplane.md#agent-memory).
 *
 * What is shared is counted: `pod`/`policy` take a reference to each shared part, `releasePod`/
 * `releasePolicy` give them back (the store calls them with the very objects `pod`/`policy` returned), and
 * a part nobody refers to any more leaves the table, so label values that come and go (a rollout's
 * pod-template-hash) are not kept forever. Only namespace-independent parts are shared: label maps,
 * selectors, port lists, policy types, origins and the namespace, node and phase strings, never a peer or
 * a rule (a podSelector peer means
 * pods of its own policy's namespace, and src/engine keys caches by rule objects).
 */
import type {
  ContainerPort,
  LabelSelector,
  Labels,
  NetworkPolicy,
  Pod,
  PolicyOrigin,
  PolicyPeer,
  PolicyPort,
  PolicyRule,
  PolicyType,
} from '../model/index.js'

interface Counted<T> {
  readonly value: T
  refs: number
}

/** A reference-counted table of shared values by key. */
class Shared<T> {
  private readonly table = new Map<string, Counted<T>>()

  /** Returns the shared value of `key` (the first `value` given for it) and counts a reference. */
  take(key: string, value: T): T {
    const c = this.table.get(key)
    if (c) {
      c.refs++
      return c.value
    }
    this.table.set(key, { value, refs: 1 })
    return value
  }

  /** Gives back a reference taken with `take(key, ...)`. */
  drop(key: string): void {
    const c = this.table.get(key)
    if (!c) return
    if (--c.refs <= 0) this.table.delete(key)
  }

  get size(): number {
    return this.table.size
  }
}

const EMPTY: readonly never[] = Object.freeze([])

/** Key of a label map: its entries in their order (equal maps written in another order are not shared). */
const labelsKey = (labels: Labels): string => JSON.stringify(labels)

export class ModelInterner {
  private readonly strings = new Shared<string>()
  private readonly labelMaps = new Shared<Labels>()
  private readonly portLists = new Shared<readonly ContainerPort[]>()
  private readonly selectors = new Shared<LabelSelector>()
  private readonly policyPorts = new Shared<readonly PolicyPort[]>()
  private readonly types = new Shared<readonly PolicyType[]>()
  private readonly origins = new Shared<PolicyOrigin>()

  /** Number of distinct shared values (for tests). */
  get size(): number {
    return (
      this.strings.size +
      this.labelMaps.size +
      this.portLists.size +
      this.selectors.size +
      this.policyPorts.size +
      this.types.size +
      this.origins.size
    )
  }

  /** Returns `pod` with its shareable parts shared; give it back with releasePod. */
  pod(pod: Pod): Pod {
    const out: { -readonly [K in keyof Pod]: Pod[K] } = {
      ...pod,
      namespace: this.string(pod.namespace),
      labels: this.labels(pod.labels),
      ports: this.ports(pod.ports),
      // a list built by push holds room for 17 items: a copy holds what it holds
      ips: pod.ips.length === 0 ? EMPTY : pod.ips.slice(),
    }
    if (pod.nodeName !== undefined) out.nodeName = this.string(pod.nodeName)
    if (pod.phase !== undefined) out.phase = this.string(pod.phase)
    return out
  }

  /** Gives back what pod() took for a pod it returned. */
  releasePod(pod: Pod): void {
    this.strings.drop(pod.namespace)
    this.dropLabels(pod.labels)
    if (pod.ports.length > 0) this.portLists.drop(JSON.stringify(pod.ports))
    if (pod.nodeName !== undefined) this.strings.drop(pod.nodeName)
    if (pod.phase !== undefined) this.strings.drop(pod.phase)
  }

  /** Returns `policy` with its shareable parts shared; give it back with releasePolicy. */
  policy(policy: NetworkPolicy): NetworkPolicy {
    return {
      ...policy,
      namespace: this.string(policy.namespace),
      origin: this.origins.take(JSON.stringify(policy.origin), policy.origin),
      podSelector: this.selector(policy.podSelector),
      policyTypes: this.types.take(policy.policyTypes.join(','), policy.policyTypes),
      ingress: this.rules(policy.ingress),
      egress: this.rules(policy.egress),
    }
  }

  /** Gives back what policy() took for a policy it returned. */
  releasePolicy(policy: NetworkPolicy): void {
    this.strings.drop(policy.namespace)
    this.origins.drop(JSON.stringify(policy.origin))
    this.dropSelector(policy.podSelector)
    this.types.drop(policy.policyTypes.join(','))
    for (const r of policy.ingress) this.dropRule(r)
    for (const r of policy.egress) this.dropRule(r)
  }

  private string(s: string): string {
    return this.strings.take(s, s)
  }

  private labels(labels: Labels): Labels {
    return this.labelMaps.take(labelsKey(labels), labels)
  }

  private dropLabels(labels: Labels): void {
    this.labelMaps.drop(labelsKey(labels))
  }

  private ports(ports: readonly ContainerPort[]): readonly ContainerPort[] {
    return ports.length === 0 ? EMPTY : this.portLists.take(JSON.stringify(ports), ports)
  }

  private selector(s: LabelSelector): LabelSelector {
    return this.selectors.take(JSON.stringify(s), s)
  }

  private dropSelector(s: LabelSelector): void {
    this.selectors.drop(JSON.stringify(s))
  }

  private rules(rules: readonly PolicyRule[]): readonly PolicyRule[] {
    if (rules.length === 0) return EMPTY
    return rules.map((r) => {
      const out: { -readonly [K in keyof PolicyRule]: PolicyRule[K] } = { ...r }
      if (r.peers) out.peers = r.peers.map((p) => this.peer(p))
      if (r.ports)
        out.ports = r.ports.length === 0 ? EMPTY : this.policyPorts.take(JSON.stringify(r.ports), r.ports)
      return out
    })
  }

  private dropRule(r: PolicyRule): void {
    for (const p of r.peers ?? []) {
      if (p.podSelector) this.dropSelector(p.podSelector)
      if (p.namespaceSelector) this.dropSelector(p.namespaceSelector)
    }
    if (r.ports && r.ports.length > 0) this.policyPorts.drop(JSON.stringify(r.ports))
  }

  private peer(p: PolicyPeer): PolicyPeer {
    if (!p.podSelector && !p.namespaceSelector) return p
    return {
      ...p,
      ...(p.podSelector ? { podSelector: this.selector(p.podSelector) } : {}),
      ...(p.namespaceSelector ? { namespaceSelector: this.selector(p.namespaceSelector) } : {}),
    }
  }
}
