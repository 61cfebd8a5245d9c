/**
 * `compile --all-nodes --jobs N` (src/cli/compile-all.ts): worker threads change nothing but the time.
 * The built CLI (worker threads run dist/, so this needs `npm run build`) is run with --jobs 1, 2 and 3 on
 * a small Antrea-shape cluster with a load error and a compile warning: every file, stdout, stderr and
 * the exit code must be the same. The worker
 * itself is checked against compileNode of the sources, so a worker that silently fell back to the main
 * thread cannot pass for one that works.
 */
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { compileNode, execCommand } from '../../src/backends/index.js'
import type { CompileWorkerInput, CompileWorkerMessage } from '../../src/cli/compile-all.js'
import { shareOf, writableNodes } from '../../src/cli/compile-all.js'
import { nodesOf } from '../../src/compile/index.js'
import { antreaShapeManifests } from '../../src/gen/antrea-shape.js'
import { loadCluster } from '../../src/load/index.js'

const BIN = new URL('../../bin/palisade.js', import.meta.url).pathname
const WORKER = new URL('../../dist/src/cli/compile-worker.js', import.meta.url)
const built = existsSync(WORKER)

/**
 * The small cluster: 40 namespaces, 120 pods on 7 nodes; one pod on a node name the API server refuses
 * (a load error, printed once), one on the last node outside its range (a compile warning on that node).
 */
function clusterText(): string {
  const docs = [...antreaShapeManifests({ namespaces: 40, pods: 120, nodes: 7 })]
  let moved = 0
  for (const d of docs) {
    const spec = d.spec as { nodeName?: string } | undefined
    if (d.kind !== 'Pod' || !spec?.nodeName) continue
    if (moved === 0) spec.nodeName = 'Bad_Node'
    else if (moved === 1) {
      // on the last node: compiled by a worker with --jobs 2 and 3
      spec.nodeName = 'node-6'
      Object.assign(d.status as object, { podIP: '192.0.2.9', podIPs: [{ ip: '192.0.2.9' }] })
    }
    moved++
    if (moved === 2) break
  }
  return docs.map((d) => `---\n${stringify(d)}`).join('')
}

/** Every file under dir, relative path -> content. */
async function tree(dir: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const node of (await readdir(dir)).sort())
    for (const f of (await readdir(join(dir, node))).sort())
      out[`${node}/${f}`] = await readFile(join(dir, node, f), 'utf8')
  return out
}

describe.skipIf(!built)('compile --all-nodes --jobs N (needs npm run build)', () => {
  let dir = ''
  let input = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pz-jobs-'))
    input = join(dir, 'cluster.yaml')
    await writeFile(input, clusterText())
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it.each(['nftables', 'iptables'])(
    '%s: --jobs 2 and 3 write, print and exit as --jobs 1',
    async (backend) => {
      const runs = []
      for (const jobs of ['1', '2', '3']) {
        const out = join(dir, `${backend}-${jobs}`)
        const r = await execCommand(
          process.execPath,
          [BIN, 'compile', input, '--backend', backend, '--all-nodes', out, '--jobs', jobs],
          { timeoutMs: 120_000 },
        )
        runs.push({
          code: r.code,
          stdout: r.stdout,
          stderr: r.stderr.replaceAll(out, 'OUT'),
          files: await tree(out),
        })
      }
      const [one, ...others] = runs
      expect(one?.code).toBe(0)
      expect(one?.stderr).toContain('"Bad_Node"') // the loader's error, printed once
      expect(one?.stderr).toContain('outside the pod ranges')
      expect(one?.stderr).not.toContain('worker')
      expect(Object.keys(one?.files ?? {}).length).toBeGreaterThanOrEqual(7)
      for (const r of others) expect(r).toEqual(one)
    },
  )

  it('a worker posts, for its run of nodes, what compileNode makes of the same inputs', async () => {
    const text = clusterText()
    const inputs = [{ file: 'cluster.yaml', text }]
    const data: CompileWorkerInput = {
      inputs,
      mode: 'strict',
      maxBytes: 2 ** 27,
      backend: 'nftables',
      copts: {},
      share: 1,
      jobs: 2,
    }
    const got: CompileWorkerMessage[] = []
    const worker = new Worker(WORKER, { workerData: data })
    try {
      await new Promise<void>((resolve, reject) => {
        worker.on('message', (m: CompileWorkerMessage) => got.push(m))
        worker.on('error', reject)
        worker.on('exit', () => resolve())
      })
    } finally {
      await worker.terminate()
    }
    const { cluster } = loadCluster(inputs, { validate: 'strict' })
    const nodes = shareOf(writableNodes(nodesOf(cluster)), 1, 2)
    expect(nodes.length).toBeGreaterThan(0)
    expect(got.map((m) => m.node)).toEqual(nodes)
    expect(got.some((m) => 'diagnostics' in m && m.diagnostics.length > 0)).toBe(true)
    for (const m of got) {
      const want = compileNode(cluster, m.node, 'nftables')
      expect(m).toEqual({
        node: m.node,
        backend: 'nftables',
        stats: want.value.stats,
        files: want.value.files,
        diagnostics: want.diagnostics,
      })
    }
  })
})

describe('shareOf', () => {
  it.each([
    { n: 7, jobs: 2, sizes: [3, 4] },
    { n: 7, jobs: 3, sizes: [2, 2, 3] },
    { n: 2, jobs: 3, sizes: [0, 1, 1] },
    { n: 0, jobs: 2, sizes: [0, 0] },
  ])('$n nodes in $jobs runs: $sizes, in order, each once', ({ n, jobs, sizes }) => {
    const items = Array.from({ length: n }, (_, i) => i)
    const runs = Array.from({ length: jobs }, (_, k) => shareOf(items, k, jobs))
    expect(runs.map((r) => r.length)).toEqual(sizes)
    expect(runs.flat()).toEqual(items)
  })
})
