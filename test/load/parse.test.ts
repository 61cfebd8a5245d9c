import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { parseDocuments } from '../../src/load/index.js'
import type { Diagnostic, FieldPath, JsonObject } from '../../src/model/index.js'

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')

const codes = (ds: readonly Diagnostic[]): string[] => ds.map((d) => d.code)
const names = (values: readonly JsonObject[]): string[] =>
  values.map((v) => `${String(v.kind)}/${String((v.metadata as JsonObject | undefined)?.name)}`)

interface ParseCase {
  readonly name: string
  readonly text: string | Uint8Array
  readonly objects: readonly string[]
  readonly codes: readonly string[]
}

const pod = (name: string): string => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n`

const cases: ParseCase[] = [
  {
    name: 'multi-document YAML gives one object per document, in order',
    text: `${pod('a')}---\n${pod('b')}---\n${pod('c')}`,
    objects: ['Pod/a', 'Pod/b', 'Pod/c'],
    codes: [],
  },
  {
    name: 'empty documents and comment-only documents are skipped',
    text: `---\n# nothing here\n---\n${pod('a')}---\n---\n`,
    objects: ['Pod/a'],
    codes: [],
  },
  {
    name: 'an empty file gives no objects and no diagnostics',
    text: '',
    objects: [],
    codes: [],
  },
  {
    name: 'a JSON file is YAML',
    text: JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } }, null, 2),
    objects: ['Namespace/x'],
    codes: [],
  },
  {
    name: 'kind: List items are flattened',
    text: `apiVersion: v1\nkind: List\nitems:\n- ${pod('a').trimEnd().replace(/\n/g, '\n  ')}\n- ${pod('b').trimEnd().replace(/\n/g, '\n  ')}\n`,
    objects: ['Pod/a', 'Pod/b'],
    codes: [],
  },
  {
    name: 'a List inside a List is flattened too, in the order of kubectl (FlattenListVisitor: a queue)',
    text: `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - ${pod('a').trimEnd().replace(/\n/g, '\n    ')}\n  - apiVersion: v1\n    kind: PodList\n    items:\n    - metadata: {name: b}\n- ${pod('c').trimEnd().replace(/\n/g, '\n  ')}\n`,
    objects: ['Pod/c', 'Pod/a', 'Pod/b'],
    codes: [],
  },
  {
    name: 'Lists nested 90 deep (180 levels, inside the depth limit) are flattened',
    text: `${'{"apiVersion":"v1","kind":"List","items":['.repeat(90)}${JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'deep' } })}${']}'.repeat(90)}`,
    objects: ['Pod/deep'],
    codes: [],
  },
  {
    name: 'items of a typed list without their own type take it from the list',
    text: JSON.stringify({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicyList',
      items: [{ metadata: { name: 'p1', namespace: 'a' }, spec: { podSelector: {} } }],
    }),
    objects: ['NetworkPolicy/p1'],
    codes: [],
  },
  {
    name: 'a kubectl dump with status, managedFields and resourceVersion loads every item',
    text: fixture('kubectl-dump.yaml'),
    objects: ['Pod/web-7d4b9c-x2x9z', 'Pod/migrate-abc12', 'NetworkPolicy/deny-all'],
    codes: [],
  },
  {
    name: 'malformed YAML gives yaml.syntax and the other documents still load',
    text: `${pod('a')}---\nkind: Pod\nmetadata: {name: [b\n---\n${pod('c')}`,
    objects: ['Pod/a', 'Pod/c'],
    codes: ['yaml.syntax'],
  },
  {
    name: 'an unterminated quoted string does not swallow the next document (split like kubectl)',
    text: `apiVersion: v1\nkind: Pod\nmetadata:\n  name: 'broken\n---\n${pod('after')}`,
    objects: ['Pod/after'],
    codes: ['yaml.syntax'],
  },
  {
    name: 'a document that is a list is not an object',
    text: `- a\n- b\n---\n${pod('a')}`,
    objects: ['Pod/a'],
    codes: ['load.not-an-object'],
  },
  {
    name: 'a document without kind is not an object',
    text: `apiVersion: v1\nmetadata:\n  name: x\n---\n${pod('a')}`,
    objects: ['Pod/a'],
    codes: ['load.not-an-object'],
  },
  {
    name: 'a document without apiVersion is not an object',
    text: `kind: Pod\nmetadata:\n  name: x\n`,
    objects: [],
    codes: ['load.not-an-object'],
  },
  {
    name: 'a duplicate key keeps the document, last value wins, and is reported',
    text: fixture('seed-001-duplicate-name.yaml'),
    objects: ['NetworkPolicy/testing', 'NetworkPolicy/namespace-allow'],
    codes: ['schema.duplicate-key'],
  },
  {
    name: 'NUL bytes are binary junk',
    text: new Uint8Array([0x7f, 0x45, 0x4c, 0x46, 0x02, 0x01, 0x01, 0x00, 0x00]),
    objects: [],
    codes: ['load.binary'],
  },
  {
    name: 'invalid UTF-8 is binary junk',
    text: new Uint8Array([0x6b, 0x69, 0x6e, 0x64, 0x3a, 0x20, 0xc3, 0x28, 0x0a]),
    objects: [],
    codes: ['load.binary'],
  },
  {
    name: 'UTF-8 bytes with a byte order mark load',
    text: new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode(pod('bom'))]),
    objects: ['Pod/bom'],
    codes: [],
  },
  {
    name: 'UTF-16 with a byte order mark loads, as kubectl reads it',
    text: utf16le(pod('wide')),
    objects: ['Pod/wide'],
    codes: [],
  },
]

function utf16le(text: string): Uint8Array {
  const out = new Uint8Array(2 + text.length * 2)
  out[0] = 0xff
  out[1] = 0xfe
  for (let i = 0; i < text.length; i++) {
    out[2 + i * 2] = text.charCodeAt(i) & 0xff
    out[3 + i * 2] = text.charCodeAt(i) >> 8
  }
  return out
}

describe('parseDocuments', () => {
  it.each(cases)('$name', ({ text, objects, codes: expected }) => {
    const r = parseDocuments({ file: 'in.yaml', text })
    expect(names(r.value.map((o) => o.value))).toEqual(objects)
    expect(codes(r.diagnostics)).toEqual(expected)
  })

  it('reports a duplicate key inside a List inside a List on its object, with the path inside it', () => {
    const text = `apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: List\n  items:\n  - apiVersion: v1\n    kind: Pod\n    metadata:\n      name: a\n      name: b\n`
    const r = parseDocuments({ file: 'in.yaml', text })
    expect(names(r.value.map((o) => o.value))).toEqual(['Pod/b'])
    expect(r.diagnostics).toMatchObject([
      { code: 'schema.duplicate-key', object: 'Pod b', path: ['metadata', 'name'], source: { line: 11 } },
    ])
  })

  it('reports a duplicate key in kubectl words at the second key', () => {
    const r = parseDocuments({ file: 'seed-001.yaml', text: fixture('seed-001-duplicate-name.yaml') })
    const d = r.diagnostics[0]
    expect(d).toMatchObject({
      code: 'schema.duplicate-key',
      message: 'mapping key "name" already defined at line 5',
      object: 'NetworkPolicy testing',
      path: ['metadata', 'name'],
      source: { file: 'seed-001.yaml', line: 6, column: 3, doc: 0 },
    })
  })

  it('gives yaml.syntax with the line and column of the problem', () => {
    const r = parseDocuments({
      file: 'bad.yaml',
      text: `${pod('a')}---\napiVersion: v1\nkind: Pod\n  bad: [\n`,
    })
    const d = r.diagnostics.find((x) => x.code === 'yaml.syntax')
    expect(d?.source).toMatchObject({ file: 'bad.yaml', doc: 1 })
    expect(d?.source?.line).toBeGreaterThanOrEqual(7)
    expect(d?.message).toMatch(/document 2 skipped/)
  })

  it('refuses input over the size limit without parsing it', () => {
    const text = `${pod('a')}# ${'x'.repeat(2000)}\n`
    const r = parseDocuments({ file: 'big.yaml', text }, { maxBytes: 1024 })
    expect(codes(r.diagnostics)).toEqual(['load.too-large'])
    expect(r.value).toEqual([])
    expect(parseDocuments({ file: 'big.yaml', text }, { maxBytes: 4096 }).value).toHaveLength(1)
  })

  it('counts the limit in UTF-8 bytes, not characters', () => {
    const text = `${pod('a')}# ${'é'.repeat(600)}\n`
    expect(text.length).toBeLessThan(1024)
    expect(codes(parseDocuments({ file: 'x', text }, { maxBytes: 1024 }).diagnostics)).toEqual([
      'load.too-large',
    ])
  })

  it('refuses a 33 MiB input with the default limit', () => {
    const r = parseDocuments({ file: 'huge.yaml', text: new Uint8Array(33 * 1024 * 1024) })
    expect(codes(r.diagnostics)).toEqual(['load.too-large'])
  })

  it('stops a YAML alias bomb with an error instead of hanging', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i)
      const cur = String.fromCharCode(97 + i)
      levels.push(`${cur}: &${cur} [${new Array(9).fill(`*${prev}`).join(',')}]`)
    }
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\ndata:\n${levels.map((l) => `  ${l}`).join('\n')}\n---\n${pod('after')}`
    const started = Date.now()
    const r = parseDocuments({ file: 'bomb.yaml', text })
    expect(Date.now() - started).toBeLessThan(5000)
    expect(codes(r.diagnostics)).toEqual(['yaml.alias-limit'])
    expect(names(r.value.map((o) => o.value))).toEqual(['Pod/after'])
  })

  it.each([
    { name: 'never defined', data: '  port: *a\n', line: 5 },
    { name: 'defined after the alias', data: '  port: *a\n  other: &a 80\n', line: 5 },
    { name: 'in a flow collection', data: '  ports: [80, *a]\n', line: 5 },
  ])('an alias to an anchor $name is yaml.unknown-anchor at its line, in go-yaml words', ({ data, line }) => {
    const text = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n${data}---\n${pod('after')}`
    const r = parseDocuments({ file: 'alias.yaml', text })
    expect(r.diagnostics).toMatchObject([
      {
        code: 'yaml.unknown-anchor',
        severity: 'error',
        message: "unknown anchor 'a' referenced (document 1 skipped)",
        source: { file: 'alias.yaml', line, doc: 0 },
      },
    ])
    expect(names(r.value.map((o) => o.value))).toEqual(['Pod/after'])
  })

  it('resolves anchors, aliases and merge keys', () => {
    const text = [
      'apiVersion: v1',
      'kind: Pod',
      'metadata:',
      '  name: m',
      '  labels: &l {app: web, tier: front}',
      '  annotations:',
      '    <<: *l',
      '    extra: "1"',
    ].join('\n')
    const [o] = parseDocuments({ file: 'x', text }).value
    expect(o?.value.metadata).toEqual({
      name: 'm',
      labels: { app: 'web', tier: 'front' },
      annotations: { app: 'web', tier: 'front', extra: '1' },
    })
    expect(o?.locate(['metadata', 'annotations', 'tier'])).toMatchObject({ line: 5 })
  })

  it('reads YAML 1.1 scalars as kubectl does: yes is true, timestamps stay strings', () => {
    const text = `${pod('a')}  labels:\n    on: yes\n  creationTimestamp: 2024-05-01T10:00:00Z\n`
    const [o] = parseDocuments({ file: 'x', text }).value
    expect(o?.value.metadata).toMatchObject({
      labels: { true: true },
      creationTimestamp: '2024-05-01T10:00:00Z',
    })
  })
})

interface LocateCase {
  readonly name: string
  readonly path: FieldPath
  readonly line: number
  readonly column: number
}

const locateCases: LocateCase[] = [
  { name: 'the object itself starts at apiVersion', path: [], line: 2, column: 1 },
  { name: 'spec.ingress[0] is the rule item', path: ['spec', 'ingress', 0], line: 12, column: 7 },
  {
    name: 'spec.ingress[0].ports[0].protocol is its key',
    path: ['spec', 'ingress', 0, 'ports', 0, 'protocol'],
    line: 16,
    column: 11,
  },
  {
    name: 'spec.ingress[0].ports[1].port is a named port',
    path: ['spec', 'ingress', 0, 'ports', 1, 'port'],
    line: 17,
    column: 11,
  },
  {
    name: 'a flow sequence item has its own column',
    path: ['spec', 'egress', 0, 'to', 0, 'ipBlock', 'except', 0],
    line: 22,
    column: 22,
  },
  {
    name: 'a missing field falls back to its closest ancestor',
    path: ['spec', 'ingress', 0, 'ports', 1, 'protocol'],
    line: 17,
    column: 11,
  },
  { name: 'an index past the end falls back to the list', path: ['spec', 'ingress', 3], line: 11, column: 3 },
]

describe('RawObject.locate', () => {
  const [policy] = parseDocuments({ file: 'ports-policy.yaml', text: fixture('ports-policy.yaml') }).value
  it.each(locateCases)('$name', ({ path, line, column }) => {
    expect(policy?.locate(path)).toEqual({ file: 'ports-policy.yaml', line, column, doc: 0 })
  })

  it('gives list items their own positions', () => {
    const objects = parseDocuments({ file: 'dump.yaml', text: fixture('kubectl-dump.yaml') }).value
    const np = objects[2]
    expect(np?.source).toMatchObject({ line: 81, column: 5 })
    expect(np?.locate(['spec', 'policyTypes', 0])).toMatchObject({ line: 96, column: 11 })
    expect(objects[0]?.locate(['status', 'podIPs', 1, 'ip'])).toMatchObject({ line: 64, column: 11 })
  })

  it('locates fields of items written as kubectl prints them (sequences not indented)', () => {
    const text = [
      'apiVersion: v1',
      'kind: List',
      'items:',
      '- apiVersion: v1',
      '  kind: Pod',
      '  metadata:',
      '    name: a',
      '  status:',
      '    podIPs:',
      '    - ip: 10.0.0.1',
      '    - ip: fd00::1',
    ].join('\n')
    const [item] = parseDocuments({ file: 'k.yaml', text }).value
    expect(item?.source).toEqual({ file: 'k.yaml', line: 4, column: 3, doc: 0 })
    expect(item?.locate(['status', 'podIPs', 1, 'ip'])).toEqual({
      file: 'k.yaml',
      line: 11,
      column: 7,
      doc: 0,
    })
    expect(item?.locate(['metadata', 'name'])).toEqual({ file: 'k.yaml', line: 7, column: 5, doc: 0 })
  })

  it('places objects of later documents on their own lines', () => {
    const objects = parseDocuments({ file: 's.yaml', text: fixture('seed-000-default-deny.yaml') }).value
    expect(objects.map((o) => [o.source.line, o.source.doc])).toEqual([
      [3, 0],
      [10, 1],
      [25, 2],
    ])
    expect(objects[1]?.locate(['spec', 'ingress', 0, 'from', 0, 'podSelector'])).toMatchObject({
      line: 21,
      column: 11,
    })
  })
})

describe('lists inside lists', () => {
  const text = [
    'apiVersion: v1', //                      1
    'kind: List', //                          2
    'items:', //                              3
    '- apiVersion: v1', //                    4  a
    '  kind: Pod',
    '  metadata: {name: a}',
    '- apiVersion: v1', //                    7  a List inside the List
    '  kind: List',
    '  items:',
    '  - apiVersion: v1', //                  10 b
    '    kind: Pod',
    '    metadata:',
    '      name: b',
    '      name: b2', //                      14 a duplicate key of b
    '  - apiVersion: networking.k8s.io/v1', // 15 a typed list inside the List inside the List
    '    kind: NetworkPolicyList',
    '    items:',
    '    - metadata: {name: deny, namespace: x}', // 18
    '      spec: {podSelector: {}}',
    '- apiVersion: v1', //                    20 c
    '  kind: Pod',
    '  metadata: {name: c}',
  ].join('\n')
  const parsed = parseDocuments({ file: 'l.yaml', text })

  it("flattens them in kubectl's order: a list's own items, then those of the lists inside it", () => {
    expect(names(parsed.value.map((o) => o.value))).toEqual([
      'Pod/a',
      'Pod/c',
      'Pod/b2',
      'NetworkPolicy/deny',
    ])
  })

  it('gives nested items their own positions', () => {
    expect(parsed.value.map((o) => o.source.line)).toEqual([4, 20, 10, 18])
    expect(parsed.value[3]?.locate(['spec', 'podSelector'])).toMatchObject({ line: 19, column: 14 })
  })

  it('ties a duplicate key inside a nested item to that item, with its own path', () => {
    expect(parsed.diagnostics).toMatchObject([
      { code: 'schema.duplicate-key', object: 'Pod b2', path: ['metadata', 'name'], source: { line: 14 } },
    ])
  })

  it('reports items that are not objects at their path inside the nested list', () => {
    const r = parseDocuments({
      file: 'l.json',
      text: JSON.stringify({
        apiVersion: 'v1',
        kind: 'List',
        items: [{ apiVersion: 'v1', kind: 'List', items: [7] }],
      }),
    })
    expect(r.diagnostics).toMatchObject([{ code: 'load.not-an-object', path: ['items', 0, 'items', 0] }])
  })
})

describe('JSON documents', () => {
  const json = [
    '{',
    '  "apiVersion": "v1",',
    '  "kind": "List",',
    '  "items": [',
    '    {',
    '      "apiVersion": "networking.k8s.io/v1",',
    '      "kind": "NetworkPolicy",',
    '      "metadata": { "name": "np", "namespace": "a\\u0062" },',
    '      "spec": { "podSelector": {}, "ingress": [ { "ports": [ { "port": 80, "protocol": "UDP" } ] } ] }',
    '    }',
    '  ]',
    '}',
  ].join('\n')

  it('reads a kubectl -o json List with positions for every field', () => {
    const r = parseDocuments({ file: 'dump.json', text: json })
    expect(r.diagnostics).toEqual([])
    const [np] = r.value
    expect(np?.value.metadata).toEqual({ name: 'np', namespace: 'ab' })
    expect(np?.source).toEqual({ file: 'dump.json', line: 5, column: 5, doc: 0 })
    expect(np?.locate(['metadata', 'namespace'])).toMatchObject({ line: 8, column: 35 })
    expect(np?.locate(['spec', 'ingress', 0, 'ports', 0, 'protocol'])).toMatchObject({ line: 9, column: 76 })
    expect(np?.locate(['spec', 'egress', 0])).toMatchObject({ line: 9, column: 7 })
  })

  it('reports a duplicate key in JSON, the last value winning', () => {
    const text = '{"apiVersion": "v1", "kind": "Pod",\n "metadata": {"name": "a",\n  "name": "b"}}'
    const r = parseDocuments({ file: 'x.json', text })
    expect(r.value[0]?.value.metadata).toEqual({ name: 'b' })
    expect(r.diagnostics).toMatchObject([
      {
        code: 'schema.duplicate-key',
        message: 'mapping key "name" already defined at line 2',
        path: ['metadata', 'name'],
        source: { line: 3, column: 3 },
      },
    ])
  })

  it('reads JSON-like text that JSON.parse refuses (a comment) as YAML', () => {
    const text = '{"apiVersion": "v1", # core\n "kind": "Pod", "metadata": {"name": "a"}}'
    const r = parseDocuments({ file: 'x.json', text })
    expect(r.diagnostics).toEqual([])
    expect(r.value[0]?.locate(['kind'])).toMatchObject({ line: 2, column: 2 })
  })

  it('reads JSON documents separated by --- like YAML ones', () => {
    const one = (n: string): string =>
      JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: n } })
    const r = parseDocuments({ file: 'x', text: `${one('a')}\n---\n${one('b')}\n` })
    expect(r.value.map((o) => [o.source.line, o.source.doc])).toEqual([
      [1, 0],
      [3, 1],
    ])
  })
})
