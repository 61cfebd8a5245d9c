/**
 * Docs are cited by named anchor, never by a number that moves (docs/semantics.md says so at the top):
 * every `semantics.md#name` (and `diagnostics.md#...`, `architecture.md#...`, and `(#name)` inside a
 * doc) in src/, test/, bench/, docs/, README.md and deploy/README.md must name an anchor that exists,
 * and a bare "rule N" citation must not come back.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join } from 'node:path'
import { describe, expect, it } from 'vitest'

const DOCS = 'docs'
const ROOTS = ['src', 'test', 'bench', 'docs', 'README.md', 'deploy/README.md']
const SKIP_DIRS = new Set(['golden', 'node_modules', 'img'])
const THIS_FILE = join('test', 'docs', 'anchors.test.ts')

function files(path: string): string[] {
  const entries = (() => {
    try {
      return readdirSync(path, { withFileTypes: true })
    } catch {
      return undefined // a file
    }
  })()
  if (!entries) return /\.(ts|tsx|mjs|md)$/.test(path) ? [path] : []
  return entries.flatMap((e) => (SKIP_DIRS.has(e.name) ? [] : files(join(path, e.name))))
}

/** GitHub's anchor for a heading: lower case, tags and punctuation dropped, spaces to dashes. */
function headingSlug(heading: string): string {
  return heading
    .replace(/<[^>]*>/g, '')
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-')
}

/** The anchors of a markdown text: explicit `<a id="...">` and heading slugs. */
function anchorsOf(markdown: string): Set<string> {
  const out = new Set<string>()
  for (const m of markdown.matchAll(/<a id="([^"]+)"><\/a>/g)) out.add(m[1] as string)
  for (const m of markdown.matchAll(/^#{1,6} (.+)$/gm)) out.add(headingSlug(m[1] as string))
  return out
}

interface Problem {
  readonly file: string
  readonly line: number
  readonly text: string
}

/** "rule 19", "rules 1-11", "semantics.md 23", "semantics.md, rule 5"; a list index `// rule 0:` is fine. */
const BARE_RULE = /\b(?:rules?|semantics\.md,?)\s+\d+/i
const LIST_INDEX = /\/\/ rule \d+:/

/** Finds citations of docs/<name>.md#anchor whose anchor does not exist, and bare "rule N" citations. */
function findBadCitations(
  file: string,
  text: string,
  anchors: ReadonlyMap<string, ReadonlySet<string>>,
): Problem[] {
  const out: Problem[] = []
  const own = file.startsWith(`${DOCS}/`) ? basename(file) : undefined
  text.split('\n').forEach((line, i) => {
    const at = { file, line: i + 1 }
    for (const m of line.matchAll(/([a-z][a-z0-9-]*\.md)#([A-Za-z0-9_.-]*[A-Za-z0-9_-])/g)) {
      const known = anchors.get(m[1] as string)
      if (known && !known.has(m[2] as string)) out.push({ ...at, text: m[0] })
    }
    if (own) {
      for (const m of line.matchAll(/\]\(#([^)]+)\)/g)) {
        if (!anchors.get(own)?.has(m[1] as string)) out.push({ ...at, text: `${own}#${m[1]}` })
      }
    }
    const bare = BARE_RULE.exec(line)
    if (bare && !LIST_INDEX.test(line)) out.push({ ...at, text: bare[0] })
  })
  return out
}

function docAnchors(): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>()
  for (const f of readdirSync(DOCS)) {
    if (f.endsWith('.md')) map.set(f, anchorsOf(readFileSync(join(DOCS, f), 'utf8')))
  }
  return map
}

/**
 * Repository paths a doc names (`src/...`, `test/...`, `docs/...`...), without placeholders (`<name>`)
 * or globs, cut at the first character a path does not have.
 */
function pathsNamed(markdown: string): string[] {
  const found = markdown.matchAll(/(?<![\w./-])((?:src|test|bench|docs|web|scripts|deploy)\/[\w./-]*[\w])/g)
  return [...new Set([...found].map((m) => m[1] as string))]
}

describe('docs/architecture.md', () => {
  it('names only paths that exist', () => {
    const text = readFileSync(join(DOCS, 'architecture.md'), 'utf8')
    const placeholders = /<|\*/
    const named = pathsNamed(text.replace(/\S*(<[^>]*>|\*)\S*/g, ' '))
    expect(named.length).toBeGreaterThan(40)
    expect(named.filter((p) => !placeholders.test(p) && !existsSync(p))).toEqual([])
  })

  it('finds the paths it checks', () => {
    expect(pathsNamed('see `src/agent/applier.ts` RulesetApplier, src/load/parse.ts (and test/x).')).toEqual([
      'src/agent/applier.ts',
      'src/load/parse.ts',
      'test/x',
    ])
  })
})

describe('citations of the docs', () => {
  const anchors = docAnchors()

  it('docs/semantics.md gives every numbered entry and every section a named anchor', () => {
    const text = readFileSync(join(DOCS, 'semantics.md'), 'utf8')
    const unnamed = text
      .split('\n')
      .filter((l) => /^\d+\. /.test(l) && !/^\d+\. <a id="[a-z0-9-]+"><\/a>/.test(l))
    expect(unnamed).toEqual([])
    const sections = text.split('\n').filter((l) => /^## /.test(l) && !/^## <a id="[a-z0-9-]+"><\/a>/.test(l))
    expect(sections).toEqual([])
    const ids = [...text.matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1])
    expect(new Set(ids).size).toBe(ids.length)
  })

  it('name anchors that exist, and never a rule by number', () => {
    const problems = ROOTS.flatMap(files)
      .filter((f) => f !== THIS_FILE)
      .flatMap((f) => findBadCitations(f, readFileSync(f, 'utf8'), anchors))
    expect(problems).toEqual([])
  })

  it('are checked: a missing anchor, a bare rule number and a stale in-doc link are found', () => {
    const text = [
      ' * (docs/semantics.md#named-ports) and (docs/semantics.md#named-port-hostnetwork)',
      ' * established connections survive (docs/semantics.md, rule 19)',
      ' * sloppy CIDRs (docs/semantics.md 23), see docs/diagnostics.md#lint-no-pods-selected',
      ' * docs/diagnostics.md#lint-no-such-check',
      '      // rule 0: DNS to anyone (a policy rule index, not a citation)',
    ].join('\n')
    expect(findBadCitations('src/x.ts', text, anchors).map((p) => `${p.line}: ${p.text}`)).toEqual([
      '1: semantics.md#named-port-hostnetwork',
      '2: rule 19',
      '3: semantics.md 23',
      '4: diagnostics.md#lint-no-such-check',
    ])
    const doc = 'see [the annotation](#legacy-default-deny) and [gone](#rule-17)'
    expect(findBadCitations('docs/semantics.md', doc, anchors).map((p) => p.text)).toEqual([
      'semantics.md#rule-17',
    ])
  })
})
