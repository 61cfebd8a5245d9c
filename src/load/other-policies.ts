/**
 * Policy kinds other than NetworkPolicy that change what a cluster admits, which Palisade does not
 * analyse (docs/semantics.md#other-policy-kinds; ClusterNetworkPolicy is analysed, its v1alpha1
 * predecessors AdminNetworkPolicy and BaselineAdminNetworkPolicy are not: docs/semantics.md#cnp-old-kinds): reading past them in silence would give verdicts
 * that may be wrong, so each is a warning and makes the answer partial.
 */
import type { JsonObject } from '../model/index.js'

/** API group -> kinds of that group that enforce network policy, with who enforces them. */
const OTHER_POLICY_KINDS: ReadonlyMap<string, { readonly by: string; readonly kinds: ReadonlySet<string> }> =
  new Map([
    [
      'policy.networking.k8s.io',
      {
        by: 'the network-policy-api (sig-network)',
        kinds: new Set(['AdminNetworkPolicy', 'BaselineAdminNetworkPolicy']),
      },
    ],
    [
      'cilium.io',
      { by: 'Cilium', kinds: new Set(['CiliumNetworkPolicy', 'CiliumClusterwideNetworkPolicy']) },
    ],
    ['crd.projectcalico.org', { by: 'Calico', kinds: new Set(['NetworkPolicy', 'GlobalNetworkPolicy']) }],
    ['projectcalico.org', { by: 'Calico', kinds: new Set(['NetworkPolicy', 'GlobalNetworkPolicy']) }],
    ['crd.antrea.io', { by: 'Antrea', kinds: new Set(['NetworkPolicy', 'ClusterNetworkPolicy']) }],
  ])

/**
 * Returns who enforces the object when it is a policy of another kind (any version of its group),
 * else undefined.
 */
export function otherPolicyEnforcer(value: JsonObject): string | undefined {
  const apiVersion = typeof value.apiVersion === 'string' ? value.apiVersion : ''
  const kind = typeof value.kind === 'string' ? value.kind : ''
  const slash = apiVersion.lastIndexOf('/')
  if (slash < 0) return undefined
  const entry = OTHER_POLICY_KINDS.get(apiVersion.slice(0, slash))
  return entry?.kinds.has(kind) ? entry.by : undefined
}
