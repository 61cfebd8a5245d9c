/**
 * The explanation of a cell, in both directions: the engine's verdict (egress of the source, ingress of
 * the destination), the policies that isolate each side and the rules that admit the connection, with
 * file:line and the YAML they were read from (the rule's lines marked).
 */
import {
  type DirectionVerdict,
  evaluate,
  type PolicyRef,
  type PortQuery,
  type RuleRef,
  type Verdict,
} from '../../src/engine/index.js'
import { describePolicyRef, describeRuleRef } from '../../src/explain/words.js'
import type { Pod } from '../../src/model/index.js'
import type { Excerpt } from '../../src/web/page-data.js'
import type { SideModel } from './model.js'

export interface ExplainSide {
  readonly label: string
  readonly model: SideModel
  readonly excerpts: Readonly<Record<string, Excerpt>>
}

function YamlExcerpt({ excerpt, marks }: { excerpt: Excerpt; marks: ReadonlySet<number> }) {
  return (
    <pre class="yaml">
      {excerpt.lines.map((line, i) => {
        const n = excerpt.start + i
        return (
          <div key={n} class={marks.has(n) ? 'mark' : undefined}>
            <span class="ln">{n}</span>
            {line}
          </div>
        )
      })}
    </pre>
  )
}

/** Lines of a rule in an excerpt: from its first line to the line before the next rule of its list. */
function ruleLines(excerpt: Excerpt, start: number | undefined): Set<number> {
  const out = new Set<number>()
  if (start === undefined) return out
  const first = excerpt.lines[start - excerpt.start]
  if (first === undefined) return out
  const indent = first.length - first.trimStart().length
  out.add(start)
  for (let n = start + 1; n < excerpt.start + excerpt.lines.length; n++) {
    const l = excerpt.lines[n - excerpt.start] as string
    if (l.trim() === '') continue
    const ind = l.length - l.trimStart().length
    if (ind <= indent) break
    out.add(n)
  }
  return out
}

function PolicyBlock({
  policy,
  rules,
  side,
}: {
  policy: PolicyRef
  rules: readonly RuleRef[]
  side: ExplainSide
}) {
  const excerpt = side.excerpts[policy.policy]
  const marks = new Set<number>()
  if (excerpt) for (const r of rules) for (const n of ruleLines(excerpt, r.ruleSource?.line)) marks.add(n)
  return (
    <details class="policy" open={rules.length > 0}>
      <summary>
        {rules.length > 0 ? rules.map(describeRuleRef).join(', ') : describePolicyRef(policy)}
      </summary>
      {excerpt ? <YamlExcerpt excerpt={excerpt} marks={marks} /> : <p class="muted">no source text</p>}
    </details>
  )
}

function Direction({
  title,
  d,
  direction,
  side,
}: {
  title: string
  d: DirectionVerdict
  direction: 'Ingress' | 'Egress'
  side: ExplainSide
}) {
  const field = direction === 'Ingress' ? 'ingress' : 'egress'
  let text: string
  switch (d.note) {
    case 'not-a-pod':
      text = 'allowed: not a pod, no NetworkPolicy applies on this side'
      break
    case 'host-network':
      text = 'allowed: hostNetwork pod, NetworkPolicy never selects it'
      break
    case 'not-isolated':
      text = `allowed: not isolated (no policy with policyTypes ${direction} selects it)`
      break
    case 'allowed-by-rule':
      text = `allowed by ${d.allowedBy.length === 1 ? 'a rule' : `${d.allowedBy.length} rules`}`
      break
    case 'cluster-policy-accept':
    case 'cluster-policy-deny': {
      const r = d.decidedBy
      const rule = r
        ? `${r.tier} ClusterNetworkPolicy ${r.policy} (priority ${r.priority}) ${field}[${r.rule}]${r.ruleName ? ` "${r.ruleName}"` : ''}: ${r.action}`
        : 'a ClusterNetworkPolicy'
      text = `${d.note === 'cluster-policy-accept' ? 'allowed' : 'denied'} by ${rule}`
      break
    }
    default:
      text = `denied: isolated by ${d.selectedBy.map((p) => p.policy).join(', ')}; none of their ${field} rules admits it`
  }
  // Deciding policies: those whose rules admit it, else those that isolate it.
  const byPolicy = new Map<string, RuleRef[]>()
  for (const r of d.allowedBy) byPolicy.set(r.policy, [...(byPolicy.get(r.policy) ?? []), r])
  const shown = d.allowed ? d.selectedBy.filter((p) => byPolicy.has(p.policy)) : d.selectedBy
  return (
    <div class={`direction ${d.allowed ? 'ok' : 'no'}`}>
      <h4>
        {title}: <span>{text}</span>
      </h4>
      {shown.map((p) => (
        <PolicyBlock key={p.policy} policy={p} rules={byPolicy.get(p.policy) ?? []} side={side} />
      ))}
    </div>
  )
}

function OneWay({
  v,
  from,
  to,
  port,
  side,
}: {
  v: Verdict
  from: string
  to: string
  port: string
  side: ExplainSide
}) {
  return (
    <section class="oneway">
      <h3 class={v.allowed ? 'ok' : 'no'}>
        {from} → {to} on {port}: <strong>{v.allowed ? 'ALLOWED' : 'DENIED'}</strong>
      </h3>
      {v.note === 'loopback' ? (
        <p>a pod may always reach itself (loopback inside its own network namespace)</p>
      ) : v.note === 'same-node-host' ? (
        <p>a node and the pods running on it may always talk</p>
      ) : (
        <>
          <Direction title={`egress from ${from}`} d={v.egress} direction="Egress" side={side} />
          <Direction title={`ingress to ${to}`} d={v.ingress} direction="Ingress" side={side} />
        </>
      )}
    </section>
  )
}

/** Explains a pair of pods on a port in both directions, on the current side and, in the diff view, the base. */
export function Explanation(props: {
  from: string
  to: string
  port: PortQuery
  portText: string
  current: ExplainSide
  base?: ExplainSide
  onClose: () => void
}) {
  const sides = props.base ? [props.base, props.current] : [props.current]
  return (
    <aside class="explain" data-from={props.from} data-to={props.to}>
      <button type="button" class="close" onClick={props.onClose} aria-label="close">
        ×
      </button>
      {sides.map((side) => {
        const a = side.model.byKey.get(props.from)
        const b = side.model.byKey.get(props.to)
        if (!a || !b) return <p key={side.label}>Not in {side.label}.</p>
        const ep = (p: Pod) => ({ kind: 'pod' as const, pod: p })
        const there = evaluate(side.model.index, ep(a), ep(b), props.port)
        const back = evaluate(side.model.index, ep(b), ep(a), props.port)
        return (
          <div key={side.label} class="side">
            {props.base && (
              <h2 class="side-label">
                {side === props.base ? 'before' : 'after'}: {side.label}
              </h2>
            )}
            <OneWay v={there} from={props.from} to={props.to} port={props.portText} side={side} />
            {props.from !== props.to && (
              <OneWay v={back} from={props.to} to={props.from} port={props.portText} side={side} />
            )}
          </div>
        )
      })}
    </aside>
  )
}
