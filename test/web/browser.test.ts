/// <reference lib="dom" />
/**
 * The page in a real browser: headless Chromium (Debian's, installed by scripts/setup-system.sh) driven
 * by playwright-core. The page loads the seed examples, paints the engine's verdicts in the right
 * colours, a click explains the right pair, the diff view marks the right edges, and the report opens
 * offline. Screenshots of every example are kept in test-artifacts/screenshots.
 */
import { execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type Browser, chromium, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { loadSide, type SideSpec } from '../../src/cli/sides.js'
import { diffClusters } from '../../src/diff/index.js'
import {
  buildIndex,
  computeMatrix,
  matrixPods,
  type PortQuery,
  parsePortSpec,
} from '../../src/engine/index.js'
import { podKey } from '../../src/model/index.js'
import { readAssets } from '../../src/web/assets.js'
import { renderReportPage } from '../../src/web/html.js'
import { buildPageData, type PageData } from '../../src/web/page-data.js'
import { WebServer } from '../../src/web/server.js'

/** The page's automation hook (web/src/main.tsx). */
declare global {
  interface Window {
    __palisade?: {
      ready: boolean
      cellCenter(from: string, to: string): { x: number; y: number } | undefined
      cy?: import('cytoscape').Core
    }
  }
}

const CHROMIUM = '/usr/bin/chromium'
const root = new URL('../../', import.meta.url).pathname
const ex = (p: string) => join(root, 'examples', p)
const ARTIFACTS = join(root, 'test-artifacts', 'screenshots')
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
]
const skip = existsSync(CHROMIUM) ? false : `no ${CHROMIUM}: run scripts/setup-system.sh (Debian's chromium)`

async function pageData(current: SideSpec, base?: SideSpec): Promise<PageData> {
  const c = await loadSide(current, 'strict')
  const b = base ? await loadSide(base, 'strict') : undefined
  return buildPageData({
    title: 'test',
    current: { label: c.label, loaded: c, inputs: c.inputs },
    ...(b ? { base: { label: b.label, loaded: b, inputs: b.inputs } } : {}),
  })
}

/** Reads the colour the heat map painted at the centre of a cell (after a real layout and draw). */
async function cellColour(page: Page, from: string, to: string): Promise<[number, number, number]> {
  const at = await page.evaluate(
    ([f, t]) => window.__palisade?.cellCenter(f as string, t as string),
    [from, to],
  )
  if (!at) throw new Error(`cell ${from} -> ${to} is not on the page`)
  return page.evaluate(
    ([x, y]) => {
      const canvas = document.querySelector('canvas.heatmap') as HTMLCanvasElement
      const rect = canvas.getBoundingClientRect()
      const dpr = window.devicePixelRatio || 1
      const px = (canvas.getContext('2d') as CanvasRenderingContext2D).getImageData(
        Math.round(((x as number) - rect.left) * dpr),
        Math.round(((y as number) - rect.top) * dpr),
        1,
        1,
      ).data
      return [px[0], px[1], px[2]] as [number, number, number]
    },
    [at.x, at.y],
  )
}

const near = (a: readonly number[], b: readonly number[]) =>
  a.every((v, i) => Math.abs(v - (b[i] as number)) <= 6)
const ALLOWED = [46, 158, 92]
const DENIED = [200, 64, 64]
const REMOVED = [236, 40, 40]

describe.skipIf(skip)('the page in headless Chromium', () => {
  let browser: Browser
  const server = new WebServer({ host: '127.0.0.1', port: 0, title: 'test', assets: { script: '', css: '' } })
  let served: WebServer | undefined

  beforeAll(async () => {
    // The bundle npm ci built; rebuilt here so that the test sees the sources it runs with.
    execFileSync('node', [join(root, 'scripts', 'build-web.mjs')], { stdio: 'pipe' })
    mkdirSync(ARTIFACTS, { recursive: true })
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS, timeout: 30_000 })
    void server
  }, 60_000)
  afterAll(async () => {
    await served?.stop()
    await browser?.close()
  })

  async function serve(data: PageData): Promise<string> {
    await served?.stop()
    const assets = readAssets()
    if (typeof assets === 'string') throw new Error(assets)
    served = new WebServer({ host: '127.0.0.1', port: 0, title: data.title, assets })
    await served.start()
    served.update({ data })
    return served.url
  }

  async function open(url: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
    const errors: string[] = []
    page.on('pageerror', (e) => errors.push(String(e)))
    await page.goto(url)
    await page.waitForFunction(() => window.__palisade?.ready === true, null, { timeout: 20_000 })
    expect(errors).toEqual([])
    return page
  }

  it('seed 001 (served): every cell has the colour of the engine verdict, on two ports', async () => {
    const data = await pageData({ kind: 'paths', paths: [ex('seed-001-testing')] })
    const url = await serve(data)
    const index = buildIndex(data.current.cluster)
    const pods = matrixPods(index)
    for (const portText of ['80/TCP', '81/TCP']) {
      const page = await open(`${url}?port=${portText}`)
      const m = computeMatrix(index, [parsePortSpec(portText) as PortQuery], pods)
      const n = pods.length
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) {
          const from = podKey(pods[i] as (typeof pods)[number])
          const to = podKey(pods[j] as (typeof pods)[number])
          const want = (m.cells[0] as Uint8Array)[i * n + j] === 1 ? ALLOWED : DENIED
          const got = await cellColour(page, from, to)
          expect(near(got, want), `${from} -> ${to} on ${portText}: ${got} vs ${want}`).toBe(true)
        }
      }
      await page.close()
    }
    // The README's verdict: default/debug -> testing/nginx on 81/TCP is denied.
    const page = await open(`${url}?port=81/TCP`)
    expect(near(await cellColour(page, 'default/debug', 'testing/nginx'), DENIED)).toBe(true)
    await page.close()
  })

  it('a click on a cell shows its explanation, both directions, with file:line and the YAML', async () => {
    const url = await serve(await pageData({ kind: 'paths', paths: [ex('seed-001-testing')] }))
    const page = await open(`${url}?port=81/TCP`)
    const at = await page.evaluate(() => window.__palisade?.cellCenter('default/debug', 'testing/nginx'))
    if (!at) throw new Error('cell not shown')
    await page.mouse.click(at.x, at.y)
    const panel = page.locator('aside.explain')
    await panel.waitFor()
    const text = (await panel.textContent()) ?? ''
    expect(text).toContain('default/debug → testing/nginx on 81/TCP: DENIED')
    expect(text).toMatch(/isolated by testing\/nginx-policy, testing\/testing-default/)
    expect(text).toContain('testing/nginx-policy (')
    expect(text).toContain('policies.yaml:46)')
    expect(text).toContain('testing/nginx → default/debug on 81/TCP: ALLOWED')
    // The rule that admits the way back is marked in its YAML.
    expect(await panel.locator('pre.yaml div.mark').first().textContent()).toContain('{}')
    await page.screenshot({ path: join(ARTIFACTS, 'seed-001-explain.png') })
    await page.close()
  })

  it('the diff view marks the removed edges red, exactly the diff of the engine', async () => {
    const kr = (p: string) => ex(`seed-002-kube-router/${p}`)
    const base: SideSpec = { kind: 'paths', paths: [kr('cluster.yaml'), kr('case-1-nsa-internal')] }
    const current: SideSpec = {
      kind: 'paths',
      paths: [kr('cluster.yaml'), kr('case-2-nsa-deny'), kr('case-5-ingress-cidr')],
    }
    const data = await pageData(current, base)
    const url = await serve(data)
    const page = await open(`${url}?tab=diff&port=6379/TCP`)
    // Heat map: removed cells red.
    expect(near(await cellColour(page, 'nsa/web', 'nsa/redis'), REMOVED)).toBe(true)
    expect(near(await cellColour(page, 'nsb/client', 'default/web'), REMOVED)).toBe(true)
    // Graph: its edges are the engine's diff on that port.
    await page.getByRole('button', { name: 'graph', exact: true }).click()
    await page.waitForFunction(() => (window.__palisade?.cy?.edges().length ?? 0) > 0)
    const edges = await page.evaluate(() =>
      (window.__palisade?.cy?.edges() ?? [])
        .map((e) => `${e.data('kind')} ${e.data('source')} -> ${e.data('target')}`)
        .sort(),
    )
    const q = parsePortSpec('6379/TCP') as PortQuery
    const d = diffClusters(data.base?.cluster as PageData['current']['cluster'], data.current.cluster, {
      ports: [q],
    })
    expect(edges).toEqual(d.connections.map((c) => `${c.change} ${c.from} -> ${c.to}`).sort())
    expect(edges.length).toBeGreaterThan(0)
    const colours = await page.evaluate(() =>
      (window.__palisade?.cy?.edges('.removed') ?? []).map((e) => e.style('line-color')),
    )
    expect(new Set(colours)).toEqual(new Set(['rgb(236,40,40)']))
    await page.screenshot({ path: join(ARTIFACTS, 'seed-002-diff-graph.png') })
    await page.close()
  })

  it('the report of every example opens offline (no request) and is screenshotted', async () => {
    const assets = readAssets()
    if (typeof assets === 'string') throw new Error(assets)
    for (const name of readdirSync(join(root, 'examples')).sort()) {
      const data = await pageData({ kind: 'paths', paths: [ex(name)] })
      const file = join(tmpdir(), `palisade-report-${process.pid}-${name}.html`)
      writeFileSync(file, renderReportPage(data, assets.script, assets.css))
      const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
      const requests: string[] = []
      page.on('request', (r) => {
        if (r.url() !== `file://${file}`) requests.push(r.url())
      })
      await page.goto(`file://${file}`)
      await page.waitForFunction(() => window.__palisade?.ready === true, null, { timeout: 20_000 })
      expect(requests, name).toEqual([])
      // A folder of policies alone (no pod) opens on its lint findings.
      if (data.current.cluster.pods.length > 0)
        expect(await page.locator('canvas.heatmap').count(), name).toBe(1)
      else expect(await page.locator('table.lint tr').count(), name).toBeGreaterThan(1)
      await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
      await page.close()
    }
  })
})
