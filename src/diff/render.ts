/** Renders a reachability diff as text, Markdown, CSV, JSON and SARIF. Renders only: never recomputes. */
import type { DirectionVerdict, PolicyRef, RuleRef } from '../engine/index.js'
import { describeClusterRuleRef, describePolicyRef, describeRuleRef, renderSource } from '../explain/index.js'
import { CATALOGUE, type DiffCode } from '../model/index.js'
import { formatAddresses } from './addresses.js'
import {
  type ConnectionChange,
  type DirectionChange,
  type ExposureChange,
  hasChanges,
  type IsolationChange,
  type ReachabilityDiff,
} from './diff.js'
import { formatPortRanges } from './ports.js'

/** What the two sides were (named in every rendering). */
export interface DiffSides {
  readonly old: string
  readonly new: string
}

const plural = (n: number, one: string, many = `${one}s`): string => `${n} ${n === 1 ? one : many}`

/** Describes one direction's verdict in a short clause: 'allowed by ns/p ingress[0] (f:3)'. */
function clause(d: DirectionVerdict, direction: 'Ingress' | 'Egress'): string {
  const field = direction === 'Ingress' ? 'ingress' : 'egress'
  switch (d.note) {
    case 'not-a-pod':
      return 'no such pod'
    case 'host-network':
      return 'a hostNetwork pod (never selected)'
    case 'not-isolated':
      return `not isolated (no policy with policyTypes ${direction} selects it)`
    case 'allowed-by-rule':
      return `allowed by ${d.allowedBy.map(describeRuleRef).join(', ')}`
    case 'cluster-policy-accept':
      return `allowed by ${d.decidedBy ? describeClusterRuleRef(d.decidedBy) : 'a ClusterNetworkPolicy'}`
    case 'cluster-policy-deny':
      return `denied by ${d.decidedBy ? describeClusterRuleRef(d.decidedBy) : 'a ClusterNetworkPolicy'}`
    case 'same-node-host':
      return `allowed: the pod's own node always reaches it (isolated by ${d.selectedBy.map(describePolicyRef).join(', ')})`
    case 'no-rule-matched':
      return `denied: isolated by ${d.selectedBy.map(describePolicyRef).join(', ')} and none of their ${field} rules admits it`
  }
}

/** Renders why one direction changed: 'ingress to b: now allowed by ...; was denied: ...'. */
export function renderDirectionChange(r: DirectionChange, from: string, to: string): string {
  const side = r.direction === 'Ingress' ? `ingress to ${to}` : `egress from ${from}`
  return `${side}: now ${clause(r.after, r.direction)}; was ${clause(r.before, r.direction)}`
}

const pairsText = (c: { pairs: number; of: number }): string =>
  c.pairs === c.of ? `${plural(c.of, 'pod pair')}` : `${c.pairs} of ${c.of} pod pairs`

const podsText = (c: { pods: number; of: number }): string =>
  c.pods === c.of ? plural(c.of, 'pod') : `${c.pods} of ${c.of} pods`

function summaryCounts(d: ReachabilityDiff): string[] {
  const added = d.connections.filter((c) => c.change === 'added').length
  const removed = d.connections.length - added
  const exposed = d.exposure.filter((e) => e.change === 'added' && e.direction === 'Ingress').length
  const parts = [
    `${plural(added, 'connection')} added`,
    `${removed} removed`,
    `${plural(d.isolation.length, 'isolation change')}`,
    `${plural(d.exposure.length, 'outside-address change')}${exposed > 0 ? ` (${exposed} new exposure${exposed === 1 ? '' : 's'})` : ''}`,
    `${plural(d.workloads.length, 'workload')} added or removed`,
  ]
  return parts
}

/** One line that says whether reachability changed, with counts. */
export function renderDiffSummary(d: ReachabilityDiff): string {
  if (!hasChanges(d)) return 'reachability unchanged'
  return `reachability changed: ${summaryCounts(d).join(', ')}`
}

const exposureHead = (e: ExposureChange): string => {
  const ports = formatPortRanges(e.ports)
  const addrs = formatAddresses(e.addresses)
  if (e.direction === 'Ingress')
    return e.change === 'added'
      ? `NEW EXPOSURE: ${e.workload} may now be reached from ${addrs} on ${ports}`
      : `${e.workload} may no longer be reached from ${addrs} on ${ports}`
  return e.change === 'added'
    ? `${e.workload} may now reach ${addrs} on ${ports}`
    : `${e.workload} may no longer reach ${addrs} on ${ports}`
}

/** Why an outside-address change happened, with the pod and address the right way round. */
const exposureWhy = (e: ExposureChange): string =>
  e.direction === 'Ingress'
    ? renderDirectionChange(e.reason, e.sample.address, e.sample.pod)
    : renderDirectionChange(e.reason, e.sample.pod, e.sample.address)

const isolationHead = (i: IsolationChange): string => {
  const dir = i.direction === 'Ingress' ? 'ingress' : 'egress'
  const pols = i.policies.map(describePolicyRef).join(', ')
  return i.change === 'isolated'
    ? `${i.workload} is now isolated for ${dir} (${podsText(i)}) by ${pols}`
    : `${i.workload} is no longer isolated for ${dir} (${podsText(i)}); it was by ${pols}`
}

/** Renders the diff for a terminal: summary, then connections, isolation, outside addresses, workloads. */
export function renderDiffText(d: ReachabilityDiff, sides: DiffSides): string {
  const out: string[] = [`palisade diff ${sides.old} -> ${sides.new}: ${renderDiffSummary(d)}`]
  if (d.connections.length > 0) {
    out.push('', 'Connections (+ added, - removed; per workload, replicas folded):')
    for (const c of d.connections) {
      out.push(
        `${c.change === 'added' ? '+' : '-'} ${c.from} -> ${c.to} on ${formatPortRanges(c.ports)} (${pairsText(c)})`,
      )
      for (const r of c.reasons) out.push(`    ${renderDirectionChange(r, c.sample.from, c.sample.to)}`)
    }
  }
  if (d.isolation.length > 0) {
    out.push('', 'Isolation:')
    for (const i of d.isolation) out.push(`  ${isolationHead(i)}`)
  }
  if (d.exposure.length > 0) {
    out.push('', 'Outside addresses:')
    for (const e of d.exposure) {
      out.push(`${e.change === 'added' ? '+' : '-'} ${exposureHead(e)} (${podsText(e)})`)
      out.push(`    ${exposureWhy(e)}`)
    }
  }
  if (d.workloads.length > 0) {
    out.push('', 'Workloads:')
    for (const w of d.workloads)
      out.push(`${w.change === 'added' ? '+' : '-'} ${w.workload} (${w.kind}, ${plural(w.pods, 'pod')})`)
  }
  return `${out.join('\n')}\n`
}

const md = (s: string): string => s.replace(/\|/g, '\\|').replace(/</g, '&lt;')

/** Connection rows a Markdown comment shows (GitHub caps a comment at 65,536 characters). */
export const MARKDOWN_MAX_ROWS = 150

/** Renders the diff as GitHub-flavoured Markdown for a pull-request comment (at most maxRows connections). */
export function renderDiffMarkdown(
  d: ReachabilityDiff,
  sides: DiffSides,
  maxRows = MARKDOWN_MAX_ROWS,
): string {
  const out: string[] = [
    '### Palisade: reachability diff',
    '',
    `\`${md(sides.old)}\` → \`${md(sides.new)}\``,
    '',
  ]
  if (!hasChanges(d)) {
    out.push('**Reachability unchanged.**', '')
    return out.join('\n')
  }
  out.push(`**Reachability changed:** ${summaryCounts(d).join(', ')}.`, '')
  const exposures = d.exposure.filter((e) => e.change === 'added' && e.direction === 'Ingress')
  if (exposures.length > 0) {
    out.push('> [!WARNING]', '> New exposure to addresses outside the cluster:')
    for (const e of exposures) out.push(`> - ${md(exposureHead(e).replace(/^NEW EXPOSURE: /, ''))}`)
    out.push('')
  }
  if (d.connections.length > 0) {
    out.push('| | from | to | ports | pod pairs | why |', '|---|---|---|---|---|---|')
    for (const c of d.connections.slice(0, maxRows)) {
      const why = c.reasons.map((r) => md(renderDirectionChange(r, c.sample.from, c.sample.to))).join('<br>')
      out.push(
        `| ${c.change === 'added' ? '➕' : '➖'} | \`${md(c.from)}\` | \`${md(c.to)}\` | ${md(formatPortRanges(c.ports))} | ${c.pairs === c.of ? c.of : `${c.pairs} of ${c.of}`} | ${why} |`,
      )
    }
    if (d.connections.length > maxRows)
      out.push(
        `| | … ${d.connections.length - maxRows} more connection changes | | | | \`palisade diff -o json\` or the report lists them all |`,
      )
    out.push('')
  }
  if (d.isolation.length > 0) {
    out.push('**Isolation**', '')
    for (const i of d.isolation) out.push(`- ${md(isolationHead(i))}`)
    out.push('')
  }
  if (d.exposure.length > 0) {
    out.push('**Outside addresses**', '')
    for (const e of d.exposure)
      out.push(
        `- ${e.change === 'added' ? '➕' : '➖'} ${md(exposureHead(e))} (${podsText(e)}): ${md(exposureWhy(e))}`,
      )
    out.push('')
  }
  if (d.workloads.length > 0) {
    out.push('**Workloads**', '')
    for (const w of d.workloads)
      out.push(
        `- ${w.change === 'added' ? '➕' : '➖'} \`${md(w.workload)}\` (${w.kind}, ${plural(w.pods, 'pod')})`,
      )
    out.push('')
  }
  return out.join('\n')
}

const csvCell = (s: string): string => (/[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s)

/** Renders connection, isolation, exposure and workload changes as CSV rows with one header. */
export function renderDiffCSV(d: ReachabilityDiff): string {
  const rows = [['kind', 'change', 'from', 'to', 'ports', 'count', 'of', 'why']]
  for (const c of d.connections)
    rows.push([
      'connection',
      c.change,
      c.from,
      c.to,
      formatPortRanges(c.ports),
      String(c.pairs),
      String(c.of),
      c.reasons.map((r) => renderDirectionChange(r, c.sample.from, c.sample.to)).join('; '),
    ])
  for (const i of d.isolation)
    rows.push([
      'isolation',
      i.change,
      i.workload,
      i.direction,
      '',
      String(i.pods),
      String(i.of),
      i.policies.map(describePolicyRef).join('; '),
    ])
  for (const e of d.exposure)
    rows.push([
      e.direction === 'Ingress' ? 'exposure' : 'egress-outside',
      e.change,
      e.direction === 'Ingress' ? e.addresses.join(' ') : e.workload,
      e.direction === 'Ingress' ? e.workload : e.addresses.join(' '),
      formatPortRanges(e.ports),
      String(e.pods),
      String(e.of),
      exposureWhy(e),
    ])
  for (const w of d.workloads)
    rows.push(['workload', w.change, w.workload, '', '', String(w.pods), String(w.pods), w.kind])
  return `${rows.map((r) => r.map(csvCell).join(',')).join('\n')}\n`
}

const policyJSON = (p: PolicyRef) => ({
  policy: p.policy,
  kind: p.origin.kind,
  ...(renderSource(p.source) ? { source: renderSource(p.source) } : {}),
})
const ruleJSON = (r: RuleRef) => ({
  policy: r.policy,
  direction: r.direction,
  rule: r.rule,
  ...(renderSource(r.ruleSource ?? r.source) ? { source: renderSource(r.ruleSource ?? r.source) } : {}),
})
const verdictJSON = (v: DirectionVerdict) => ({
  allowed: v.allowed,
  isolated: v.isolated,
  note: v.note,
  selectedBy: v.selectedBy.map(policyJSON),
  allowedBy: v.allowedBy.map(ruleJSON),
  // The ClusterNetworkPolicy rule that decided, in words with file:line (docs/semantics.md#cnp-tiers).
  ...(v.decidedBy ? { decidedBy: describeClusterRuleRef(v.decidedBy) } : {}),
})
const reasonJSON = (r: DirectionChange) => ({
  direction: r.direction,
  before: verdictJSON(r.before),
  after: verdictJSON(r.after),
})

/** Returns the diff as a JSON-ready value (stable field names, sources as file:line). */
export function diffToJSON(d: ReachabilityDiff, sides: DiffSides) {
  return {
    old: sides.old,
    new: sides.new,
    changed: hasChanges(d),
    connections: d.connections.map((c: ConnectionChange) => ({
      change: c.change,
      from: c.from,
      to: c.to,
      ports: formatPortRanges(c.ports),
      portRanges: c.ports,
      pairs: c.pairs,
      of: c.of,
      sample: c.sample,
      reasons: c.reasons.map(reasonJSON),
    })),
    isolation: d.isolation.map((i) => ({ ...i, policies: i.policies.map(policyJSON) })),
    exposure: d.exposure.map((e) => ({
      change: e.change,
      workload: e.workload,
      direction: e.direction,
      addresses: e.addresses,
      ports: formatPortRanges(e.ports),
      portRanges: e.ports,
      pods: e.pods,
      of: e.of,
      sample: e.sample,
      reason: reasonJSON(e.reason),
    })),
    workloads: d.workloads,
  }
}

/** The findings of the diff, in the order of the SARIF rules (their docs and levels are in the catalogue). */
const SARIF_RULES: readonly DiffCode[] = [
  'diff.connection-added',
  'diff.connection-removed',
  'diff.isolation-changed',
  'diff.exposure-added',
  'diff.outside-changed',
  'diff.workload-changed',
]
const SARIF_LEVEL = { error: 'error', warning: 'warning', info: 'note' } as const

/** Renders the diff as a SARIF 2.1.0 log: each change located at the rule or policy that made it. */
export function renderDiffSarif(d: ReachabilityDiff, sides: DiffSides, toolVersion: string) {
  const result = (ruleId: DiffCode, text: string, src: { file: string; line?: number } | undefined) => ({
    ruleId,
    ruleIndex: SARIF_RULES.indexOf(ruleId),
    level: SARIF_LEVEL[CATALOGUE[ruleId].severity],
    message: { text },
    ...(src
      ? {
          locations: [
            {
              physicalLocation: {
                artifactLocation: { uri: src.file },
                ...(src.line !== undefined ? { region: { startLine: src.line } } : {}),
              },
            },
          ],
        }
      : {}),
  })
  /** Where a change was made: the rule that admits now, else the policy that isolates now, else before. */
  const locate = (reasons: readonly DirectionChange[]) => {
    for (const r of reasons) {
      const rule = r.after.allowedBy[0]
      if (rule) return rule.ruleSource ?? rule.source
      const pol = r.after.selectedBy[0] ?? r.before.selectedBy[0]
      if (pol?.source) return pol.source
      const was = r.before.allowedBy[0]
      if (was) return was.ruleSource ?? was.source
    }
    return undefined
  }
  const results = [
    ...d.connections.map((c) =>
      result(
        c.change === 'added' ? 'diff.connection-added' : 'diff.connection-removed',
        `${c.change === 'added' ? 'now allowed' : 'now denied'}: ${c.from} -> ${c.to} on ${formatPortRanges(c.ports)} (${pairsText(c)}): ${c.reasons.map((r) => renderDirectionChange(r, c.sample.from, c.sample.to)).join('; ')}`,
        locate(c.reasons),
      ),
    ),
    ...d.isolation.map((i) => result('diff.isolation-changed', isolationHead(i), i.policies[0]?.source)),
    ...d.exposure.map((e) =>
      result(
        e.change === 'added' && e.direction === 'Ingress' ? 'diff.exposure-added' : 'diff.outside-changed',
        `${exposureHead(e)} (${podsText(e)}): ${exposureWhy(e)}`,
        locate([e.reason]),
      ),
    ),
    ...d.workloads.map((w) =>
      result(
        'diff.workload-changed',
        `${w.workload} (${w.kind}, ${plural(w.pods, 'pod')}) ${w.change}`,
        undefined,
      ),
    ),
  ]
  return {
    $schema: 'https://json.schemastore.org/sarif-2.1.0.json',
    version: '2.1.0' as const,
    runs: [
      {
        tool: {
          driver: {
            name: 'palisade',
            version: toolVersion,
            rules: SARIF_RULES.map((id) => ({
              id,
              shortDescription: { text: CATALOGUE[id].doc },
              defaultConfiguration: { level: SARIF_LEVEL[CATALOGUE[id].severity] },
            })),
          },
        },
        properties: { old: sides.old, new: sides.new },
        results,
      },
    ],
  }
}
