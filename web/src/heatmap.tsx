/**
 * The matrix as a heat map on a canvas: one pixel per row and column painted once into an offscreen
 * image, then drawn scaled (averaged when zoomed out, crisp cells when zoomed in), so 10⁶ cells cost one
 * image, not a million DOM nodes. Wheel zooms, drag pans, a click on a cell explains it, a click on a
 * namespace name folds it.
 */
import { useEffect, useRef, useState } from 'preact/hooks'
import { type Aggregate, aggregate, type Grid, type Unit } from './model.js'

export type Rgb = readonly [number, number, number]
export const COLOURS = {
  allowed: [46, 158, 92] as Rgb,
  denied: [200, 64, 64] as Rgb,
  added: [16, 200, 64] as Rgb,
  removed: [236, 40, 40] as Rgb,
  both: [240, 166, 24] as Rgb,
  sameAllowed: [196, 222, 204] as Rgb,
  sameDenied: [242, 242, 242] as Rgb,
} as const

const mix = (a: Rgb, b: Rgb, f: number): Rgb => [
  Math.round(a[0] + (b[0] - a[0]) * f),
  Math.round(a[1] + (b[1] - a[1]) * f),
  Math.round(a[2] + (b[2] - a[2]) * f),
]

/** The colour of a cell (or a block of cells) from its aggregate. */
export function colourOf(g: Aggregate, diff: boolean): Rgb {
  if (!diff) return mix(COLOURS.denied, COLOURS.allowed, g.total === 0 ? 0 : g.allowed / g.total)
  if (g.added > 0 && g.removed > 0) return COLOURS.both
  if (g.added > 0) return COLOURS.added
  if (g.removed > 0) return COLOURS.removed
  return mix(COLOURS.sameDenied, COLOURS.sameAllowed, g.total === 0 ? 0 : g.allowed / g.total)
}

export interface HeatMapProps {
  readonly grid: Grid
  readonly units: readonly Unit[]
  readonly diff: boolean
  readonly highlight: ReadonlySet<number>
  readonly selected?: { readonly row: number; readonly col: number }
  readonly onCell: (row: number, col: number) => void
  readonly onToggleNamespace: (ns: string) => void
}

const LEFT_NS = 110
const LEFT = 270
const TOP = 116
const TOP_NS = 16
const MAX_IMAGE = 4096

interface View {
  scale: number
  ox: number
  oy: number
}

/** Test and automation hook: where a cell is on screen (after making it visible). */
export interface HeatMapHandle {
  cellCenter(row: number, col: number): { x: number; y: number } | undefined
}

/** Draws the heat map of the rows and handles zoom, pan, hover, clicks on cells and on namespace names. */
export function HeatMap(props: HeatMapProps & { readonly handle?: (h: HeatMapHandle) => void }) {
  const canvasRef = useRef<HTMLCanvasElement>(null)
  const wrapRef = useRef<HTMLDivElement>(null)
  const offRef = useRef<HTMLCanvasElement | null>(null)
  const viewRef = useRef<View>({ scale: 1, ox: 0, oy: 0 })
  const sizeRef = useRef({ w: 800, h: 600 })
  const [tip, setTip] = useState<{ x: number; y: number; text: string } | undefined>()
  const n = props.units.length
  const tooBig = n > MAX_IMAGE

  // Paint one pixel per cell into the offscreen image whenever the grid or the rows change.
  useEffect(() => {
    if (tooBig || n === 0) return
    const off = document.createElement('canvas')
    off.width = n
    off.height = n
    const ctx = off.getContext('2d') as CanvasRenderingContext2D
    const img = ctx.createImageData(n, n)
    const data = img.data
    for (let r = 0; r < n; r++) {
      const u = props.units[r] as Unit
      for (let c = 0; c < n; c++) {
        const rgb = colourOf(aggregate(props.grid, u, props.units[c] as Unit, r === c), props.diff)
        const o = (r * n + c) * 4
        data[o] = rgb[0]
        data[o + 1] = rgb[1]
        data[o + 2] = rgb[2]
        data[o + 3] = 255
      }
    }
    ctx.putImageData(img, 0, 0)
    offRef.current = off
    fitView()
    draw()
  }, [props.grid, props.units, props.diff])

  useEffect(() => draw(), [props.highlight, props.selected])

  useEffect(() => {
    const wrap = wrapRef.current
    if (!wrap) return
    const ro = new ResizeObserver(() => {
      sizeRef.current = { w: Math.max(300, wrap.clientWidth), h: Math.max(300, wrap.clientHeight) }
      draw()
    })
    ro.observe(wrap)
    return () => ro.disconnect()
  }, [])

  const fitView = () => {
    const { w, h } = sizeRef.current
    const s = Math.min((w - LEFT) / Math.max(n, 1), (h - TOP) / Math.max(n, 1))
    viewRef.current = { scale: Math.min(Math.max(s, 0.05), 48), ox: 0, oy: 0 }
  }

  const clampView = () => {
    const v = viewRef.current
    const { w, h } = sizeRef.current
    const visW = (w - LEFT) / v.scale
    const visH = (h - TOP) / v.scale
    v.ox = Math.min(Math.max(0, v.ox), Math.max(0, n - visW))
    v.oy = Math.min(Math.max(0, v.oy), Math.max(0, n - visH))
  }

  function draw() {
    const canvas = canvasRef.current
    const off = offRef.current
    if (!canvas) return
    const { w, h } = sizeRef.current
    const dpr = window.devicePixelRatio || 1
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr)
      canvas.height = Math.round(h * dpr)
      canvas.style.width = `${w}px`
      canvas.style.height = `${h}px`
    }
    const ctx = canvas.getContext('2d') as CanvasRenderingContext2D
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0)
    ctx.fillStyle = '#ffffff'
    ctx.fillRect(0, 0, w, h)
    if (!off || n === 0) return
    clampView()
    const v = viewRef.current
    const visW = Math.min(n - v.ox, (w - LEFT) / v.scale)
    const visH = Math.min(n - v.oy, (h - TOP) / v.scale)
    ctx.imageSmoothingEnabled = v.scale < 1
    ctx.imageSmoothingQuality = 'high'
    ctx.drawImage(off, v.ox, v.oy, visW, visH, LEFT, TOP, visW * v.scale, visH * v.scale)
    const y = (row: number) => TOP + (row - v.oy) * v.scale
    const x = (col: number) => LEFT + (col - v.ox) * v.scale
    // Namespace blocks: separators, names (click folds), and pod names when rows are tall enough.
    ctx.font = '12px system-ui, sans-serif'
    ctx.textBaseline = 'middle'
    let start = 0
    for (let r = 0; r <= n; r++) {
      const u = props.units[r]
      const prev = props.units[start] as Unit
      if (r < n && u && u.namespace === prev.namespace) continue
      const y0 = Math.max(TOP, y(start))
      const y1 = Math.min(h, y(r))
      const x0 = Math.max(LEFT, x(start))
      const x1 = Math.min(w, x(r))
      ctx.strokeStyle = '#333'
      ctx.lineWidth = 1
      if (y(r) >= TOP && y(r) <= h) {
        ctx.beginPath()
        ctx.moveTo(LEFT, y(r))
        ctx.lineTo(LEFT + visW * v.scale, y(r))
        ctx.stroke()
      }
      if (x(r) >= LEFT && x(r) <= w) {
        ctx.beginPath()
        ctx.moveTo(x(r), TOP)
        ctx.lineTo(x(r), TOP + visH * v.scale)
        ctx.stroke()
      }
      if (y1 - y0 >= 10) {
        ctx.fillStyle = '#1f2937'
        ctx.fillText(`${prev.collapsed ? '▸' : '▾'} ${clip(prev.namespace, 14)}`, 4, y0 + 8)
      }
      if (x1 - x0 >= 40) {
        ctx.fillStyle = '#1f2937'
        ctx.fillText(clip(prev.namespace, Math.floor((x1 - x0) / 7)), x0 + 3, TOP_NS)
      }
      start = r
    }
    if (v.scale >= 10) {
      const first = Math.floor(v.oy)
      const last = Math.min(n, Math.ceil(v.oy + visH))
      for (let r = first; r < last; r++) {
        const u = props.units[r] as Unit
        ctx.fillStyle = props.highlight.has(r) ? '#b45309' : '#374151'
        ctx.fillText(clip(u.label, 22), LEFT_NS, y(r) + v.scale / 2)
      }
      // Column names, rotated, above the columns.
      const firstCol = Math.floor(v.ox)
      const lastCol = Math.min(n, Math.ceil(v.ox + visW))
      for (let c = firstCol; c < lastCol; c++) {
        const u = props.units[c] as Unit
        ctx.save()
        ctx.translate(x(c) + v.scale / 2, TOP - 4)
        ctx.rotate(-Math.PI / 3)
        ctx.fillStyle = props.highlight.has(c) ? '#b45309' : '#374151'
        ctx.fillText(clip(u.label, 14), 0, 0)
        ctx.restore()
      }
    }
    for (const r of props.highlight) {
      if (y(r) + v.scale < TOP || y(r) > h) continue
      ctx.strokeStyle = '#f59e0b'
      ctx.lineWidth = 2
      ctx.strokeRect(LEFT, y(r), visW * v.scale, Math.max(v.scale, 2))
    }
    const sel = props.selected
    if (sel) {
      ctx.strokeStyle = '#111827'
      ctx.lineWidth = 2
      ctx.strokeRect(x(sel.col) - 1, y(sel.row) - 1, Math.max(v.scale, 3) + 2, Math.max(v.scale, 3) + 2)
    }
  }

  const cellAt = (px: number, py: number): { row: number; col: number } | undefined => {
    const v = viewRef.current
    if (px < LEFT || py < TOP) return undefined
    const col = Math.floor(v.ox + (px - LEFT) / v.scale)
    const row = Math.floor(v.oy + (py - TOP) / v.scale)
    return row >= 0 && row < n && col >= 0 && col < n ? { row, col } : undefined
  }

  const drag = useRef<{ x: number; y: number; ox: number; oy: number; moved: boolean } | undefined>(undefined)
  const pos = (e: MouseEvent) => {
    const rect = (canvasRef.current as HTMLCanvasElement).getBoundingClientRect()
    return { px: e.clientX - rect.left, py: e.clientY - rect.top }
  }

  props.handle?.({
    cellCenter(row, col) {
      const v = viewRef.current
      const { w, h } = sizeRef.current
      if (v.scale < 4) {
        v.scale = 12
        v.ox = col - (w - LEFT) / v.scale / 2
        v.oy = row - (h - TOP) / v.scale / 2
        draw()
      }
      const rect = (canvasRef.current as HTMLCanvasElement).getBoundingClientRect()
      const cx = LEFT + (col - viewRef.current.ox + 0.5) * viewRef.current.scale
      const cy = TOP + (row - viewRef.current.oy + 0.5) * viewRef.current.scale
      if (cx < LEFT || cy < TOP || cx > w || cy > h) return undefined
      return { x: rect.left + cx, y: rect.top + cy }
    },
  })

  if (n === 0) return <p class="empty">No pod matches the filters.</p>
  if (tooBig)
    return (
      <p class="empty">
        {n} rows: more than {MAX_IMAGE}. Fold namespaces (click their names) or filter by namespace or label.
      </p>
    )
  return (
    <div class="heatmap-wrap" ref={wrapRef}>
      <canvas
        class="heatmap"
        ref={canvasRef}
        onWheel={(e) => {
          e.preventDefault()
          const { px, py } = pos(e)
          const v = viewRef.current
          const ux = v.ox + (px - LEFT) / v.scale
          const uy = v.oy + (py - TOP) / v.scale
          v.scale = Math.min(60, Math.max(0.05, v.scale * (e.deltaY < 0 ? 1.25 : 0.8)))
          v.ox = ux - (px - LEFT) / v.scale
          v.oy = uy - (py - TOP) / v.scale
          draw()
        }}
        onMouseDown={(e) => {
          const v = viewRef.current
          drag.current = { x: e.clientX, y: e.clientY, ox: v.ox, oy: v.oy, moved: false }
        }}
        onMouseMove={(e) => {
          const d = drag.current
          if (d) {
            const dx = e.clientX - d.x
            const dy = e.clientY - d.y
            if (Math.abs(dx) + Math.abs(dy) > 3) d.moved = true
            if (d.moved) {
              const v = viewRef.current
              v.ox = d.ox - dx / v.scale
              v.oy = d.oy - dy / v.scale
              draw()
              return
            }
          }
          const { px, py } = pos(e)
          const cell = cellAt(px, py)
          if (!cell) return setTip(undefined)
          const u = props.units[cell.row] as Unit
          const w = props.units[cell.col] as Unit
          const g = aggregate(props.grid, u, w, cell.row === cell.col)
          const what = props.diff
            ? g.added > 0 || g.removed > 0
              ? `${g.added} added, ${g.removed} removed`
              : 'unchanged'
            : g.total === 1
              ? g.allowed === 1
                ? 'allowed'
                : 'denied'
              : `${g.allowed} of ${g.total} pairs allowed`
          setTip({
            x: px + 14,
            y: py + 14,
            text: `${u.namespace}/${u.label} → ${w.namespace}/${w.label}: ${what}`,
          })
        }}
        onMouseLeave={() => {
          drag.current = undefined
          setTip(undefined)
        }}
        onMouseUp={(e) => {
          const d = drag.current
          drag.current = undefined
          if (d?.moved) return
          const { px, py } = pos(e)
          if (px < LEFT_NS + 0 && py >= TOP) {
            const v = viewRef.current
            const row = Math.floor(v.oy + (py - TOP) / v.scale)
            const u = props.units[row]
            if (u) props.onToggleNamespace(u.namespace)
            return
          }
          const cell = cellAt(px, py)
          if (cell) props.onCell(cell.row, cell.col)
        }}
      />
      <div class="heatmap-tools">
        <button
          type="button"
          onClick={() => {
            fitView()
            draw()
          }}
        >
          Fit
        </button>
        <span class="hint">wheel: zoom · drag: pan · click a cell: explain · click a namespace: fold</span>
      </div>
      {tip && (
        <div class="tip" style={{ left: `${tip.x}px`, top: `${tip.y}px` }}>
          {tip.text}
        </div>
      )}
    </div>
  )
}

const clip = (s: string, n: number): string => (s.length > n ? `${s.slice(0, Math.max(1, n - 1))}…` : s)
