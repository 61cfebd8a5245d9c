import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import { dump } from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { stringify, type ToStringOptions } from 'yaml'
import { realisticManifests } from '../../src/gen/realistic-cluster.js'
import { parseFastDocument, scanPositions } from '../../src/load/fast-yaml.js'
import { parseInput } from '../../src/load/index.js'
import { parseSimpleDocument, resolveCommonPlain, UNSURE } from '../../src/load/simple-yaml.js'
import { resolvePlainScalar } from '../../src/load/yaml-tree.js'
import type { JsonValue } from '../../src/model/index.js'
import { observe } from './observe.js'

const root = fileURLToPath(new URL('../../', import.meta.url))
const RUNS = Number(process.env.FAST_PATH_RUNS ?? 300)
const TIMEOUT = 60_000 + RUNS * 200

/** The fast path gives exactly what the exact path gives, positions included. */
function expectSameAsExact(text: string): void {
  const fast = observe(parseInput({ file: 'in.yaml', text }))
  const exact = observe(parseInput({ file: 'in.yaml', text }, { exact: true }))
  expect(fast).toStrictEqual(exact)
}

function yamlFilesUnder(dir: string): string[] {
  const out: string[] = []
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) out.push(...yamlFilesUnder(path))
    else if (/\.(ya?ml|json|txt)$/.test(name)) out.push(path)
  }
  return out
}

const SEEDS = '/work/shared/seeds'
const realFiles = [
  ...yamlFilesUnder(join(root, 'examples')),
  ...yamlFilesUnder(join(root, 'test/load/fixtures')),
  join(root, 'test/conformance/model.yaml'),
  // The raw seed texts (markdown with YAML inside) where this checkout has them.
  ...(existsSync(SEEDS) ? yamlFilesUnder(SEEDS) : []),
]

const realistic = realisticManifests({ pods: 120, policies: 40, seed: 7 })

describe('fast path gives the exact path results', () => {
  it.each(realFiles.map((f) => ({ name: f.slice(f.lastIndexOf('/', f.lastIndexOf('/') - 1) + 1), f })))(
    'real file $name reads the same through both paths',
    ({ f }) => {
      expectSameAsExact(readFileSync(f, 'utf8'))
    },
  )

  it('a generated realistic cluster serialised by yaml.stringify reads the same through both paths', () => {
    expectSameAsExact(realistic.map((m) => stringify(m)).join('---\n'))
  })

  it('a generated realistic cluster serialised by js-yaml reads the same through both paths', () => {
    expectSameAsExact(realistic.map((m) => dump(m)).join('---\n'))
  })

  it('a generated realistic cluster with CRLF line ends reads the same through both paths', () => {
    const text = realistic.map((m) => stringify(m)).join('---\n')
    expectSameAsExact(text.replace(/\n/g, '\r\n'))
    expect(parseFastDocument(stringify(realistic[0]).replace(/\n/g, '\r\n'))).toBeDefined()
  })

  it('a generated realistic cluster as one kind: List reads the same through both paths', () => {
    expectSameAsExact(stringify({ apiVersion: 'v1', kind: 'List', items: realistic }))
  })
})

describe('simple reader (the first, library-free fast path)', () => {
  it('every generated document is read by the simple reader, with the data yaml.stringify wrote', () => {
    for (const m of realistic) {
      const text = stringify(m)
      expect(parseSimpleDocument(text)?.value).toStrictEqual(m)
      expect(parseSimpleDocument(text.replace(/\n/g, '\r\n'))?.value).toStrictEqual(m)
    }
  })

  it('positions from the simple reader are those of the exact path on a generated cluster', () => {
    const text = realistic.map((m) => stringify(m)).join('---\n')
    expect(text.split('---\n').every((chunk) => parseSimpleDocument(chunk) !== undefined)).toBe(true)
    expectSameAsExact(text)
  })

  const left: { name: string; text: string }[] = [
    { name: 'a comment line', text: 'kind: A\n# note\na: 1\n' },
    { name: 'a comment after a value', text: 'kind: A\na: 1 # note\n' },
    { name: 'a block scalar', text: 'kind: A\na: |\n  x\n' },
    { name: 'a multi-line plain scalar', text: 'kind: A\na: b\n  c\n' },
    { name: 'a multi-line quoted scalar', text: 'kind: A\na: "b\n  c"\n' },
    { name: 'an escape in double quotes', text: 'kind: A\na: "b\\tc"\n' },
    { name: 'a quote in single quotes', text: "kind: A\na: 'it''s'\n" },
    { name: 'a flow sequence with items', text: 'kind: A\na: [b, c]\n' },
    { name: 'a flow mapping with keys', text: 'kind: A\na: {b: c}\n' },
    { name: 'an infinite float', text: 'kind: A\na: .inf\n' },
    { name: 'an anchor', text: 'kind: A\na: &x 1\n' },
    { name: 'an alias', text: 'kind: A\na: *x\n' },
    { name: 'a tag', text: 'kind: A\na: !!str 1\n' },
    { name: 'a merge key', text: 'kind: A\n<<: {a: 1}\n' },
    { name: 'a duplicate key', text: 'kind: A\nkind: B\n' },
    { name: 'a __proto__ key', text: 'kind: A\n__proto__: 1\n' },
    { name: 'a null key', text: 'kind: A\nnull: 1\n' },
    { name: 'a quoted key', text: 'kind: A\n"a": 1\n' },
    { name: 'a space before the colon', text: 'kind: A\na : 1\n' },
    { name: 'a nested mapping on one line', text: 'kind: A\na: b: c\n' },
    { name: 'a non-ASCII character', text: 'kind: A\na: é\n' },
    { name: 'a tab', text: 'kind: A\na:\t1\n' },
    { name: 'a lone CR', text: 'kind: A\ra: 1\n' },
    { name: 'a sequence at the root', text: '- a\n' },
    { name: 'an indented root', text: '  kind: A\n' },
    { name: 'a sequence in a sequence', text: 'kind: A\na:\n- - b\n' },
    { name: 'an empty sequence item', text: 'kind: A\na:\n-\n  b\n' },
    { name: 'a line indented between two levels', text: 'kind: A\na:\n    b: 1\n  c: 2\n' },
    { name: 'a document end marker', text: 'kind: A\n...\n' },
    { name: 'a line over 1000 characters', text: `kind: A\nb: ${'x'.repeat(1001)}\n` },
  ]
  it.each(left)('a document with $name is left to the next reader', ({ text }) => {
    expect(parseSimpleDocument(text)).toBeUndefined()
  })

  const values: { name: string; text: string; value: JsonValue }[] = [
    {
      name: 'words are YAML 1.1 nulls and booleans, in keys too',
      text: 'a: yes\nb: Off\nc: ~\nd:\ny: n\n',
      value: { a: true, b: false, c: null, d: null, true: false },
    },
    { name: 'small integers are numbers', text: 'a: 0\nb: 8080\n80: c\n', value: { a: 0, b: 8080, 80: 'c' } },
    {
      name: 'other numbers as go-yaml reads them',
      text: 'a: 0777\nb: +5\nc: 1.5\nd: 1:20\ne: 0x1F\n1.5: f\n',
      value: { a: 511, b: 5, c: 1.5, d: '1:20', e: 31, '1.5': 'f' },
    },
    {
      name: 'IP addresses and versions are strings',
      text: 'a: 10.0.0.1\nb: 1.2.3\nc: 10.0.0.0/8\n',
      value: { a: '10.0.0.1', b: '1.2.3', c: '10.0.0.0/8' },
    },
    {
      name: 'quoted scalars are strings',
      text: 'a: "yes"\nb: \'080\'\nc: "# not a comment"\n',
      value: { a: 'yes', b: '080', c: '# not a comment' },
    },
    {
      name: 'a sequence may sit at its key column',
      text: 'a:\n- b: 1\n  c: x\n- d\ne: {}\nf: []\n',
      value: { a: [{ b: 1, c: 'x' }, 'd'], e: {}, f: [] },
    },
  ]
  it.each(values)('simple reader: $name', ({ text, value }) => {
    expect(parseSimpleDocument(text)?.value).toStrictEqual(value)
    expectSameAsExact(`apiVersion: v1\nkind: X\n${text}`)
  })

  it('resolveCommonPlain gives what go-yaml v2 resolves (resolvePlainScalar), or UNSURE', () => {
    const ascii = [...Array(95).keys()].map((i) => String.fromCharCode(32 + i))
    const body = fc.stringMatching(/^[-+._:0-9a-fA-FxXoObBeEnNuUlLyYsStTrRiI~<]{0,9}$/)
    let sure = 0
    fc.assert(
      fc.property(fc.constantFrom(...ascii), body, (first, rest) => {
        const s = (first + rest).trim()
        if (s === '') return
        const got = resolveCommonPlain(s)
        if (got === UNSURE) return
        sure++
        expect(got).toStrictEqual(resolvePlainScalar(s))
      }),
      { numRuns: RUNS * 30 },
    )
    expect(sure).toBeGreaterThan(RUNS)
    for (const s of ['.inf', '-.Inf', '.nan']) expect(resolveCommonPlain(s)).toBe(UNSURE)
  })
})

describe('fast path is taken for ordinary manifests', () => {
  it('every generated document takes the fast path, and positions come from the line scanner', () => {
    for (const m of realistic) {
      const text = stringify(m)
      const fast = parseFastDocument(text)
      expect(fast?.value).toStrictEqual(m)
      expect(scanPositions(text, m)).toBeDefined()
    }
  })

  it.each(['kubectl-dump.yaml', 'ports-policy.yaml', 'seed-000-default-deny.yaml'])(
    'the fixture %s (kubectl output, managed fields, one-line flow lists) takes the fast path',
    (name) => {
      const text = readFileSync(join(root, 'test/load/fixtures', name), 'utf8')
      for (const chunk of text.split(/^---\s*$/m).filter((c) => /^[a-z]/m.test(c)))
        expect(parseFastDocument(chunk)).toBeDefined()
    },
  )

  const slow: { name: string; text: string }[] = [
    { name: 'an anchor and alias', text: 'kind: A\na: &x 1\nb: *x\n' },
    { name: 'a merge key', text: 'kind: A\nbase: {a: 1}\nc:\n  <<: {a: 1}\n' },
    { name: 'a tag', text: 'kind: A\na: !!str 1\n' },
    { name: 'a duplicate key', text: 'kind: A\nkind: B\n' },
    { name: 'a %YAML directive', text: '%YAML 1.1\n---\nkind: A\n' },
    { name: 'a null key', text: 'kind: A\n~: 1\n' },
    { name: 'an empty key', text: 'kind: A\n: 1\n' },
    { name: 'a tab', text: 'kind: A\na:\t1\n' },
    { name: 'a collection as key', text: 'kind: A\n[a]: 1\n' },
    { name: 'a syntax error', text: 'kind: A\n a: 1\n' },
    { name: 'a list at the root', text: '- a\n' },
    { name: 'a line over 1000 characters', text: `kind: A\nb: ${'x'.repeat(1001)}\n` },
  ]
  it.each(slow)('a document with $name is left to the exact path', ({ text }) => {
    expect(parseFastDocument(text)).toBeUndefined()
  })

  const values: { name: string; text: string; value: JsonValue }[] = [
    {
      name: 'yes/no/on/off are YAML 1.1 booleans',
      text: 'a: yes\nb: Off\nc: y\nd: N\n',
      value: { a: true, b: false, c: true, d: false },
    },
    { name: 'a leading zero means octal', text: 'a: 0777\nb: 010\n', value: { a: 511, b: 8 } },
    { name: 'go-yaml has no sexagesimal numbers', text: 'a: 1:20\n', value: { a: '1:20' } },
    {
      name: 'timestamps stay strings',
      text: 'a: 2001-12-14t21:59:43.10-05:00\nb: 2002-12-14\n',
      value: { a: '2001-12-14t21:59:43.10-05:00', b: '2002-12-14' },
    },
    { name: 'quoted scalars are strings', text: 'a: "yes"\nb: \'080\'\n', value: { a: 'yes', b: '080' } },
    { name: 'a yes key becomes "true"', text: 'yes: 1\n', value: { true: 1 } },
    {
      name: 'E5 is a string for go-yaml',
      text: 'a: E5\nb: e0x\nc: 1e3\n',
      value: { a: 'E5', b: 'e0x', c: 1000 },
    },
    { name: 'a __proto__ key is an own key', text: '__proto__: 1\n', value: JSON.parse('{"__proto__": 1}') },
    {
      name: 'flow collections on one line',
      text: 'a: [1, "x", {b: c}]\nd: {e: [], f: "g"}\n',
      value: { a: [1, 'x', { b: 'c' }], d: { e: [], f: 'g' } },
    },
  ]
  it.each(values)('fast path: $name', ({ text, value }) => {
    expect(parseFastDocument(text)?.value).toStrictEqual(value)
    expectSameAsExact(`apiVersion: v1\nkind: X\n${text}`)
  })
})

// Random documents

const TRICKY = [
  'yes',
  'No',
  'ON',
  'off',
  'y',
  'Y',
  'n',
  'true',
  'False',
  'null',
  'Null',
  '~',
  '',
  ' ',
  '0777',
  '0o17',
  '0x1F',
  '0b101',
  '1:20',
  '-1:20',
  '1_000',
  '1e3',
  '1.5e-3',
  '.inf',
  '-.Inf',
  '.nan',
  '.5',
  '5.',
  '+5',
  '-0',
  '0',
  '007',
  '1.2.3',
  '10.0.0.0/8',
  '2001-12-14',
  '2001-12-14 21:59:43.10 -5',
  '<<',
  '=',
  '- a',
  'a: b',
  'a:b',
  '#x',
  'x #y',
  'x# y',
  '"q"',
  "'s'",
  'a\\b',
  '\\',
  'line\nbreak',
  'trailing\n',
  '\n\nlead',
  '  spaced  ',
  'tab\there',
  '*a',
  '&a',
  '!t',
  '%p',
  '@a',
  '`b',
  '?',
  '? x',
  '-',
  '--',
  '---',
  '...',
  '[a]',
  '{a: 1}',
  '|',
  '>',
  'é',
  '日本',
  '😀',
  '\u0085',
  '\u2028',
  'a\r\nb',
  '9007199254740993',
  '123456789012345678901234567890',
  '0.1',
  '1.0',
  '-5',
  'NaN',
]

const scalar = fc.oneof(
  { arbitrary: fc.constantFrom(...TRICKY), weight: 3 },
  { arbitrary: fc.stringMatching(/^[a-zA-Z0-9 .:/_#'"-]{0,16}$/), weight: 4 },
  { arbitrary: fc.string({ maxLength: 12 }), weight: 1 },
  { arbitrary: fc.stringMatching(/^[a-z0-9 .:#'"\-\n]{0,12}$/), weight: 1 },
  { arbitrary: fc.integer(), weight: 1 },
  { arbitrary: fc.double(), weight: 1 },
  { arbitrary: fc.boolean(), weight: 1 },
  { arbitrary: fc.constant(null), weight: 1 },
)
const key = fc.oneof(
  { arbitrary: fc.constantFrom(...TRICKY), weight: 1 },
  { arbitrary: fc.stringMatching(/^[a-zA-Z0-9._/-]{1,10}$/), weight: 4 },
  { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
)
const { value } = fc.letrec<{ value: JsonValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    scalar,
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
}))
const manifest = fc.dictionary(key, value, { maxKeys: 5 }).map(
  (rest): JsonValue => ({
    apiVersion: 'v1',
    kind: 'Thing',
    ...rest,
    metadata: { name: 'x', labels: structuredClone(rest) },
  }),
)

const STRINGIFY: readonly ToStringOptions[] = [
  {},
  { defaultStringType: 'QUOTE_SINGLE' },
  { defaultStringType: 'QUOTE_DOUBLE' },
  { defaultStringType: 'BLOCK_LITERAL' },
  { defaultStringType: 'BLOCK_FOLDED', lineWidth: 20, minContentWidth: 0 },
  { collectionStyle: 'flow' },
  { indentSeq: false, indent: 4 },
  { lineWidth: 12, minContentWidth: 0 },
  { defaultKeyType: 'PLAIN', simpleKeys: true },
]
const serialised = fc.tuple(manifest, fc.integer({ min: 0, max: STRINGIFY.length + 2 })).map(([m, how]) => {
  const opts = STRINGIFY[how]
  if (opts) {
    try {
      return stringify(m, opts)
    } catch {
      return stringify(m)
    }
  }
  return dump(m, how === STRINGIFY.length ? { lineWidth: 20 } : { flowLevel: 2, noCompatMode: true })
})

const EDIT_CHARS = [
  ' ',
  '  ',
  '-',
  '- ',
  ':',
  ': ',
  '#',
  ' #',
  '"',
  "'",
  '\n',
  '\n  ',
  '\r\n',
  '[',
  ']',
  '{',
  '}',
  ',',
  '|',
  '>',
  'y',
  '0',
  '\\',
  '?',
  '!',
  '&',
  '*',
  '\t',
  'é',
]
const edits = fc.array(fc.tuple(fc.nat(), fc.nat(2), fc.constantFrom(...EDIT_CHARS)), { maxLength: 3 })
function mutate(text: string, es: readonly [number, number, string][]): string {
  let t = text
  for (const [at, drop, ins] of es) {
    const i = t.length === 0 ? 0 : at % t.length
    t = t.slice(0, i) + ins + t.slice(i + drop)
  }
  return t
}

describe('exact path', () => {
  it('an alias inside its own anchor is a yaml.syntax error, not a crash', () => {
    const parsed = parseInput({ file: 'in.yaml', text: 'apiVersion: v1\nkind: A\na: &x\n  b: *x\n' })
    expect(parsed.diagnostics.map((d) => [d.code, d.message])).toStrictEqual([
      ['yaml.syntax', 'anchor value contains itself (document skipped)'],
    ])
    expect(parsed.objects).toStrictEqual([])
  })
})

/** Lines of block YAML at random indentation: mostly invalid, or valid in surprising ways. */
const LINE_TEMPLATES = [
  'key: value',
  'k2: 80',
  '- item',
  '- k3: v',
  'k4:',
  '- ',
  '-',
  'k5: "quoted',
  'continued"',
  "k6: 'it''s",
  "more'",
  'k7: |',
  'k8: >-',
  'text line',
  'k9: plain',
  'folded more',
  '# comment',
  '',
  '  ',
  'k10: [a, "b", {c: d}]',
  'k11: {e: [1, 2], f: g}',
  'k12: []',
  'k13: {}',
  'k14: "x" # note',
  'k15: a # note',
  'k16: yes',
  'k17: 0777',
  '"k18": v',
  "'k19': v",
  'k20: a: b',
  'k21: -',
  'k22: - x',
  '---',
  '...',
  'k23: "esc \\" q"',
  'k24: [a,',
  'b]',
  'k25: "a\\',
  'b"',
  'k26:  |+',
  '- - nested',
  '- [x, y]',
  '- {z: 1}',
  'k27: {a: 1, a: 2}',
]
const blockLines = fc
  .array(
    fc.tuple(
      fc.oneof({ arbitrary: fc.constantFrom(0, 2, 4), weight: 5 }, { arbitrary: fc.nat(6), weight: 1 }),
      fc.constantFrom(...LINE_TEMPLATES),
    ),
    { minLength: 1, maxLength: 8 },
  )
  .map((ls) => `apiVersion: v1\nkind: X\n${ls.map(([n, l]) => ' '.repeat(n) + l).join('\n')}\n`)

describe('fast path on random documents', () => {
  it(
    'random lines of block YAML at random indentation read the same through both paths',
    () => {
      let total = 0
      let fast = 0
      let simple = 0
      fc.assert(
        fc.property(blockLines, (doc) => {
          total++
          if (parseFastDocument(doc)) fast++
          if (parseSimpleDocument(doc)) simple++
          expectSameAsExact(doc)
        }),
        { numRuns: RUNS * 10 },
      )
      console.log(`fast path took ${fast} of ${total} random line documents, the simple reader ${simple}`)
      expect(fast).toBeGreaterThan(0)
      expect(simple).toBeGreaterThan(0)
    },
    TIMEOUT,
  )

  it(
    'random manifests, serialised in many styles, read the same through both paths',
    () => {
      let total = 0
      let fast = 0
      let simple = 0
      fc.assert(
        fc.property(fc.array(serialised, { minLength: 1, maxLength: 3 }), (docs) => {
          for (const d of docs) {
            total++
            if (parseFastDocument(d)) fast++
            if (parseSimpleDocument(d)) simple++
          }
          expectSameAsExact(docs.join('---\n'))
        }),
        { numRuns: RUNS },
      )
      // The comparison means something only if the fast path takes a good share of the documents.
      console.log(`fast path took ${fast} of ${total} random documents, the simple reader ${simple}`)
      expect(fast / total).toBeGreaterThan(0.2)
      expect(simple / total).toBeGreaterThan(0.05)
    },
    TIMEOUT,
  )

  it(
    'randomly damaged documents read the same through both paths (errors included)',
    () => {
      const bases = [
        ...realistic.slice(0, 60).map((m) => stringify(m)),
        ...realFiles.filter((f) => /\.ya?ml$/.test(f)).map((f) => readFileSync(f, 'utf8').slice(0, 3000)),
      ]
      fc.assert(
        fc.property(fc.constantFrom(...bases), edits, (base, es) => {
          expectSameAsExact(mutate(base, es))
        }),
        { numRuns: RUNS * 3 },
      )
    },
    TIMEOUT,
  )

  it(
    'randomly damaged random documents read the same through both paths',
    () => {
      fc.assert(
        fc.property(serialised, edits, (doc, es) => {
          expectSameAsExact(mutate(doc, es))
        }),
        { numRuns: RUNS },
      )
    },
    TIMEOUT,
  )
})
