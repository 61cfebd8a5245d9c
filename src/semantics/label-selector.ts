/**
 * Label selectors as metav1.LabelSelector defines them.
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#resources-that-support-set-based-requirements
 */
import type { LabelSelector, LabelSelectorRequirement, Labels } from '../model/index.js'

/** The selector that matches everything ({}). */
export const EVERYTHING: LabelSelector = Object.freeze({ matchLabels: {}, matchExpressions: [] })

/** Returns true when the selector has no requirement, i.e. selects everything. */
export function isEmptySelector(sel: LabelSelector): boolean {
  return Object.keys(sel.matchLabels).length === 0 && sel.matchExpressions.length === 0
}

/** Returns true when one requirement holds for the labels. */
export function matchRequirement(req: LabelSelectorRequirement, labels: Labels): boolean {
  const has = Object.hasOwn(labels, req.key)
  switch (req.operator) {
    case 'In':
      return has && req.values.includes(labels[req.key] as string)
    case 'NotIn':
      // A missing key satisfies NotIn, as in apimachinery's labels.Requirement.Matches.
      return !has || !req.values.includes(labels[req.key] as string)
    case 'Exists':
      return has
    case 'DoesNotExist':
      return !has
  }
}

/** Returns true when every matchLabels pair and every matchExpressions requirement hold (AND). */
export function matchSelector(sel: LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels)) {
    if (!Object.hasOwn(labels, k) || labels[k] !== v) return false
  }
  for (const req of sel.matchExpressions) {
    if (!matchRequirement(req, labels)) return false
  }
  return true
}

/**
 * Returns a canonical string for a selector: two selectors with the same key select the same
 * label sets (matchLabels k=v is the requirement k In (v); values sorted and deduplicated).
 */
export function canonicalSelector(sel: LabelSelector): string {
  const reqs: string[] = []
  for (const [k, v] of Object.entries(sel.matchLabels)) reqs.push(`${k} In (${v})`)
  for (const r of sel.matchExpressions) {
    const values = [...new Set(r.values)].sort()
    reqs.push(
      r.operator === 'In' || r.operator === 'NotIn'
        ? `${r.key} ${r.operator} (${values.join(',')})`
        : `${r.key} ${r.operator}`,
    )
  }
  return [...new Set(reqs)].sort().join(' && ') || '{}'
}

/** Renders a selector the way kubectl does (app=web,tier in (a,b),!x). Empty renders as '{}' . */
export function renderSelector(sel: LabelSelector): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(sel.matchLabels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    parts.push(`${k}=${v}`)
  for (const r of sel.matchExpressions) {
    switch (r.operator) {
      case 'In':
        parts.push(`${r.key} in (${r.values.join(',')})`)
        break
      case 'NotIn':
        parts.push(`${r.key} notin (${r.values.join(',')})`)
        break
      case 'Exists':
        parts.push(r.key)
        break
      case 'DoesNotExist':
        parts.push(`!${r.key}`)
        break
    }
  }
  return parts.length === 0 ? '{}' : parts.join(',')
}
