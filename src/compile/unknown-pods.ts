/** How a ruleset describes its handling of unknown local pods (pure; docs/semantics.md#unknown-local-pods). */
import type { NodeIR } from './ir.js'

/** The header lines about unknown local pods: the mode and the ranges, or that the ranges are unknown. */
export function unknownPodsNotes(ir: NodeIR): string[] {
  if (ir.unknownPods === 'allow')
    return [
      'Unknown pods: allowed (--unknown-pods allow): a pod address not programmed yet is forwarded unfiltered.',
    ]
  const ranges = ir.podRanges ?? []
  if (ranges.length === 0)
    return [
      'Unknown pods: the node pod ranges are unknown (no Node spec.podCIDRs, no --pod-cidr), so a pod',
      'address not programmed yet is forwarded unfiltered.',
    ]
  return [
    `Unknown pods: dropped from and to the pod ranges ${ranges.map((r) => r.cidr).join(' ')} unless programmed.`,
  ]
}
