import { describe, expect, it } from 'vitest'
import {
  describeShape,
  diffElements,
  elementKey,
  parseNftRuleset,
  splitElements,
} from '../../src/agent/nft-elements.js'
import { compileNode } from '../../src/compile/index.js'
import { normalizeObjects } from '../../src/load/index.js'
import { type JsonObject, rawFromValue } from '../../src/model/index.js'
import { allowFrom, denyAll, namespace, pod } from './fixtures.js'

const nftOf = (objects: readonly JsonObject[], node = 'n1'): string => {
  const cluster = normalizeObjects(objects.map((o, i) => rawFromValue(o, { file: `obj${i}` }))).value
  return compileNode(cluster, node, 'nftables').value.files['palisade.nft'] as string
}

const base: JsonObject[] = [
  namespace('shop'),
  pod('shop', 'db', '10.0.1.3', 'n1', { app: 'db' }),
  pod('shop', 'web', '10.0.2.3', 'n2', { role: 'web' }),
  allowFrom('shop', 'web-to-db', 'db', 'web', 5432),
]

describe('element lists', () => {
  it.each([
    { name: 'splits a one-line list', body: ' 1.2.3.4, 5.6.7.8 ', want: ['1.2.3.4', '5.6.7.8'] },
    {
      name: 'splits a multi-line list with a trailing comma',
      body: '\n\t1.2.3.4,\n\t5.6.7.8,\n',
      want: ['1.2.3.4', '5.6.7.8'],
    },
    {
      name: 'keeps a concatenation together',
      body: '10.0.0.1 . 8080, 10.0.0.2 . 80',
      want: ['10.0.0.1 . 8080', '10.0.0.2 . 80'],
    },
    {
      name: 'does not split on a comma inside a comment',
      body: '1.2.3.4 comment "a, b", 5.6.7.8',
      want: ['1.2.3.4 comment "a, b"', '5.6.7.8'],
    },
    { name: 'gives nothing for an empty body', body: ' ', want: [] },
  ])('$name', ({ body, want }) => {
    expect(splitElements(body)).toEqual(want)
  })

  it.each([
    { name: 'a set element is its own key', element: '10.0.0.1', isMap: false, key: '10.0.0.1' },
    {
      name: 'a map element is keyed by what precedes " : "',
      element: '10.0.0.1 : jump pod_x',
      isMap: true,
      key: '10.0.0.1',
    },
    {
      name: 'an IPv6 map key keeps its colons',
      element: 'fd00::1 : jump pod_x',
      isMap: true,
      key: 'fd00::1',
    },
  ])('$name', ({ element, isMap, key }) => {
    expect(elementKey(element, isMap)).toBe(key)
  })
})

describe('incremental diff of compiled rulesets', () => {
  const cases: {
    name: string
    after: JsonObject[]
    incremental: boolean
    adds?: number
    deletes?: number
  }[] = [
    {
      name: 'a remote pod joining a peer set changes only elements',
      after: [...base, pod('shop', 'web2', '10.0.2.4', 'n2', { role: 'web' })],
      incremental: true,
      adds: 1,
    },
    {
      name: 'a remote peer pod deleted changes only elements',
      after: base.filter((o) => (o.metadata as { name?: string }).name !== 'web'),
      incremental: true,
      deletes: 1,
    },
    {
      name: 'a remote peer pod changing IP changes only elements',
      after: [
        ...base.slice(0, 2),
        pod('shop', 'web', '10.0.2.9', 'n2', { role: 'web' }),
        base[3] as JsonObject,
      ],
      incremental: true,
    },
    {
      name: 'a new policy changes the structure',
      after: [...base, denyAll('shop')],
      incremental: false,
    },
    {
      name: 'a new isolated local pod adds a pod chain: structure changes',
      after: [...base, pod('shop', 'db2', '10.0.1.4', 'n1', { app: 'db' })],
      incremental: false,
    },
  ]
  it.each(cases)('$name', ({ after, incremental, adds, deletes }) => {
    const d = diffElements(parseNftRuleset(nftOf(base)), parseNftRuleset(nftOf(after)))
    if (!incremental) {
      expect(d).toBeUndefined()
      return
    }
    expect(d).toBeDefined()
    expect(d?.script).not.toBe('')
    if (adds !== undefined) expect(d?.added).toBe(adds)
    if (deletes !== undefined) expect(d?.deleted).toBe(deletes)
    for (const line of d?.script.trim().split('\n') ?? [])
      expect(line).toMatch(/^(add|delete) element inet palisade \S+ \{ .+ \}$/)
  })

  it('an identical ruleset gives an empty script', () => {
    const t = parseNftRuleset(nftOf(base))
    expect(diffElements(t, parseNftRuleset(nftOf(base)))).toEqual({ script: '', added: 0, deleted: 0 })
  })

  it('a map entry whose verdict changes is deleted by key and added again', () => {
    const a = parseNftRuleset(
      'table inet t {\n map m {\n type ipv4_addr : verdict\n elements = { 1.1.1.1 : jump a }\n }\n}',
    )
    const b = parseNftRuleset(
      'table inet t {\n map m {\n type ipv4_addr : verdict\n elements = { 1.1.1.1 : jump b }\n }\n}',
    )
    expect(diffElements(a, b)?.script).toBe(
      'delete element inet t m { 1.1.1.1 }\nadd element inet t m { 1.1.1.1 : jump b }\n',
    )
  })

  it('a set that goes from empty to filled is still an element-only change', () => {
    const a = parseNftRuleset('table inet t {\n set s {\n type ipv4_addr\n }\n}')
    const b = parseNftRuleset('table inet t {\n set s {\n type ipv4_addr\n elements = { 1.1.1.1 }\n }\n}')
    expect(diffElements(a, b)?.script).toBe('add element inet t s { 1.1.1.1 }\n')
  })

  it('a renamed set is a structure change', () => {
    const a = parseNftRuleset('table inet t {\n set s {\n type ipv4_addr\n }\n}')
    const b = parseNftRuleset('table inet t {\n set s2 {\n type ipv4_addr\n }\n}')
    expect(diffElements(a, b)).toBeUndefined()
  })
})

describe('drift shape', () => {
  it('counts rules per chain and elements per set, ignoring comments and hook lines', () => {
    const shape = describeShape(nftOf(base))
    expect(shape.chains).toContain('pod_in_shop_db:2')
    expect(shape.chains.some((c) => c.startsWith('ingress:'))).toBe(true)
    expect(Object.values(shape.counts).reduce((a, b) => a + b, 0)).toBeGreaterThan(0)
  })

  it('sees a flushed chain', () => {
    const text = nftOf(base)
    const flushed = text.replace(/(chain pod_in_shop_db \{\n)[^}]*\}/, '$1\t}')
    expect(describeShape(flushed).chains).not.toEqual(describeShape(text).chains)
  })
})
