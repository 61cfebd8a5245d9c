/**
 * Workloads and the edges between them on one port (Cytoscape.js): a workload is its pods folded (the
 * CLI's folding), an edge means at least one of its pod pairs is allowed (dashed: not all). In the diff
 * view, added edges are green and removed ones red.
 */
import cytoscape from 'cytoscape'
import { useEffect, useRef } from 'preact/hooks'
import { foldWorkloads } from '../../src/diff/workloads.js'
import type { Pod } from '../../src/model/index.js'
import { aggregate, type Grid, type Unit } from './model.js'

export const MAX_EDGES = 3000

export interface GraphEdge {
  readonly from: string
  readonly to: string
  /** 'allowed' (all pairs), 'partial', or in the diff view 'added' / 'removed' / 'same'. */
  readonly kind: 'allowed' | 'partial' | 'added' | 'removed' | 'same'
}

/** Computes workloads and edges from the grid: the folding of the CLI, aggregates by class. */
export function graphOf(
  grid: Grid,
  pods: readonly Pod[],
  diff: boolean,
): { nodes: { id: string; ns: string; size: number }[]; edges: GraphEdge[] } {
  const indexOf = new Map(grid.keys.map((k, i) => [k, i]))
  const workloads = foldWorkloads(pods.filter((p) => indexOf.has(`${p.namespace}/${p.name}`)))
  const units: Unit[] = workloads.map((w) => {
    const members = w.pods.map((k) => indexOf.get(k) as number)
    const hist = new Map<number, number>()
    for (const m of members)
      hist.set(grid.classOf[m] as number, (hist.get(grid.classOf[m] as number) ?? 0) + 1)
    return { label: w.name, namespace: w.namespace, collapsed: false, members, hist }
  })
  const edges: GraphEdge[] = []
  units.forEach((u, i) => {
    units.forEach((v, j) => {
      if (i === j) return
      const g = aggregate(grid, u, v, false)
      const from = (workloads[i] as { key: string }).key
      const to = (workloads[j] as { key: string }).key
      if (diff) {
        if (g.added > 0) edges.push({ from, to, kind: 'added' })
        if (g.removed > 0) edges.push({ from, to, kind: 'removed' })
        if (g.added === 0 && g.removed === 0 && g.allowed > 0) edges.push({ from, to, kind: 'same' })
      } else if (g.allowed > 0) edges.push({ from, to, kind: g.allowed === g.total ? 'allowed' : 'partial' })
    })
  })
  return { nodes: workloads.map((w) => ({ id: w.key, ns: w.namespace, size: w.pods.length })), edges }
}

/** Draws the workload graph with Cytoscape.js (rebuilt when the grid or the view changes). */
export function Graph(props: {
  grid: Grid
  pods: readonly Pod[]
  diff: boolean
  showSame: boolean
  onReady?: (cy: cytoscape.Core) => void
}) {
  const ref = useRef<HTMLDivElement>(null)
  const { nodes, edges: all } = graphOf(props.grid, props.pods, props.diff)
  const edges = props.diff && !props.showSame ? all.filter((e) => e.kind !== 'same') : all
  const tooMany = edges.length > MAX_EDGES
  useEffect(() => {
    if (!ref.current || tooMany) return
    const namespaces = [...new Set(nodes.map((n) => n.ns))]
    const cy = cytoscape({
      container: ref.current,
      elements: [
        ...namespaces.map((ns) => ({ data: { id: `ns:${ns}`, label: ns }, classes: 'namespace' })),
        ...nodes.map((n) => ({
          data: {
            id: n.id,
            label: `${n.id.slice(n.ns.length + 1)}${n.size > 1 ? ` ×${n.size}` : ''}`,
            parent: `ns:${n.ns}`,
          },
          classes: 'workload',
        })),
        ...edges.map((e, i) => ({
          data: { id: `e${i}`, source: e.from, target: e.to, kind: e.kind },
          classes: e.kind,
        })),
      ],
      style: [
        {
          selector: 'node.workload',
          style: {
            label: 'data(label)',
            'font-size': 11,
            'background-color': '#2563eb',
            color: '#111827',
            'text-valign': 'bottom',
            'text-margin-y': 4,
            width: 18,
            height: 18,
          },
        },
        {
          selector: 'node.namespace',
          style: {
            label: 'data(label)',
            'font-size': 12,
            'font-weight': 'bold',
            'text-valign': 'top',
            'background-color': '#f3f4f6',
            'border-color': '#9ca3af',
            'border-width': 1,
            shape: 'round-rectangle',
          },
        },
        {
          selector: 'edge',
          style: {
            width: 1.5,
            'curve-style': 'bezier',
            'target-arrow-shape': 'triangle',
            'arrow-scale': 0.8,
            'line-color': '#6b7280',
            'target-arrow-color': '#6b7280',
          },
        },
        { selector: 'edge.partial', style: { 'line-style': 'dashed' } },
        {
          selector: 'edge.added',
          style: { 'line-color': '#10c840', 'target-arrow-color': '#10c840', width: 3 },
        },
        {
          selector: 'edge.removed',
          style: { 'line-color': '#ec2828', 'target-arrow-color': '#ec2828', width: 3 },
        },
        { selector: 'edge.same', style: { 'line-color': '#d1d5db', 'target-arrow-color': '#d1d5db' } },
      ],
      layout:
        nodes.length <= 150
          ? {
              name: 'cose',
              animate: false,
              randomize: false,
              nodeDimensionsIncludeLabels: true,
              nodeRepulsion: () => 8_000,
              padding: 20,
            }
          : { name: 'grid', avoidOverlap: true },
      wheelSensitivity: 0.3,
    })
    props.onReady?.(cy)
    return () => cy.destroy()
  }, [props.grid, props.diff, props.showSame])
  if (tooMany)
    return (
      <p class="empty">
        {edges.length} edges: more than {MAX_EDGES} to draw. Filter by namespace or label.
      </p>
    )
  return <div class="graph" ref={ref} data-nodes={nodes.length} data-edges={edges.length} />
}
