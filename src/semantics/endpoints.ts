/**
 * Policy endpoints: which pods NetworkPolicy applies to, and which pods a policy selects
 * (docs/semantics.md: hostNetwork pods are not NetworkPolicy endpoints; pods in phase Succeeded or
 * Failed have no network). A pod without an address is still an endpoint: it is selected and matched
 * by its labels, only no ipBlock can match it and no dataplane can program it yet.
 */
import type { NetworkPolicy, Pod, PolicyRule, PolicyType } from '../model/index.js'
import { matchSelector } from './label-selector.js'

/** Returns true for a pod that has finished (phase Succeeded or Failed): it has no network any more. */
export function isTerminated(pod: Pod): boolean {
  return pod.phase === 'Succeeded' || pod.phase === 'Failed'
}

/** Returns true when NetworkPolicy applies to the pod: not hostNetwork, not terminated. */
export function isPolicyEndpoint(pod: Pod): boolean {
  return !pod.hostNetwork && !isTerminated(pod)
}

/** Returns true when the policy selects the pod: an endpoint of its namespace matching spec.podSelector. */
export function policySelectsPod(policy: NetworkPolicy, pod: Pod): boolean {
  return (
    pod.namespace === policy.namespace &&
    isPolicyEndpoint(pod) &&
    matchSelector(policy.podSelector, pod.labels)
  )
}

/** Returns true when the policy isolates the pods it selects in that direction (policyTypes, after defaulting). */
export function policyHasType(policy: NetworkPolicy, direction: PolicyType): boolean {
  return policy.policyTypes.includes(direction)
}

/** Returns spec.ingress or spec.egress. */
export function rulesOf(policy: NetworkPolicy, direction: PolicyType): readonly PolicyRule[] {
  return direction === 'Ingress' ? policy.ingress : policy.egress
}
