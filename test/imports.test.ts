/**
 * The import rules (.dependency-cruiser.mjs, docs/architecture.md#import-rules) hold on src/, bench/ and harness/,
 * and they catch what they are meant to: the same rules run on a planted tree must report each planted
 * import, and nothing that is allowed.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = resolve('.')
const DEPCRUISE = join(ROOT, 'node_modules', 'dependency-cruiser', 'bin', 'dependency-cruise.mjs')
const CONFIG = join(ROOT, '.dependency-cruiser.mjs')

interface Violation {
  readonly rule: string
  readonly severity: string
  readonly from: string
  readonly to: string
}

/** Runs dependency-cruiser with the project's rules in `cwd`; returns the violations (it exits 0 without errors). */
async function cruise(cwd: string, paths: readonly string[]): Promise<Violation[]> {
  const args = [DEPCRUISE, ...paths, '--config', CONFIG, '--output-type', 'json']
  const out = await run(process.execPath, args, { cwd, maxBuffer: 64 * 1024 * 1024 }).catch(
    (err: { stdout?: string }) => ({ stdout: err.stdout ?? '' }),
  )
  const result = JSON.parse(out.stdout) as {
    summary: {
      violations: { from: string; to: string; rule: { name: string; severity: string } }[]
    }
  }
  return result.summary.violations.map((v) => ({
    rule: v.rule.name,
    severity: v.rule.severity,
    from: v.from,
    to: v.to,
  }))
}

describe('import rules on the sources', () => {
  it('src/, bench/ and harness/ have no import cycle and break no import rule (not even a warning)', async () => {
    expect(await cruise(ROOT, ['src', 'bench', 'harness'])).toEqual([])
  })
})

/** A tree with one planted violation per rule, and allowed imports that must stay unreported. */
const PLANTED: Record<string, string> = {
  // allowed: the core asks semantics, uses node:module and a core library; the agent asks the registry
  'src/semantics/peers.ts': 'export const peer = 1\n',
  'src/engine/evaluate.ts': "import { peer } from '../semantics/peers.js'\nexport const e = peer\n",
  'src/load/parse.ts': "import { createRequire } from 'node:module'\nexport const r = createRequire\n",
  'src/backends/backend.ts': 'export interface Backend { readonly name: string }\n',
  'src/backends/index.ts':
    "import type { Backend } from './backend.js'\nimport { nft } from './nftables/index.js'\nexport const all: Backend[] = [nft]\n",
  'src/backends/nftables/index.ts':
    "import { render } from './render.js'\nexport const nft = { name: render }\n",
  'src/backends/nftables/render.ts': "export const render = 'nftables'\n",
  'src/backends/nftables/apply.ts':
    "import { execFile } from 'node:child_process'\nimport { render } from './render.js'\nexport const a = [execFile, render]\n",
  'src/agent/applier.ts': "import { all } from '../backends/index.js'\nexport const b = all\n",
  // planted: the core does I/O
  'src/engine/matrix.ts': "import { readFileSync } from 'node:fs'\nexport const m = readFileSync\n",
  // planted: the core imports an edge (cli) and a backend's apply
  'src/lint/semantic.ts':
    "import { main } from '../cli/main.js'\nimport { a } from '../backends/nftables/apply.js'\nexport const l = [main, a]\n",
  'src/cli/main.ts': 'export const main = 1\n',
  // planted: engine and compile import each other (which is also a cycle)
  'src/engine/classes.ts': "import { ir } from '../compile/ir.js'\nexport const c = ir\n",
  'src/compile/ir.ts':
    "import { c } from '../engine/classes.js'\nexport const ir = 1\nexport const back = c\n",
  // planted: the agent imports a concrete backend
  'src/agent/compiler.ts':
    "import { render } from '../backends/nftables/render.js'\nexport const r = render\n",
  // planted: a cycle of types inside one folder
  'src/model/a.ts': "import type { B } from './b.js'\nexport interface A { readonly b?: B }\n",
  'src/model/b.ts': "import type { A } from './a.js'\nexport interface B { readonly a?: A }\n",
  // planted: semantics asks the engine (a layer above it); model imports a folder
  'src/semantics/ports.ts': "import { e } from '../engine/evaluate.js'\nexport const p = e\n",
  'src/model/c.ts': "import { peer } from '../semantics/peers.js'\nexport const c = peer\n",
  // planted: an import that resolves nowhere
  'src/diff/render.ts': "import { gone } from './gone.js'\nexport const d = gone\n",
  // allowed: a benchmark uses the shared test double in harness/
  'harness/fake.ts': 'export const f = 1\n',
  'bench/ok.ts': "import { f } from '../harness/fake.js'\nexport const o = f\n",
  // planted: a benchmark borrows from test/; the product imports a test double
  'test/agent/t.ts': 'export const t = 1\n',
  'bench/agent.ts': "import { t } from '../test/agent/t.js'\nexport const b = t\n",
  'src/agent/double.ts': "import { f } from '../../harness/fake.js'\nexport const d = f\n",
  'tsconfig.json': JSON.stringify({
    compilerOptions: { module: 'NodeNext', moduleResolution: 'NodeNext', strict: true },
    include: ['src', 'bench', 'harness', 'test'],
  }),
}

describe('import rules on a planted tree', () => {
  let dir = ''
  let found: Violation[] = []
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pz-imports-'))
    for (const [file, text] of Object.entries(PLANTED)) {
      await mkdir(dirname(join(dir, file)), { recursive: true })
      await writeFile(join(dir, file), text)
    }
    await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
    found = await cruise(dir, ['src', 'bench', 'harness'])
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  const expected: readonly (readonly [rule: string, from: string, to: string])[] = [
    ['pure-no-io', 'src/engine/matrix.ts', 'fs'],
    ['pure-imports-pure', 'src/lint/semantic.ts', 'src/cli/main.ts'],
    ['pure-imports-pure', 'src/lint/semantic.ts', 'src/backends/nftables/apply.ts'],
    ['engine-not-compile', 'src/engine/classes.ts', 'src/compile/ir.ts'],
    ['compile-not-engine', 'src/compile/ir.ts', 'src/engine/classes.ts'],
    // a cycle is reported once, at the import that closes it in the cruise's order
    ['no-circular', 'src/compile/ir.ts', 'src/engine/classes.ts'],
    ['no-circular', 'src/model/a.ts', 'src/model/b.ts'],
    ['no-concrete-backend', 'src/agent/compiler.ts', 'src/backends/nftables/render.ts'],
    ['no-concrete-backend', 'src/lint/semantic.ts', 'src/backends/nftables/apply.ts'],
    ['semantics-on-model', 'src/semantics/ports.ts', 'src/engine/evaluate.ts'],
    ['model-alone', 'src/model/c.ts', 'src/semantics/peers.ts'],
    ['not-to-unresolvable', 'src/diff/render.ts', './gone.js'],
    ['bench-not-test', 'bench/agent.ts', 'test/agent/t.ts'],
    ['product-not-harness', 'src/agent/double.ts', 'harness/fake.ts'],
  ]

  it.each(expected)('%s: %s -> %s is reported', (rule, from, to) => {
    expect(found).toContainEqual({ rule, severity: 'error', from, to })
  })

  it('reports nothing else (the allowed imports pass)', () => {
    const key = (v: { rule: string; from: string; to: string }) => `${v.rule} ${v.from} -> ${v.to}`
    expect(found.map(key).sort()).toEqual(expected.map(([rule, from, to]) => key({ rule, from, to })).sort())
  })
})
