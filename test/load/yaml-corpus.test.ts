import { describe, expect, it } from 'vitest'
import { parseFastDocument } from '../../src/load/fast-yaml.js'
import { parseInput } from '../../src/load/index.js'
import { parseJsonDocument } from '../../src/load/json-tree.js'
import { parseSimpleDocument } from '../../src/load/simple-yaml.js'
import type { DocContext } from '../../src/load/tree.js'
import { parseYamlChunk, readYamlDocument } from '../../src/load/yaml-tree.js'
import type { Diagnostic, JsonValue } from '../../src/model/index.js'
import { YAML_CORPUS } from './yaml-corpus.js'

const ctx: DocContext = { file: 'corpus.yaml', doc: 0, base: 0, lineStarts: [0] }

/** The exact path on one chunk: the value, or the diagnostics that skipped it. */
function readExact(text: string): { value?: JsonValue; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = []
  const reads = parseYamlChunk(text).map((doc) => readYamlDocument(doc, ctx, diagnostics))
  const [read] = reads
  return reads.length === 1 && read?.ok ? { value: read.value, diagnostics } : { diagnostics }
}

const isError = (k: unknown): k is { error: string } =>
  typeof k === 'object' && k !== null && !Array.isArray(k) && 'error' in k && Object.keys(k).length === 1

describe('the YAML corpus: every reader gives what kubectl gives, or declines', () => {
  it.each(YAML_CORPUS.map((e) => ({ ...e, label: e.name })))('$label', ({ yaml, kubectl }) => {
    const exact = readExact(yaml)
    const fast = parseFastDocument(yaml)
    const simple = parseSimpleDocument(yaml)
    const json = parseJsonDocument(yaml, ctx)
    if (isError(kubectl)) {
      expect(exact.value).toBeUndefined()
      const errors = exact.diagnostics.filter((d) => d.severity === 'error')
      expect(errors.map((d) => d.code)).toStrictEqual(['yaml.syntax'])
      expect(errors[0]?.message).toContain(kubectl.error)
      expect(fast).toBeUndefined()
      expect(simple).toBeUndefined()
      expect(json).toBeUndefined()
    } else {
      expect(exact.diagnostics).toStrictEqual([])
      expect(exact.value).toStrictEqual(kubectl)
      if (fast) expect(fast.value).toStrictEqual(kubectl)
      if (simple) expect(simple.value).toStrictEqual(kubectl)
      if (json) expect(json.value).toStrictEqual(kubectl)
    }
  })

  it('the corpus reaches the fast readers too (the comparison means something)', () => {
    const taken = YAML_CORPUS.filter((e) => !isError(e.kubectl))
    expect(taken.filter((e) => parseFastDocument(e.yaml)).length).toBeGreaterThan(10)
    expect(taken.filter((e) => parseSimpleDocument(e.yaml)).length).toBeGreaterThan(5)
  })
})

describe('positions survive the re-indentation of lenient forms', () => {
  it('a field after a re-indented flow sequence is found on its own line', () => {
    const text =
      'apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: web\n    args: ["--port",\n  "80"]\n    image: x\n    ports:\n    - containerPort: 99999\n'
    const parsed = parseInput({ file: 'p.yaml', text })
    expect(parsed.diagnostics).toStrictEqual([])
    const [obj] = parsed.objects
    expect(obj?.object.value.spec).toStrictEqual({
      containers: [{ name: 'web', args: ['--port', '80'], image: 'x', ports: [{ containerPort: 99999 }] }],
    })
    expect(obj?.object.locate(['spec', 'containers', 0, 'ports', 0, 'containerPort'])).toStrictEqual({
      file: 'p.yaml',
      line: 12,
      column: 7,
      doc: 0,
    })
    expect(obj?.object.locate(['spec', 'containers', 0, 'args', 1])).toMatchObject({ line: 9, column: 3 })
  })

  it('a go-yaml refusal names its line', () => {
    const parsed = parseInput({ file: 'p.yaml', text: 'apiVersion: v1\nkind: Pod\nmetadata:\n  name:\tp\n' })
    expect(parsed.objects).toStrictEqual([])
    expect(parsed.diagnostics).toMatchObject([
      {
        code: 'yaml.syntax',
        message: 'found character that cannot start any token (document 1 skipped)',
        source: { file: 'p.yaml', line: 4, column: 8 },
      },
    ])
  })
})
