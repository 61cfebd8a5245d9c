/** `palisade report` writes one self-contained file; `palisade serve` (the built CLI, a real process) reloads on change. */
import { type ChildProcess, spawn } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { readAssets } from '../../src/web/assets.js'
import { runCli } from '../cli/run.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const ex = (p: string) => join(root, 'examples', p)
const built = existsSync(join(root, 'dist', 'src', 'cli', 'main.js')) && typeof readAssets() !== 'string'

describe.skipIf(!built)('palisade report', () => {
  let dir: string
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-report-'))
  })
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('writes one HTML file with the page, its data and a policy that forbids every request', async () => {
    const out = join(dir, 'report.html')
    const r = await runCli(['report', ex('seed-001-testing'), '-o', out, '--title', 'Seed 001'])
    expect(r.code, r.stderr).toBe(0)
    const html = readFileSync(out, 'utf8')
    expect(html).toContain('<meta http-equiv="Content-Security-Policy" content="default-src \'none\';')
    expect(html).toContain('<title>Seed 001</title>')
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/)
    const data = JSON.parse(
      /<script type="application\/json" id="palisade-data">(.*?)<\/script>/s.exec(html)?.[1] ?? '',
    )
    expect(data.current.cluster.pods).toHaveLength(4)
    expect(data.lint.length).toBeGreaterThan(0)
  })

  it('with --base it carries the base and the diff', async () => {
    const kr = (p: string) => ex(`seed-002-kube-router/${p}`)
    const r = await runCli([
      'report',
      kr('cluster.yaml'),
      kr('case-2-nsa-deny'),
      '--base',
      kr('cluster.yaml'),
      '--base',
      kr('case-1-nsa-internal'),
      '-o',
      '-',
    ])
    expect(r.code, r.stderr).toBe(0)
    const data = JSON.parse(/id="palisade-data">(.*?)<\/script>/s.exec(r.stdout)?.[1] ?? '')
    expect(data.diff.changed).toBe(true)
    expect(data.diff.connections.map((c: { from: string; to: string }) => `${c.from} -> ${c.to}`)).toEqual([
      'nsa/redis -> nsa/web',
      'nsa/web -> nsa/redis',
    ])
  })

  it.each([
    { name: 'no input', args: ['report'] },
    { name: 'a bad port', args: ['report', ex('seed-001-testing'), '--ports', 'x'] },
    {
      name: 'two bases',
      args: ['report', ex('seed-001-testing'), '--base', ex('seed-001-testing'), '--git', 'HEAD:examples'],
    },
    { name: 'a missing input', args: ['report', join(root, 'no-such-dir'), '-o', '-'] },
  ])('$name exits 2', async ({ args }) => {
    expect((await runCli(args)).code).toBe(2)
  })
})

describe.skipIf(!built)('palisade serve (process)', () => {
  let dir: string
  let child: ChildProcess | undefined
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'palisade-serve-'))
    mkdirSync(join(dir, 'deploy'))
    for (const f of ['cluster.yaml', 'policies.yaml'])
      copyFileSync(ex(`seed-001-testing/${f}`), join(dir, 'deploy', f))
  })
  afterAll(() => {
    if (child?.pid && child.exitCode === null) child.kill('SIGTERM')
    rmSync(dir, { recursive: true, force: true })
  })

  it('binds to localhost, serves the page, and reloads when a file changes', async () => {
    child = spawn(
      process.execPath,
      [
        join(root, 'bin', 'palisade.js'),
        'serve',
        join(dir, 'deploy'),
        '--addr',
        '127.0.0.1:0',
        '--interval',
        '200',
      ],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const url = await new Promise<string>((resolve, reject) => {
      let out = ''
      child?.stdout?.on('data', (d: Buffer) => {
        out += d.toString()
        const m = /(http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)
        if (m) resolve(m[1] as string)
      })
      child?.on('exit', (code) => reject(new Error(`serve exited ${code}`)))
      setTimeout(() => reject(new Error('serve did not start')), 20_000)
    })
    const get = async (path: string) => (await fetch(new URL(path, url))).json()
    const first = await get('/api/status')
    expect((await get('/api/data')).current.cluster.pods).toHaveLength(4)
    // A new pod appears in the folder: the page data follows.
    writeFileSync(
      join(dir, 'deploy', 'extra.yaml'),
      'apiVersion: v1\nkind: Pod\nmetadata: {name: extra, namespace: default, labels: {run: extra}}\nspec: {containers: [{name: c, image: x}]}\n',
    )
    const deadline = Date.now() + 15_000
    let generation = first.generation
    while (generation === first.generation && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 150))
      generation = (await get('/api/status')).generation
    }
    expect(generation).toBeGreaterThan(first.generation)
    expect((await get('/api/data')).current.cluster.pods).toHaveLength(5)
    child.kill('SIGTERM')
    const code = await new Promise<number | null>((resolve) => child?.on('exit', (c) => resolve(c)))
    expect(code).toBe(0)
  }, 40_000)
})

describe.skipIf(!built)('palisade report --no-lint', () => {
  it('lists only load and validation findings', async () => {
    const r = await runCli(['report', ex('seed-001-typos'), '--validate', 'warn', '--no-lint', '-o', '-'])
    expect(r.code, r.stderr).toBe(0)
    const data = JSON.parse(/id="palisade-data">(.*?)<\/script>/s.exec(r.stdout)?.[1] ?? '')
    const codes: string[] = data.lint.map((l: { code: string }) => l.code)
    expect(codes.length).toBeGreaterThan(0)
    expect(codes.filter((c) => c.startsWith('lint.'))).toEqual([])
    const full = await runCli(['report', ex('seed-001-typos'), '--validate', 'warn', '-o', '-'])
    const all = JSON.parse(/id="palisade-data">(.*?)<\/script>/s.exec(full.stdout)?.[1] ?? '')
    expect(all.lint.some((l: { code: string }) => l.code.startsWith('lint.'))).toBe(true)
  })
})
