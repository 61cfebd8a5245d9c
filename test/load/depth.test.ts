/**
 * The nesting guard (src/load/depth.ts): the count on the text is exact on plain block YAML and JSON and
 * at most twice the depth on flow collections over lines; the yaml library's syntax tree is checked for
 * everything it reads; aliases are checked after it composes. End to end, no object read is deeper than
 * the limit, whatever the text (the readers and later passes recurse once per level).
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isMap, isPair, isSeq, Parser, parseAllDocuments, stringify } from 'yaml'
import {
  estimateDepth,
  findAliasProblem,
  findTooDeep,
  findTooDeepTree,
  isShallow,
  MAX_DEPTH,
} from '../../src/load/depth.js'
import { parseDocuments } from '../../src/load/index.js'

/** The depth of JSON data: every array and object is a level. */
function dataDepth(v: unknown): number {
  let max = 0
  const stack: [unknown, number][] = [[v, 0]]
  while (stack.length > 0) {
    const [x, d] = stack.pop() as [unknown, number]
    if (x === null || typeof x !== 'object') continue
    max = Math.max(max, d + 1)
    for (const child of Object.values(x)) stack.push([child, d + 1])
  }
  return max
}

/**
 * The deepest nesting of collections in the yaml library's concrete syntax tree (what its composer
 * recurses on), a pair in a flow sequence counting as the mapping the composer makes of it.
 */
function cstDepth(text: string): number {
  let max = 0
  const stack: [unknown, number][] = [...new Parser().parse(text)].map((t) => [t, 0])
  while (stack.length > 0) {
    const [t, d] = stack.pop() as [Record<string, unknown> | null | undefined, number]
    if (!t || typeof t !== 'object') continue
    const collection = t.type === 'block-map' || t.type === 'block-seq' || t.type === 'flow-collection'
    const nd = collection ? d + 1 : d
    max = Math.max(max, nd)
    if (t.value && typeof t.value === 'object') stack.push([t.value, nd])
    const flowSeq = t.type === 'flow-collection' && (t.start as { source?: string }).source === '['
    if (Array.isArray(t.items))
      for (const item of t.items as Record<string, unknown>[]) {
        const sep = (item.sep ?? []) as { type: string }[]
        const start = (item.start ?? []) as { type: string }[]
        const pair =
          flowSeq &&
          (item.key != null ||
            sep.some((x) => x.type === 'map-value-ind') ||
            start.some((x) => x.type === 'explicit-key-ind'))
        if (pair) max = Math.max(max, nd + 1)
        stack.push([item.key, pair ? nd + 1 : nd])
        stack.push([item.value, pair ? nd + 1 : nd])
      }
  }
  return max
}

/** The deepest nesting of collections in the documents the yaml library composes. */
function nodeDepth(text: string): number {
  let max = 0
  for (const doc of parseAllDocuments(text, { uniqueKeys: false, logLevel: 'silent' })) {
    const stack: [unknown, number][] = [[doc.contents, 0]]
    while (stack.length > 0) {
      const [n, d] = stack.pop() as [unknown, number]
      if (isMap(n) || isSeq(n)) {
        max = Math.max(max, d + 1)
        for (const item of n.items) {
          if (isPair(item)) {
            stack.push([item.key, d + 1])
            stack.push([item.value, d + 1])
          } else stack.push([item, d + 1])
        }
      }
    }
  }
  return max
}

interface DepthCase {
  readonly name: string
  readonly text: string
  readonly depth: number
}

const cases: DepthCase[] = [
  { name: 'an empty text', text: '', depth: 0 },
  { name: 'a scalar document', text: 'x\n', depth: 0 },
  { name: 'a mapping', text: 'a: 1\nb: 2\n', depth: 1 },
  { name: 'a mapping in a mapping', text: 'a:\n  b: 1\nc: 2\n', depth: 2 },
  { name: 'a sequence at its key column', text: 'a:\n- x\n- y\nb: 1\n', depth: 2 },
  { name: 'mappings in a sequence', text: 'a:\n- b: 1\n  c:\n    d: 2\n- e: 3\n', depth: 4 },
  { name: 'sequences on one line', text: '- - - x\n', depth: 3 },
  { name: 'an explicit key', text: '? a\n: - x\n', depth: 2 },
  { name: 'flow collections in a mapping', text: 'a: [1, {b: [2]}]\n', depth: 4 },
  { name: 'a flow collection as a key', text: '[a]: b\n', depth: 2 },
  { name: 'compact JSON', text: '{"a":[1,{"b":{}}],"c":[]}', depth: 4 },
  { name: 'pretty JSON', text: JSON.stringify({ a: [1, { b: { c: [] } }] }, null, 2), depth: 5 },
  { name: 'brackets in a block scalar', text: 'a: |\n  [[[[ - - - x\n  {{\nb: 1\n', depth: 1 },
  { name: 'a block scalar with an indentation indicator', text: 'a: |2\n  - - - x\nb: 1\n', depth: 1 },
  { name: 'brackets in quoted scalars', text: 'a: "[[[ - - x"\nb: \'{{{\'\nc: "x\\"[["\n', depth: 1 },
  { name: 'a quoted scalar over lines', text: 'a: "x\n  [[[[ - - - y"\nb: 1\n', depth: 1 },
  { name: 'brackets in a comment', text: 'a: b # [[[[\n# - - - [[\n', depth: 1 },
  { name: 'brackets inside a plain scalar', text: 'a: b[[[[c\n', depth: 1 },
  { name: 'a quote inside a plain scalar in flow', text: "a: [b'c, [d]]\n", depth: 3 },
  { name: 'anchors, tags and aliases', text: 'a: &x !!map\n  b: *x\nc: !t [1]\n', depth: 2 },
  { name: 'two documents after markers', text: '--- \na: {b: 1}\n...\n--- [x]\n', depth: 2 },
]

describe('estimateDepth', () => {
  it.each(cases)('$name: $depth', ({ text, depth }) => {
    expect(estimateDepth(text)).toBe(depth)
    expect(nodeDepth(text)).toBe(depth)
    expect(cstDepth(text)).toBe(depth)
  })
})

describe('findTooDeep', () => {
  it('names the offset where the limit is passed', () => {
    const text = 'a:\n  b:\n    c: [[x]]\n'
    expect(findTooDeep(text, 5)).toBeUndefined()
    expect(findTooDeep(text, 4)).toEqual({ offset: text.indexOf('[[') + 1, limit: 4, exact: true })
    expect(findTooDeep('- - - - x', 3)).toEqual({ offset: 6, limit: 3, exact: true })
    // keys inside a flow collection over lines may be counted twice: not exact, the tree decides
    const flow = 'a: {\n  b: {\n    c: 1}}\n'
    expect(findTooDeep(flow, 3)).toMatchObject({ exact: false })
    expect(findTooDeepTree(flow, 3)).toBeUndefined()
    expect(findTooDeepTree(flow, 2)).toEqual({ offset: flow.indexOf('{', 4), limit: 2, exact: true })
  })

  it('refuses the inputs of the issue, at MAX_DEPTH by default', () => {
    expect(findTooDeep(`${'- '.repeat(1000)}x`)?.offset).toBe(2 * MAX_DEPTH)
    expect(findTooDeep(`${'['.repeat(10000)}${']'.repeat(10000)}`)?.offset).toBe(MAX_DEPTH)
    expect(findTooDeep(`${'{"a":'.repeat(10000)}1${'}'.repeat(10000)}`)?.offset).toBe(5 * MAX_DEPTH)
    expect(findTooDeep(`${'['.repeat(MAX_DEPTH)}${']'.repeat(MAX_DEPTH)}`)).toBeUndefined()
  })
})

/** JSON data: the shapes manifests have (keys of any text, strings with YAML indicators in them). */
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', maxDepth: 12 },
    fc.string(),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(fc.string({ maxLength: 8 }), tie('value'), { maxKeys: 4 }),
  ),
})).value

describe('estimateDepth on valid documents', () => {
  it('is the depth of the data for block YAML, compact and pretty JSON', () => {
    fc.assert(
      fc.property(json, (v) => {
        const depth = dataDepth(v)
        expect(estimateDepth(JSON.stringify(v))).toBe(depth)
        expect(estimateDepth(JSON.stringify(v, null, 2))).toBe(depth)
        expect(estimateDepth(stringify(v))).toBe(depth)
      }),
      { numRuns: 500 },
    )
  })

  it('is between the depth and twice the depth for flow collections over several lines', () => {
    fc.assert(
      fc.property(
        json,
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 10, max: 60 }),
        (v, flowLevel, width) => {
          const text = stringify(v, {
            flowCollectionPadding: true,
            lineWidth: width,
            minContentWidth: 0,
            collectionStyle: 'any',
            defaultKeyType: null,
            indentSeq: flowLevel % 2 === 0,
          })
          const depth = dataDepth(v)
          const estimate = estimateDepth(text)
          expect(estimate).toBeGreaterThanOrEqual(depth)
          expect(estimate).toBeLessThanOrEqual(2 * depth)
        },
      ),
      { numRuns: 300 },
    )
  })
})

/** Broken YAML: lines of indicators, keys, quotes, block scalar headers and markers at random indentation. */
const token = fc.constantFrom(
  '- ',
  '? ',
  ': ',
  'a: ',
  'a:',
  '"a": ',
  '[',
  ']',
  '{',
  '}',
  ', ',
  '"',
  "'",
  '\\',
  '|',
  '|2',
  '>',
  '#',
  ' #',
  '&a ',
  '*a',
  '!t ',
  'x',
  ' ',
  '\t',
  '---',
  '...',
)
const line = fc
  .tuple(fc.nat({ max: 8 }), fc.array(token, { maxLength: 12 }))
  .map(([indent, ts]) => `${' '.repeat(indent)}${ts.join('')}`)
const brokenText = fc.array(line, { maxLength: 30 }).map((ls) => ls.join('\n'))

describe('findTooDeepTree', () => {
  it("is the depth of the yaml library's syntax tree, also on broken text", () => {
    fc.assert(
      fc.property(brokenText, fc.integer({ min: 1, max: 6 }), (text, limit) => {
        const deep = findTooDeepTree(text, limit)
        expect(deep === undefined).toBe(cstDepth(text) <= limit)
        expect(nodeDepth(text)).toBeLessThanOrEqual(cstDepth(text))
      }),
      { numRuns: 2000 },
    )
  })

  it('reads 10,000 nested flow collections without recursion', () => {
    const text = `${'['.repeat(10000)}${']'.repeat(10000)}`
    expect(findTooDeepTree(text)).toEqual({ offset: MAX_DEPTH, limit: MAX_DEPTH, exact: true })
  })
})

describe('isShallow', () => {
  it("bounds the depth of the yaml library's tree and nodes by the count of indicators", () => {
    fc.assert(
      fc.property(brokenText, fc.integer({ min: 1, max: 12 }), (text, limit) => {
        if (!isShallow(text, limit)) return
        expect(cstDepth(text)).toBeLessThanOrEqual(limit)
        expect(nodeDepth(text)).toBeLessThanOrEqual(limit)
      }),
      { numRuns: 2000 },
    )
  })
  it('counts -, ?, :, [ and { twice (a pair in a flow sequence may have no `:` of its own)', () => {
    expect(isShallow('a: [b, {c: d}]', 8)).toBe(true)
    expect(isShallow('a: [b, {c: d}]', 7)).toBe(false)
    expect(cstDepth('[a [b [c]]]')).toBe(5)
    expect(isShallow('[a [b [c]]]', 5)).toBe(false)
  })
})

describe('findAliasProblem', () => {
  const problem = (text: string, limit = MAX_DEPTH) => {
    const [doc] = parseAllDocuments(text)
    if (!doc) throw new Error('no document')
    return findAliasProblem(doc, limit)
  }
  it.each([
    { name: 'an alias to no anchor', text: 'a: 1\nb: *x\n', anchor: 'x', offset: 8 },
    { name: 'an alias before its anchor', text: 'a: *x\nb: &x 1\n', anchor: 'x', offset: 3 },
    { name: 'an alias in a flow collection', text: 'a: [1, *y]\n', anchor: 'y', offset: 7 },
  ])('$name: unknown anchor', ({ text, anchor, offset }) => {
    expect(problem(text)).toEqual({ kind: 'unknown-anchor', anchor, offset })
  })
  it.each([
    { name: 'an alias after its anchor', text: 'a: &x 1\nb: *x\n' },
    { name: 'a redefined anchor', text: 'a: &x 1\nb: &x [2]\nc: *x\n' },
    { name: 'a merge key', text: 'a: &x {b: 1}\nc:\n  <<: *x\n' },
    { name: 'an anchor inside itself (refused when the value is built)', text: 'a: &x [*x]\n' },
  ])('$name: no problem', ({ text }) => {
    expect(problem(text)).toBeUndefined()
  })
  it('counts the depth with aliases expanded', () => {
    const text = 'a: &a [[1]]\nb: &b [[*a]]\nc: &c [[*b]]\n'
    // c: [[ [[ [[1]] ]] ]] inside the root mapping: 1 + 6
    expect(problem(text, 7)).toBeUndefined()
    // named at the alias whose expansion passes the limit
    expect(problem(text, 6)).toEqual({ kind: 'too-deep', offset: text.indexOf('*b'), limit: 6 })
  })
})

/** A document with apiVersion and kind whose data is the random text below it (often broken). */
const objectText = fc
  .array(line, { maxLength: 20 })
  .map(
    (ls) => `apiVersion: v1\nkind: X\nmetadata:\n  name: a\ndata:\n${ls.map((l) => `  ${l}`).join('\n')}\n`,
  )

describe('parseDocuments bounds the depth of what every reader reads', () => {
  it('never reads an object deeper than the limit, and never throws, on broken text', () => {
    fc.assert(
      fc.property(fc.oneof(brokenText, objectText), fc.integer({ min: 2, max: 6 }), (text, limit) => {
        const parsed = parseDocuments({ file: 'f.yaml', text }, { maxDepth: limit })
        for (const o of parsed.value) expect(dataDepth(o.value)).toBeLessThanOrEqual(limit)
      }),
      { numRuns: 3000 },
    )
  })

  it('reads valid documents up to the limit, refuses deeper ones with load.too-deep', () => {
    fc.assert(
      fc.property(json, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 2, max: 8 }), (v, style, limit) => {
        const data = { apiVersion: 'v1', kind: 'X', metadata: { name: 'a' }, data: v }
        const text = [
          JSON.stringify(data),
          JSON.stringify(data, null, 2),
          stringify(data),
          `# c\n${stringify(data)}`,
        ][style] as string
        const parsed = parseDocuments({ file: 'f.yaml', text }, { maxDepth: limit })
        const deep = dataDepth(data) > limit
        expect(parsed.value.length).toBe(deep ? 0 : 1)
        expect(parsed.diagnostics.map((d) => d.code)).toEqual(deep ? ['load.too-deep'] : [])
      }),
      { numRuns: 1000 },
    )
  })
})

/** A ConfigMap whose data nests to depth in total (2 for the root and data, the rest in sequences). */
const nested = (depth: number, how: 'block' | 'flow'): string => {
  const inner = depth - 2
  const body =
    how === 'flow'
      ? ` ${'['.repeat(inner)}x${']'.repeat(inner)}`
      : `\n${Array.from({ length: inner }, (_, i) => `${'  '.repeat(i + 1)}-`).join('\n')} x`
  return `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: n\ndata:\n  x:${body}\n`
}

describe('every reader, at the limit and past it', () => {
  const readers = [
    { name: 'the one-pass reader (plain block YAML)', text: (d: number) => nested(d, 'block') },
    { name: 'js-yaml (a comment)', text: (d: number) => `# c\n${nested(d, 'block')}` },
    {
      name: 'the yaml library (an anchor)',
      text: (d: number) => nested(d, 'block').replace('name: n', 'name: &n n'),
    },
    { name: 'the yaml library (flow collections)', text: (d: number) => nested(d, 'flow') },
    {
      name: 'JSON',
      text: (d: number) =>
        JSON.stringify({
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: 'n' },
          data: { x: JSON.parse(`${'['.repeat(d - 2)}${']'.repeat(d - 2)}`) },
        }),
    },
  ]
  it.each(readers)('$name', ({ text }) => {
    const at = parseDocuments({ file: 'f.yaml', text: `${text(MAX_DEPTH)}\n---\n${text(MAX_DEPTH)}` })
    expect(at.diagnostics).toEqual([])
    expect(at.value).toHaveLength(2)
    expect(dataDepth(at.value[0]?.value)).toBe(MAX_DEPTH)
    const past = parseDocuments({ file: 'f.yaml', text: `${text(MAX_DEPTH + 1)}\n---\n${text(MAX_DEPTH)}` })
    expect(past.value).toHaveLength(1) // the other document is still read
    expect(past.diagnostics).toMatchObject([
      {
        code: 'load.too-deep',
        severity: 'error',
        message: `exceeded max depth of ${MAX_DEPTH}: mappings and sequences nest more than ${MAX_DEPTH} levels deep (document 1 skipped)`,
        source: { file: 'f.yaml', doc: 0 },
      },
    ])
  })
})
