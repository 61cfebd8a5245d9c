/**
 * A node's pod ranges (pure): `Node.spec.podCIDRs` (and the legacy `spec.podCIDR`) read and checked as
 * the API server's ValidateNode does (pkg/apis/core/validation): every entry a valid CIDR (parsed
 * sloppily, as netutils.ParseCIDRSloppy), more than one only as a dual-stack pair (at most one per IP
 * family), no duplicates. The v1 conversion fills `podCIDRs` from `podCIDR` when only the latter is
 * given and refuses a `podCIDR` that differs from `podCIDRs[0]`. The same checks apply to
 * `--pod-cidr` flags. docs/semantics.md#unknown-local-pods.
 */
import type { FieldPath, JsonObject, JsonValue } from '../model/index.js'
import { canonicalCIDR, type Family } from '../model/index.js'
import { parseCIDRSloppy } from '../validate/cidr.js'

/** A pod range in canonical form (host bits cleared). */
export interface PodRange {
  readonly family: Family
  readonly cidr: string
}

export interface PodRangeProblem {
  readonly path: FieldPath
  readonly message: string
}

/** The outcome: `ranges` is empty when none is given or any is bad (a bad list is never used in part). */
export interface PodRangesRead {
  readonly ranges: readonly PodRange[]
  readonly problems: readonly PodRangeProblem[]
  /** True when the object (or the flags) named pod ranges at all. */
  readonly given: boolean
}

function asObject(v: JsonValue | undefined): JsonObject | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v : undefined
}

/** Checks a list of CIDR texts as ValidateNode checks spec.podCIDRs; `path` names the list. */
export function checkPodCIDRs(values: readonly string[], path: FieldPath): PodRangesRead {
  const problems: PodRangeProblem[] = []
  const ranges: PodRange[] = []
  values.forEach((v, i) => {
    const c = parseCIDRSloppy(v)
    if (!c) problems.push({ path: [...path, i], message: `Invalid value: "${v}": must be valid CIDR` })
    else ranges.push({ family: c.family, cidr: canonicalCIDR(c) })
  })
  if (values.length > 1) {
    const families = new Set(ranges.map((r) => r.family))
    if (values.length > 2 || ranges.length !== values.length || families.size !== values.length)
      problems.push({
        path,
        message: `Invalid value: [${values.map((v) => `"${v}"`).join(', ')}]: may specify no more than one CIDR for each IP family`,
      })
    const seen = new Set<string>()
    values.forEach((v, i) => {
      if (seen.has(v)) problems.push({ path: [...path, i], message: `Duplicate value: "${v}"` })
      seen.add(v)
    })
  }
  if (problems.length > 0) return { ranges: [], problems, given: values.length > 0 }
  return { ranges: ranges.sort((a, b) => a.family - b.family), problems, given: values.length > 0 }
}

/** Reads a Node object's pod ranges (spec.podCIDRs, else spec.podCIDR). */
export function readNodePodRanges(node: JsonObject): PodRangesRead {
  const spec = asObject(node.spec)
  if (!spec) return { ranges: [], problems: [], given: false }
  const list = spec.podCIDRs
  const single = spec.podCIDR
  const problems: PodRangeProblem[] = []
  let values: string[] = []
  if (list !== undefined && list !== null) {
    if (!Array.isArray(list)) {
      return {
        ranges: [],
        problems: [{ path: ['spec', 'podCIDRs'], message: 'must be a list of strings' }],
        given: true,
      }
    }
    list.forEach((v, i) => {
      if (typeof v === 'string') values.push(v)
      else problems.push({ path: ['spec', 'podCIDRs', i], message: 'must be a string' })
    })
  }
  if (single !== undefined && single !== null && single !== '') {
    if (typeof single !== 'string') problems.push({ path: ['spec', 'podCIDR'], message: 'must be a string' })
    else if (values.length === 0) values = [single]
    else if (values[0] !== single)
      problems.push({
        path: ['spec', 'podCIDR'],
        message: `conflicting values: podCIDR "${single}" must be podCIDRs[0] "${values[0]}"`,
      })
  }
  if (problems.length > 0) return { ranges: [], problems, given: true }
  const path: FieldPath = list !== undefined && list !== null ? ['spec', 'podCIDRs'] : ['spec', 'podCIDR']
  return checkPodCIDRs(values, path)
}
