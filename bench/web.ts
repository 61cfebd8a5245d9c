/**
 * Web page and diff benchmark (`npm run bench:web`): realistic generated clusters (1k pods / 100 policies,
 * 10k / 1k) rendered by `palisade report` and opened in headless Chromium (Debian's, through
 * playwright-core): time to first paint (first-contentful-paint) and to interactive (the page's
 * `palisade-interactive` mark: data parsed, engine indexed, matrix of the first port computed and
 * painted, handlers attached), the 10k cluster with a namespace filter. Also `diff` on the 1k cluster
 * against itself with a tenth of its policies removed. Median of a few runs; prints JSON lines.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { cpus, loadavg, tmpdir } from 'node:os'
import { join } from 'node:path'
import { chromium } from 'playwright-core'
import { stringify } from 'yaml'
import { diffClusters } from '../src/diff/index.js'
import { realisticManifests } from '../src/gen/realistic-cluster.js'
import { loadCluster } from '../src/load/index.js'
import type { JsonObject } from '../src/model/index.js'
import { readAssets } from '../src/web/assets.js'
import { renderReportPage } from '../src/web/html.js'
import { buildPageData } from '../src/web/page-data.js'

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
const RUNS = Number(process.env.RUNS ?? 3)

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] as number
}
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6

function inputOf(docs: readonly JsonObject[], file: string) {
  return { file, text: docs.map((d) => stringify(d)).join('---\n') }
}

async function main(): Promise<void> {
  const assets = readAssets()
  if (typeof assets === 'string') throw new Error(assets)
  const dir = mkdtempSync(join(tmpdir(), 'palisade-bench-web-'))
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: FLAGS })
  process.stdout.write(
    `${JSON.stringify({ machine: `${cpus().length} cores`, loadavg: loadavg().map((x) => Number(x.toFixed(1))) })}\n`,
  )
  try {
    for (const { pods, policies, query } of [
      { pods: 1000, policies: 100, query: '' },
      { pods: 10000, policies: 1000, query: '' },
      { pods: 10000, policies: 1000, query: '?ns=NS' },
    ]) {
      const docs = realisticManifests({ pods, policies, seed: 42 })
      const input = inputOf(docs, `cluster-${pods}.yaml`)
      let t0 = process.hrtime.bigint()
      const loaded = loadCluster([input], { validate: 'strict' })
      const data = buildPageData({
        title: `${pods} pods`,
        current: { label: input.file, loaded, inputs: [input] },
      })
      const html = renderReportPage(data, assets.script, assets.css)
      const buildMs = ms(t0)
      const file = join(dir, `report-${pods}.html`)
      writeFileSync(file, html)
      const ns = loaded.cluster.pods[0]?.namespace ?? ''
      const paint: number[] = []
      const interactive: number[] = []
      for (let run = 0; run < RUNS; run++) {
        const page = await browser.newPage({ viewport: { width: 1400, height: 900 } })
        t0 = process.hrtime.bigint()
        await page.goto(`file://${file}${query.replace('NS', ns)}`)
        await page.waitForFunction(
          () => (globalThis as unknown as { __palisade?: { ready: boolean } }).__palisade?.ready,
          null,
          {
            timeout: 120_000,
          },
        )
        const wall = ms(t0)
        const t = await page.evaluate(() => ({
          fcp: performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1,
          tti: performance.getEntriesByName('palisade-interactive')[0]?.startTime ?? -1,
        }))
        paint.push(t.fcp)
        interactive.push(Math.max(t.tti, 0) || wall)
        await page.close()
      }
      process.stdout.write(
        `${JSON.stringify({
          pods,
          policies,
          filter: query ? `ns=${ns}` : 'none',
          reportKiB: Math.round(Buffer.byteLength(html) / 1024),
          buildReportMs: Math.round(buildMs),
          firstPaintMs: Math.round(median(paint)),
          interactiveMs: Math.round(median(interactive)),
        })}\n`,
      )
    }
    // diff: the 1k cluster against itself without every tenth policy.
    const docs = realisticManifests({ pods: 1000, policies: 100, seed: 42 })
    let k = 0
    const fewer = docs.filter((d) => d.kind !== 'NetworkPolicy' || k++ % 10 !== 0)
    const a = loadCluster([inputOf(docs, 'old.yaml')], { validate: 'strict' }).cluster
    const b = loadCluster([inputOf(fewer, 'new.yaml')], { validate: 'strict' }).cluster
    const times: number[] = []
    let stats: ReturnType<typeof diffClusters>['stats'] | undefined
    let changes = 0
    for (let run = 0; run < RUNS; run++) {
      const t0 = process.hrtime.bigint()
      const d = diffClusters(a, b)
      times.push(ms(t0))
      stats = d.stats
      changes = d.connections.length
    }
    process.stdout.write(
      `${JSON.stringify({ diff: '1k/100 minus 10 policies', ms: Math.round(median(times)), connections: changes, ...stats })}\n`,
    )
  } finally {
    await browser.close()
    rmSync(dir, { recursive: true, force: true })
  }
}

await main()
