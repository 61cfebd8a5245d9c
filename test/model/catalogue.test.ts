/**
 * The catalogue of codes (src/model/catalogue.ts) is the only list of codes: every code the sources name
 * is in it, every entry is used, docs/diagnostics.md is generated from it and `palisade lint --list-checks`
 * prints its lint part.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { LINT_RULES } from '../../src/lint/index.js'
import { renderDiagnosticsDoc } from '../../src/model/catalogue-doc.js'
import {
  CATALOGUE,
  type CatalogueCode,
  CODE_AREAS,
  DIAGNOSTICS_DOC,
  type Diagnostic,
  describeCode,
  isCatalogueCode,
  listCodes,
} from '../../src/model/index.js'
import { runCli } from '../cli/run.js'
import { expectGolden } from '../golden.js'

// Checked by `npm run typecheck`: an unused @ts-expect-error fails it.
const free: Diagnostic = {
  // @ts-expect-error a code that is not in the catalogue does not compile
  code: 'lint.made-up',
  severity: 'warning',
  message: 'x',
  path: [],
}
const diffAsDiagnostic: Diagnostic = {
  // @ts-expect-error a finding of `palisade diff` is not a diagnostic code
  code: 'diff.connection-added',
  severity: 'info',
  message: 'x',
  path: [],
}

const CATALOGUE_FILE = join('src', 'model', 'catalogue.ts')

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  )
}

/** String literals of the form 'area.kebab-case' for an area of the catalogue, per file. */
function codeLiterals(): Map<string, string[]> {
  const areas = Object.keys(CODE_AREAS).join('|')
  const pattern = new RegExp(`['"\`]((?:${areas})\\.[a-z][a-z0-9-]*)['"\`]`, 'g')
  const found = new Map<string, string[]>()
  for (const file of sourceFiles('src')) {
    if (file === CATALOGUE_FILE) continue
    for (const m of readFileSync(file, 'utf8').matchAll(pattern)) {
      const code = m[1] as string
      found.set(code, [...(found.get(code) ?? []), file])
    }
  }
  return found
}

/** Literals that look like codes and are not: file names. */
const NOT_CODES = new Set(['agent.mjs'])

describe('the catalogue of codes', () => {
  it('rejects free strings at compile time', () => {
    // The two declarations above carry @ts-expect-error: if the catalogue stopped typing Diagnostic.code,
    // `npm run typecheck` would fail on an unused directive. At run time they are plain objects.
    expect([free.code, diffAsDiagnostic.code]).toEqual(['lint.made-up', 'diff.connection-added'])
  })

  it('holds every code the sources name', () => {
    const unknown = [...codeLiterals()]
      .filter(([code]) => !NOT_CODES.has(code) && !isCatalogueCode(code))
      .map(([code, files]) => `${code} (${files.join(', ')})`)
    expect(unknown).toEqual([])
  })

  it('has no entry that no source reports', () => {
    const used = codeLiterals()
    const unused = listCodes()
      .map((c) => c.code)
      .filter((code) => !used.has(code))
    expect(unused).toEqual([])
  })

  it('names every code area.kebab-case, with a known area and one line of documentation', () => {
    const codes = listCodes()
    expect(codes.length).toBeGreaterThan(60)
    for (const c of codes) {
      expect(c.code).toMatch(/^[a-z]+\.[a-z]+(-[a-z]+)*$/)
      expect(Object.keys(CODE_AREAS)).toContain(c.area)
      expect(c.doc).not.toContain('\n')
      expect(c.doc.length, c.code).toBeGreaterThan(20)
      expect(c.doc, c.code).toMatch(/[.)]$/)
      expect(c.anchor).toBe(c.code.replace('.', '-'))
    }
    expect(new Set(codes.map((c) => c.anchor)).size).toBe(codes.length)
  })

  it('lists the codes of an area together, sorted, in the order of the areas', () => {
    const codes = Object.keys(CATALOGUE) as CatalogueCode[]
    const areas = Object.keys(CODE_AREAS)
    const key = (c: CatalogueCode) => [areas.indexOf(describeCode(c).area), c] as const
    const sorted = [...codes].sort((a, b) => {
      const [x, y] = [key(a), key(b)]
      return x[0] - y[0] || (x[1] < y[1] ? -1 : x[1] > y[1] ? 1 : 0)
    })
    expect(codes).toEqual(sorted)
  })

  it('gives the lint checks their ids from the catalogue', () => {
    expect(LINT_RULES.map((r) => r.id)).toEqual(
      listCodes()
        .filter((c) => c.area === 'lint')
        .map((c) => c.code),
    )
  })
})

describe(DIAGNOSTICS_DOC, () => {
  it('is the one generated from the catalogue (run `npm run docs:diagnostics` after changing it)', () => {
    expect(readFileSync(DIAGNOSTICS_DOC, 'utf8')).toBe(renderDiagnosticsDoc())
  })

  it('has an anchor for every code', () => {
    const text = readFileSync(DIAGNOSTICS_DOC, 'utf8')
    for (const c of listCodes()) expect(text).toContain(`<a id="${c.anchor}"></a>\`${c.code}\``)
  })
})

describe('palisade lint --list-checks', () => {
  it('prints every lint check with its default severity and doc line (golden)', async () => {
    const r = await runCli(['lint', '--list-checks'])
    expect(r.code).toBe(0)
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(LINT_RULES.length)
    await expectGolden('lint/list-checks.txt', r.stdout)
  })

  it('prints them as JSON with -o json', async () => {
    const r = await runCli(['lint', '--list-checks', '-o', 'json'])
    expect(r.code).toBe(0)
    const { checks } = JSON.parse(r.stdout) as {
      checks: { id: string; severity: string; doc: string; docs: string }[]
    }
    expect(checks.map((c) => c.id)).toEqual(LINT_RULES.map((r) => r.id))
    expect(checks.find((c) => c.id === 'lint.port-protocol-defaulted')).toEqual({
      id: 'lint.port-protocol-defaulted',
      severity: 'info',
      doc: CATALOGUE['lint.port-protocol-defaulted'].doc,
      docs: 'docs/diagnostics.md#lint-port-protocol-defaulted',
    })
  })

  it('refuses sarif (a list of checks is not a result)', async () => {
    const r = await runCli(['lint', '--list-checks', '-o', 'sarif'])
    expect(r.code).toBe(2)
    expect(r.stderr).toContain('--list-checks prints text or json')
  })
})
