import { describe, expect, it } from 'vitest'
import { describeShape, elementKey, splitElements } from '../../src/agent/nft-elements.js'
import { compileNode } from '../../src/backends/index.js'
import { normalizeObjects } from '../../src/load/index.js'
import { type JsonObject, rawFromValue } from '../../src/model/index.js'
import { allowFrom, namespace, pod } from './fixtures.js'

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
