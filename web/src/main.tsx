/**
 * The Palisade page: the matrix as a heat map (per-port tabs, namespace folding, filters, search), the
 * explanation of a cell, a graph of workloads, the lint findings and the diff view. Data comes inline
 * (`palisade report`) or from /api/data with reloads pushed on /api/events (`palisade serve`).
 */
import type cytoscape from 'cytoscape'
import { render } from 'preact'
import { useEffect, useMemo, useRef, useState } from 'preact/hooks'
import { declaredPorts, formatPort, type PortQuery, parsePortSpec } from '../../src/engine/index.js'
import type { PageData } from '../../src/web/page-data.js'
import { Explanation } from './explain.js'
import { Graph } from './graph.js'
import { HeatMap, type HeatMapHandle } from './heatmap.js'
import { buildUnits, computeGrid, parseLabelFilter, sideModel } from './model.js'
import './style.css'

type Tab = 'matrix' | 'graph' | 'lint' | 'diff'

/** What automation (the browser tests, the figures) reads from the page. */
interface PageHook {
  ready: boolean
  generation: number
  cellCenter(from: string, to: string): { x: number; y: number } | undefined
  cy?: cytoscape.Core
}
declare global {
  interface Window {
    __palisade?: PageHook
  }
}
const hook: PageHook = { ready: false, generation: 0, cellCenter: () => undefined }
window.__palisade = hook

const params = new URLSearchParams(window.location.search || window.location.hash.replace(/^#/, ''))
const COLLAPSE_ABOVE = 1500

function csv(s: string | null): string[] {
  return (s ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean)
}

function App({ initial }: { initial: PageData }) {
  const [data, setData] = useState(initial)
  const [tab, setTab] = useState<Tab>(
    (params.get('tab') as Tab | null) ??
      (initial.current.cluster.pods.length === 0 && initial.lint.length > 0 ? 'lint' : 'matrix'),
  )
  const [nsFilter, setNsFilter] = useState<Set<string>>(new Set(csv(params.get('ns'))))
  const [labelText, setLabelText] = useState(params.get('label') ?? '')
  const [search, setSearch] = useState(params.get('q') ?? '')
  const [selected, setSelected] = useState<{ from: string; to: string } | undefined>()
  const [diffView, setDiffView] = useState<'matrix' | 'graph'>('matrix')
  const [showSame, setShowSame] = useState(false)
  const [extraPorts, setExtraPorts] = useState<string[]>([])
  const [reloadError, setReloadError] = useState<string | undefined>()

  // serve: reload when the server says the data changed.
  useEffect(() => {
    if (document.body.dataset.mode !== 'serve') return
    const es = new EventSource('/api/events')
    es.addEventListener('reload', async () => {
      const res = await fetch('/api/data')
      const body = await res.json()
      if (res.ok) {
        setData(body as PageData)
        setReloadError(undefined)
        hook.generation++
      } else setReloadError(String(body.error))
      const status = await (await fetch('/api/status')).json()
      setReloadError(status.error)
    })
    return () => es.close()
  }, [])

  const current = useMemo(() => sideModel(data.current.cluster), [data])
  const base = useMemo(() => (data.base ? sideModel(data.base.cluster) : undefined), [data])
  const namespaces = useMemo(
    () => [...new Set([...current.pods, ...(base?.pods ?? [])].map((p) => p.namespace))].sort(),
    [current, base],
  )
  const ports = useMemo(() => {
    const declared =
      data.ports.length > 0
        ? [...data.ports]
        : declaredPorts([...current.pods, ...(base?.pods ?? [])]).map(formatPort)
    const all = [...declared, ...extraPorts.filter((p) => !declared.includes(p))]
    return all.length > 0 ? all : ['80/TCP']
  }, [data, current, base, extraPorts])
  const [port, setPort] = useState(params.get('port') ?? '')
  const portText = ports.includes(port) ? port : (ports[0] as string)
  const q = parsePortSpec(portText) as PortQuery

  const label = useMemo(() => parseLabelFilter(labelText), [labelText])
  const diffMode = tab === 'diff' && base !== undefined
  const keys = useMemo(() => {
    const match = typeof label === 'string' ? () => true : label
    return current.pods
      .filter((p) => (nsFilter.size === 0 || nsFilter.has(p.namespace)) && match(p.labels))
      .filter((p) => !diffMode || base?.byKey.has(`${p.namespace}/${p.name}`))
      .map((p) => `${p.namespace}/${p.name}`)
  }, [current, base, nsFilter, label, diffMode])
  const [collapsed, setCollapsed] = useState<Set<string>>(() =>
    current.pods.length > COLLAPSE_ABOVE && nsFilter.size === 0 ? new Set(namespaces) : new Set(),
  )
  const grid = useMemo(
    () => computeGrid(keys, q, current, diffMode ? base : undefined),
    [keys, portText, current, base, diffMode],
  )
  const units = useMemo(() => buildUnits(grid, collapsed), [grid, collapsed])
  const highlight = useMemo(() => {
    const out = new Set<number>()
    if (search.trim() === '') return out
    const s = search.trim().toLowerCase()
    units.forEach((u, i) => {
      if (`${u.namespace}/${u.label}`.toLowerCase().includes(s)) out.add(i)
    })
    return out
  }, [units, search])
  const rowOf = (key: string) =>
    units.findIndex((u) => !u.collapsed && grid.keys[u.members[0] as number] === key)
  const heat = useRef<HeatMapHandle | undefined>(undefined)
  hook.cellCenter = (from, to) => {
    const r = rowOf(from)
    const c = rowOf(to)
    return r < 0 || c < 0 ? undefined : heat.current?.cellCenter(r, c)
  }
  useEffect(() => {
    if (!hook.ready) {
      hook.ready = true
      performance.mark('palisade-interactive')
    }
  }, [grid])

  const onCell = (row: number, col: number) => {
    const u = units[row]
    const v = units[col]
    if (!u || !v) return
    if (u.collapsed || v.collapsed) {
      setCollapsed((c) => {
        const next = new Set(c)
        next.delete(u.namespace)
        next.delete(v.namespace)
        return next
      })
      return
    }
    setSelected({
      from: grid.keys[u.members[0] as number] as string,
      to: grid.keys[v.members[0] as number] as string,
    })
  }
  const toggleNs = (ns: string) =>
    setCollapsed((c) => {
      const next = new Set(c)
      if (next.has(ns)) next.delete(ns)
      else next.add(ns)
      return next
    })

  const counts = {
    pods: data.current.cluster.pods.length,
    policies: data.current.cluster.policies.length,
    errors: data.lint.filter((l) => l.severity === 'error').length,
    warnings: data.lint.filter((l) => l.severity === 'warning').length,
  }
  const explainSide = (side: NonNullable<PageData['base']>, model: typeof current) => ({
    label: side.label,
    model,
    excerpts: side.excerpts,
  })
  const matrixLike = tab === 'matrix' || (tab === 'diff' && diffView === 'matrix')
  const graphLike = tab === 'graph' || (tab === 'diff' && diffView === 'graph')

  return (
    <div class="page">
      <header>
        <h1>{data.title}</h1>
        <span class="facts">
          {counts.pods} pods · {counts.policies} policies · {keys.length} shown
          {data.current.partial && (
            <strong class="warn"> · partial input: some objects were left out (see Lint)</strong>
          )}
          {reloadError && <strong class="warn"> · reload failed: {reloadError}</strong>}
        </span>
      </header>
      <nav class="tabs">
        {(['matrix', 'graph', 'lint', ...(data.base ? ['diff'] : [])] as Tab[]).map((t) => (
          <button type="button" key={t} class={t === tab ? 'on' : ''} data-tab={t} onClick={() => setTab(t)}>
            {t === 'lint'
              ? `Lint (${counts.errors} errors, ${counts.warnings} warnings)`
              : t === 'diff'
                ? 'Diff'
                : t[0]?.toUpperCase() + t.slice(1)}
          </button>
        ))}
      </nav>
      {tab !== 'lint' && (
        <div class="toolbar">
          <div class="ports" role="tablist">
            {ports.map((p) => (
              <button
                type="button"
                key={p}
                class={p === portText ? 'on' : ''}
                data-port={p}
                onClick={() => setPort(p)}
              >
                {p}
              </button>
            ))}
            <input
              class="addport"
              placeholder="other port…"
              size={10}
              onKeyDown={(e) => {
                if (e.key !== 'Enter') return
                const p = parsePortSpec((e.target as HTMLInputElement).value)
                if (typeof p === 'string') return
                const t = formatPort(p)
                setExtraPorts((x) => (x.includes(t) ? x : [...x, t]))
                setPort(t)
              }}
            />
          </div>
          <details class="nsfilter">
            <summary>Namespaces: {nsFilter.size === 0 ? 'all' : [...nsFilter].join(', ')}</summary>
            <div class="nslist">
              {namespaces.map((ns) => (
                <label key={ns}>
                  <input
                    type="checkbox"
                    checked={nsFilter.has(ns)}
                    onChange={() =>
                      setNsFilter((f) => {
                        const next = new Set(f)
                        if (next.has(ns)) next.delete(ns)
                        else next.add(ns)
                        return next
                      })
                    }
                  />
                  {ns}
                </label>
              ))}
              <button type="button" onClick={() => setNsFilter(new Set())}>
                all
              </button>
              <button type="button" onClick={() => setCollapsed(new Set(namespaces))}>
                fold all
              </button>
              <button type="button" onClick={() => setCollapsed(new Set())}>
                unfold all
              </button>
            </div>
          </details>
          <input
            class="labelfilter"
            placeholder="labels: app=web, tier in (db)"
            value={labelText}
            onInput={(e) => setLabelText((e.target as HTMLInputElement).value)}
            title={typeof label === 'string' ? label : 'label filter'}
            data-bad={typeof label === 'string' ? 'true' : undefined}
          />
          <input
            class="search"
            placeholder="search pods…"
            value={search}
            onInput={(e) => setSearch((e.target as HTMLInputElement).value)}
          />
          {tab === 'diff' && (
            <span class="diffview">
              <button
                type="button"
                class={diffView === 'matrix' ? 'on' : ''}
                onClick={() => setDiffView('matrix')}
              >
                heat map
              </button>
              <button
                type="button"
                class={diffView === 'graph' ? 'on' : ''}
                onClick={() => setDiffView('graph')}
              >
                graph
              </button>
              {diffView === 'graph' && (
                <label>
                  <input type="checkbox" checked={showSame} onChange={() => setShowSame(!showSame)} />{' '}
                  unchanged edges
                </label>
              )}
            </span>
          )}
        </div>
      )}
      <main>
        <div class="view">
          {tab === 'diff' && data.diff && <DiffSummary data={data} />}
          {matrixLike && (
            <>
              <Legend diff={diffMode} />
              <HeatMap
                grid={grid}
                units={units}
                diff={diffMode}
                highlight={highlight}
                {...(selected && rowOf(selected.from) >= 0
                  ? { selected: { row: rowOf(selected.from), col: rowOf(selected.to) } }
                  : {})}
                onCell={onCell}
                onToggleNamespace={toggleNs}
                handle={(h) => {
                  heat.current = h
                }}
              />
            </>
          )}
          {graphLike && (
            <Graph
              grid={grid}
              pods={current.pods}
              diff={diffMode}
              showSame={showSame}
              onReady={(cy) => {
                hook.cy = cy
              }}
            />
          )}
          {tab === 'lint' && <Lint data={data} />}
          {tab === 'diff' && data.diff && <DiffList data={data} />}
        </div>
        {selected && tab !== 'lint' && (
          <Explanation
            from={selected.from}
            to={selected.to}
            port={q}
            portText={portText}
            current={explainSide(data.current, current)}
            {...(diffMode && data.base && base ? { base: explainSide(data.base, base) } : {})}
            onClose={() => setSelected(undefined)}
          />
        )}
      </main>
    </div>
  )
}

function Legend({ diff }: { diff: boolean }) {
  const items = diff
    ? [
        ['added', 'added'],
        ['removed', 'removed'],
        ['both', 'some added, some removed'],
        ['same-allowed', 'unchanged, allowed'],
        ['same-denied', 'unchanged, denied'],
      ]
    : [
        ['allowed', 'allowed'],
        ['denied', 'denied'],
      ]
  return (
    <div class="legend">
      {items.map(([c, t]) => (
        <span key={c}>
          <i class={`sw ${c}`} /> {t}
        </span>
      ))}
      <span class="muted">rows: from · columns: to</span>
    </div>
  )
}

function Lint({ data }: { data: PageData }) {
  const [open, setOpen] = useState<number | undefined>()
  if (data.lint.length === 0) return <p class="empty">No finding.</p>
  return (
    <table class="lint">
      <thead>
        <tr>
          <th>severity</th>
          <th>where</th>
          <th>object</th>
          <th>message</th>
          <th>code</th>
        </tr>
      </thead>
      <tbody>
        {data.lint.map((l, i) => (
          <>
            <tr key={i} class={`sev-${l.severity}`} onClick={() => setOpen(open === i ? undefined : i)}>
              <td>{l.severity}</td>
              <td class="src">{l.source ?? ''}</td>
              <td>{l.object ?? ''}</td>
              <td>
                {l.path && <code>{l.path.replace(/^\./, '')}: </code>}
                {l.message}
              </td>
              <td>
                <code>{l.code}</code>
              </td>
            </tr>
            {open === i && l.excerpt && (
              <tr key={`x${i}`}>
                <td colSpan={5}>
                  <pre class="yaml">
                    {l.excerpt.lines.map((line, j) => {
                      const n = (l.excerpt?.start ?? 0) + j
                      return (
                        <div key={n} class={l.source?.endsWith(`:${n}`) ? 'mark' : undefined}>
                          <span class="ln">{n}</span>
                          {line}
                        </div>
                      )
                    })}
                  </pre>
                </td>
              </tr>
            )}
          </>
        ))}
      </tbody>
    </table>
  )
}

type DiffJSON = NonNullable<PageData['diff']>
type ReasonJSON = DiffJSON['connections'][number]['reasons'][number]
type VerdictJSON = ReasonJSON['before']

function verdictText(v: VerdictJSON, direction: string): string {
  const at = (s?: string) => (s ? ` (${s})` : '')
  switch (v.note) {
    case 'not-a-pod':
      return 'no such pod'
    case 'not-isolated':
      return `not isolated (no policy with policyTypes ${direction} selects it)`
    case 'host-network':
      return 'a hostNetwork pod'
    case 'allowed-by-rule':
      return `allowed by ${v.allowedBy.map((r) => `${r.policy} ${direction.toLowerCase()}[${r.rule}]${at(r.source)}`).join(', ')}`
    case 'cluster-policy-accept':
    case 'cluster-policy-deny':
      return `${v.note === 'cluster-policy-accept' ? 'allowed' : 'denied'} by ${v.decidedBy ?? 'a ClusterNetworkPolicy rule'}`
    default:
      return `denied: isolated by ${v.selectedBy.map((p) => `${p.policy}${at(p.source)}`).join(', ')}`
  }
}
const reasonText = (r: ReasonJSON, from: string, to: string) =>
  `${r.direction === 'Ingress' ? `ingress to ${to}` : `egress from ${from}`}: now ${verdictText(r.after, r.direction)}; was ${verdictText(r.before, r.direction)}`

function DiffSummary({ data }: { data: PageData }) {
  const d = data.diff as DiffJSON
  const added = d.connections.filter((c) => c.change === 'added').length
  const exposures = d.exposure.filter((e) => e.change === 'added' && e.direction === 'Ingress')
  return (
    <div class="diffsummary">
      <strong>{d.old}</strong> → <strong>{d.new}</strong>:{' '}
      {d.changed
        ? `${added} connections added, ${d.connections.length - added} removed, ${d.isolation.length} isolation changes, ${d.workloads.length} workloads added or removed`
        : 'reachability unchanged'}
      {exposures.length > 0 && (
        <span class="warn"> · {exposures.length} new exposure to outside addresses</span>
      )}
    </div>
  )
}

function DiffList({ data }: { data: PageData }) {
  const d = data.diff as DiffJSON
  return (
    <div class="difflist">
      {d.exposure.length > 0 && (
        <section>
          <h3>Outside addresses</h3>
          <ul>
            {d.exposure.map((e, i) => (
              <li key={i} class={e.change}>
                {e.change === 'added' && e.direction === 'Ingress' && (
                  <strong class="warn">NEW EXPOSURE </strong>
                )}
                {e.workload}{' '}
                {e.direction === 'Ingress'
                  ? e.change === 'added'
                    ? 'may now be reached from'
                    : 'may no longer be reached from'
                  : e.change === 'added'
                    ? 'may now reach'
                    : 'may no longer reach'}{' '}
                {e.addresses.length > 4
                  ? `${e.addresses.slice(0, 4).join(', ')}, … (${e.addresses.length} ranges)`
                  : e.addresses.join(', ')}{' '}
                on {e.ports}
              </li>
            ))}
          </ul>
        </section>
      )}
      <section>
        <h3>Connections ({d.connections.length})</h3>
        <ul>
          {d.connections.slice(0, 500).map((c, i) => (
            <li key={i} class={c.change}>
              <span class="sign">{c.change === 'added' ? '+' : '−'}</span> {c.from} → {c.to} on {c.ports} (
              {c.pairs === c.of ? `${c.of} pod pairs` : `${c.pairs} of ${c.of} pod pairs`})
              {c.reasons.map((r, j) => (
                <div key={j} class="why">
                  {reasonText(r, c.sample.from, c.sample.to)}
                </div>
              ))}
            </li>
          ))}
          {d.connections.length > 500 && (
            <li>… {d.connections.length - 500} more (palisade diff -o json has them all)</li>
          )}
        </ul>
      </section>
      {d.isolation.length > 0 && (
        <section>
          <h3>Isolation</h3>
          <ul>
            {d.isolation.map((x, i) => (
              <li key={i}>
                {x.workload}: {x.change === 'isolated' ? 'now isolated' : 'no longer isolated'} for{' '}
                {x.direction.toLowerCase()} by{' '}
                {x.policies.map((p) => `${p.policy}${p.source ? ` (${p.source})` : ''}`).join(', ')}
              </li>
            ))}
          </ul>
        </section>
      )}
      {d.workloads.length > 0 && (
        <section>
          <h3>Workloads</h3>
          <ul>
            {d.workloads.map((w, i) => (
              <li key={i} class={w.change}>
                {w.change === 'added' ? '+' : '−'} {w.workload} ({w.kind}, {w.pods} pods)
              </li>
            ))}
          </ul>
        </section>
      )}
    </div>
  )
}

async function boot(): Promise<void> {
  const root = document.getElementById('app') as HTMLElement
  const inline = document.getElementById('palisade-data')
  let data: PageData
  if (inline?.textContent) data = JSON.parse(inline.textContent) as PageData
  else {
    for (;;) {
      const res = await fetch('/api/data')
      if (res.ok) {
        data = (await res.json()) as PageData
        break
      }
      root.innerHTML = '<p class="loading">Waiting for the first load…</p>'
      await new Promise((r) => setTimeout(r, 500))
    }
  }
  root.textContent = ''
  render(<App initial={data} />, root)
}

void boot()
