import { describe, expect, it } from 'vitest'
import { loadCluster, parseInput } from '../../src/load/index.js'
import { lazySource } from '../../src/load/parse.js'
import { sourceAt } from '../../src/load/tree.js'
import { parseYamlChunk } from '../../src/load/yaml-tree.js'
import type { FieldPath } from '../../src/model/index.js'

const text = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: p
  namespace: a
spec:
  podSelector: {}
  ingress:
    - from:
        - podSelector:
            matchLabels:
              app: web
      ports:
        - port: 80
`

describe('positions found on first read (lazySource)', () => {
  const ctx = { file: 'f.yaml', doc: 2, base: 5, lineStarts: [0, 5, 12, 30] }

  it('reads the offset only when line or column is read, once, and equals sourceAt', () => {
    let calls = 0
    const lazy = lazySource(ctx, () => {
      calls++
      return 14
    })
    expect(lazy.file).toBe('f.yaml')
    expect(lazy.doc).toBe(2)
    expect(calls).toBe(0)
    expect(lazy).toEqual(sourceAt(ctx, 14))
    expect(lazy.line).toBe(3)
    expect(calls).toBe(1)
    // Same keys in the same order: JSON output and spreads are those of an eager source.
    expect(Object.keys(lazy)).toEqual(Object.keys(sourceAt(ctx, 14)))
    expect(JSON.stringify(lazy)).toBe(JSON.stringify(sourceAt(ctx, 14)))
    expect({ ...lazy }).toStrictEqual(sourceAt(ctx, 14))
  })

  const paths: FieldPath[] = [
    [],
    ['spec', 'ingress', 0],
    ['spec', 'ingress', 0, 'from', 0, 'podSelector', 'matchLabels', 'app'],
    ['spec', 'ingress', 0, 'ports', 0, 'port'],
    ['spec', 'nope'],
    ['metadata', 'labels', 'x'],
  ]
  it.each(paths)('locate(%j) on the simple reader gives what the exact path gives', (...path) => {
    const fast = parseInput({ file: 'p.yaml', text: `---\n${text}` }).objects[0]?.object
    const exact = parseInput({ file: 'p.yaml', text: `---\n${text}` }, { exact: true }).objects[0]?.object
    expect(fast && exact).toBeTruthy()
    expect(JSON.stringify(fast?.locate(path))).toBe(JSON.stringify(exact?.locate(path)))
    expect({ ...fast?.locate(path) }).toStrictEqual({ ...exact?.locate(path) })
  })
})

describe('blank chunks', () => {
  it.each(['', '\n', '  \n\n', '\r\n  \r\n', '   '])(
    'the yaml library finds no document in %j (what skipping blank chunks relies on)',
    (text) => {
      expect([...parseYamlChunk(text)]).toHaveLength(0)
    },
  )

  const doc = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n'
  it.each([
    ['leading ---', `---\n${doc}`],
    ['trailing ---', `${doc}---\n`],
    ['blank lines and CRLF between', `---\n\n  \r\n---\n${doc}---\n  \n---\n${doc.replace('a\n', 'b\n')}`],
    ['only separators', '---\n---\n'],
  ])('%s: same objects, document numbers and diagnostics as the yaml library gives', (_, text) => {
    const seen = (exact: boolean) => {
      const p = parseInput({ file: 'f.yaml', text }, { exact })
      return JSON.stringify({ o: p.objects.map((o) => [o.object.value, o.object.source]), d: p.diagnostics })
    }
    expect(seen(false)).toBe(seen(true))
  })
})

describe('progress while reading (onProgress)', () => {
  const docs = Array.from(
    { length: 30 },
    (_, i) => `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: n${i}\n`,
  )
  const text = `${docs.join('---\n')}---\n`
  it('is told the read share after each document, rising to the whole text, and changes nothing read', () => {
    const seen: [string, number, number][] = []
    const told = loadCluster([{ file: 'big.yaml', text }], {
      validate: 'strict',
      onProgress: (file, done, total) => seen.push([file, done, total]),
    })
    const quiet = loadCluster([{ file: 'big.yaml', text }], { validate: 'strict' })
    expect(JSON.stringify(told.cluster)).toBe(JSON.stringify(quiet.cluster))
    expect(JSON.stringify(told.diagnostics)).toBe(JSON.stringify(quiet.diagnostics))
    expect(seen.length).toBeGreaterThanOrEqual(30)
    expect(seen.every(([f, , total]) => f === 'big.yaml' && total === text.length)).toBe(true)
    const dones = seen.map(([, done]) => done)
    expect(dones).toEqual([...dones].sort((a, b) => a - b))
    expect(dones.at(-1)).toBe(text.length)
  })
})
