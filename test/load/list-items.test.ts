/**
 * A List as kubectl prints it is read item by item (docs/semantics.md#list-items): the same objects,
 * positions and diagnostics as reading the whole document, and a broken item loses only itself.
 */
import fc from 'fast-check'
import { dump } from 'js-yaml'
import { describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { KUBECTL_DUMP_HEAD, KUBECTL_DUMP_TAIL, kubectlDumpPod } from '../../src/gen/kubectl-dump.js'
import { realisticManifests } from '../../src/gen/realistic-cluster.js'
import { parseInput } from '../../src/load/index.js'
import { findListLayout } from '../../src/load/list-items.js'
import type { JsonObject } from '../../src/model/index.js'
import { observe } from './observe.js'

const realistic = realisticManifests({ pods: 60, policies: 20, seed: 11 })

/** kubectl's layout: the items' sequence at the column of its key (no anchors: objects repeated are copies). */
const kubectlYaml = (v: unknown): string => stringify(v, { indentSeq: false, aliasDuplicateObjects: false })

/** Reading item by item gives exactly what reading the whole document gives, on both reader paths. */
function expectSameAsWhole(text: string): void {
  for (const exact of [false, true]) {
    const items = observe(parseInput({ file: 'in.yaml', text }, { exact }))
    const whole = observe(parseInput({ file: 'in.yaml', text }, { exact, wholeLists: true }))
    expect(items).toStrictEqual(whole)
  }
}

/** The layout of the text's first document when it is read item by item. */
function layoutOf(text: string): ReturnType<typeof findListLayout> {
  const lineStarts = [0]
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) lineStarts.push(i + 1)
  return findListLayout(text, 0, lineStarts, 0)
}

const split = (text: string): boolean => layoutOf(text) !== undefined

const list = (items: unknown[], kind = 'List', extra: JsonObject = {}) => ({
  apiVersion: 'v1',
  items,
  kind,
  metadata: { resourceVersion: '' },
  ...extra,
})

describe('a List read item by item', () => {
  it('a kubectl dump: same objects, positions and diagnostics as read whole', () => {
    const text = `${KUBECTL_DUMP_HEAD}${Array.from({ length: 12 }, (_, i) => kubectlDumpPod(i)).join('')}${KUBECTL_DUMP_TAIL}`
    expect(split(text)).toBe(true)
    expectSameAsWhole(text)
    expect(parseInput({ file: 'in.yaml', text }).objects).toHaveLength(12)
  })

  it.each([
    ['yaml', (v: unknown) => kubectlYaml(v)],
    ['js-yaml', (v: unknown) => dump(v, { noArrayIndent: true, noRefs: true })],
    ['yaml, CRLF', (v: unknown) => kubectlYaml(v).replace(/\n/g, '\r\n')],
  ])('a realistic cluster as one List (%s): the same as read whole', (_, write) => {
    const text = write(list(realistic))
    expect(split(text)).toBe(true)
    expectSameAsWhole(text)
  })

  it('typed lists, Lists among the items, items that are not objects or have no kind, duplicate keys', () => {
    const pods = realistic.filter((m) => m.kind === 'Pod').slice(0, 3)
    const untyped = pods.map(({ apiVersion: _a, kind: _k, ...rest }) => rest)
    const cases = [
      kubectlYaml(list(untyped, 'PodList')),
      kubectlYaml(list([pods[0], list([pods[1], pods[2]]), 'a string', { kind: 'Pod' }, pods[2]])),
      // a key twice in an item (its own diagnostic), and in the envelope (the document's): read whole
      `${kubectlYaml(list(pods)).replace('  kind: Pod\n', '  kind: Pod\n  kind: Pod\n')}`,
      `${kubectlYaml(list(pods))}kind: List\n`,
    ]
    for (const text of cases) expectSameAsWhole(text)
    expect(split(cases[0] as string)).toBe(true)
    expect(split(cases[1] as string)).toBe(true)
  })

  it('random Lists of realistic objects, nested Lists, typed Lists: the same as read whole', () => {
    const item = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...realistic) },
      { weight: 1, arbitrary: fc.constantFrom(...realistic).map((m) => list([m, m])) },
    )
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 8 }), fc.boolean(), (items, crlf) => {
        const text = kubectlYaml(list(items))
        expect(split(text)).toBe(true)
        expectSameAsWhole(crlf ? text.replace(/\n/g, '\r\n') : text)
      }),
      { numRuns: 40 },
    )
  })

  it('a broken item is left out with its own problem; its neighbours are read (read whole, all are lost)', () => {
    const pods = realistic.filter((m) => m.kind === 'Pod').slice(0, 3)
    const text = kubectlYaml(list(pods)).replace(
      /(\n- apiVersion: v1\n {2}kind: Pod\n)(?![\s\S]*\n- apiVersion: v1\n {2}kind: Pod\n[\s\S]*\n- )/,
      '$1  spec: [unclosed\n',
    )
    const broken = text.split('\n').findIndex((l) => l.includes('[unclosed')) + 1
    expect(broken).toBeGreaterThan(0)
    const items = parseInput({ file: 'in.yaml', text })
    const name = (o: JsonObject | undefined) => (o?.metadata as JsonObject | undefined)?.name
    expect(items.objects.map((o) => name(o.object.value))).toEqual([name(pods[0]), name(pods[2])])
    expect(items.diagnostics).toHaveLength(1)
    expect(items.diagnostics[0]).toMatchObject({
      code: 'yaml.syntax',
      severity: 'error',
      source: { file: 'in.yaml', doc: 0 },
    })
    expect(items.diagnostics[0]?.message).toMatch(/\(items\[1\] of document 1 skipped\)$/)
    expect(items.diagnostics[0]?.source?.line).toBeGreaterThanOrEqual(broken)
    expect(items.diagnostics[0]?.source?.line).toBeLessThanOrEqual(broken + 1)
    const whole = parseInput({ file: 'in.yaml', text }, { wholeLists: true })
    expect(whole.objects).toHaveLength(0)
    expect(whole.diagnostics[0]?.message).toMatch(/\(document 1 skipped\)$/)
  })

  it.each([
    ['items indented under their key', (t: string) => t.replace(/\n(?=[- ])/g, '\n  ')],
    ['a comment at the start of a line among the items', (t: string) => t.replace('\n- ', '\n# c\n- ')],
    ['an anchor and an alias', (t: string) => t.replace('\n- apiVersion: v1', '\n- apiVersion: &v v1')],
    ['a tab at the start of a line', (t: string) => t.replace('\n  kind: ', '\n\tkind: ')],
    [
      'a document marker that unindenting would make',
      (t: string) => t.replace('\n  kind: ', '\n  ---\n  kind: '),
    ],
    ['an envelope the simplest reader does not take', (t: string) => `${t}# a comment\n`],
  ])('%s: the List is read whole', (_, change) => {
    const pods = realistic.filter((m) => m.kind === 'Pod').slice(0, 2)
    const text = change(kubectlYaml(list(pods)))
    if (split(text)) {
      // Found by the scan, then refused on the envelope: the whole-document reading decides.
      expect(text.endsWith('# a comment\n')).toBe(true)
    }
    expectSameAsWhole(text)
  })
})
