/**
 * loadCluster's mode semantics, with a stand-in validator so that each row controls exactly which
 * diagnostics the validator returns (the real one is exercised in pipeline-seeds.test.ts).
 */
import { describe, expect, it, vi } from 'vitest'
import type { Diagnostic, JsonObject, RawObject } from '../../src/model/index.js'

vi.mock('../../src/validate/index.js', () => ({
  /** Unknown field when spec has `Ingress`; a value error when spec has `bad: true`. */
  validateObject: (raw: RawObject): Diagnostic[] => {
    const spec = raw.value.spec as JsonObject | undefined
    const out: Diagnostic[] = []
    if (spec && 'Ingress' in spec) {
      out.push({
        code: 'schema.unknown-field',
        severity: 'error',
        message: 'unknown field "spec.Ingress"',
        path: ['spec', 'Ingress'],
      })
    }
    if (spec?.bad === true) {
      out.push({
        code: 'validate.invalid-value',
        severity: 'error',
        message: 'Invalid value: true',
        path: ['spec', 'bad'],
      })
    }
    if (raw.value.kind === 'NetworPolicy') {
      out.push({
        code: 'validate.unknown-kind',
        severity: 'error',
        message: 'no matches for kind "NetworPolicy"',
        path: ['kind'],
      })
    }
    return out
  },
}))

const { loadCluster } = await import('../../src/load/index.js')

const policy = (name: string, spec: string, extraMeta = ''): string =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\n  namespace: ns${extraMeta}\nspec:\n  podSelector: {}\n${spec}`

const unknownField = policy('unknown', '  Ingress:\n  - {}\n')
const badValue = policy('bad', '  bad: true\n')
const duplicateKey = policy('dup', '', '\n  namespace: other')
const fine = policy('fine', '')
const typo = policy('typo', '').replace('kind: NetworkPolicy', 'kind: NetworPolicy')

type Mode = 'strict' | 'warn' | 'ignore'

interface ModeCase {
  readonly name: string
  readonly mode: Mode
  readonly text: string
  /** 'namespace/name' of the policies in the cluster. */
  readonly policies: readonly string[]
  /** code:severity of every diagnostic that is not info. */
  readonly diagnostics: readonly string[]
}

const cases: ModeCase[] = [
  {
    name: 'strict: an unknown field is an error and the object is left out',
    mode: 'strict',
    text: unknownField,
    policies: [],
    diagnostics: ['schema.unknown-field:error', 'load.rejected:error'],
  },
  {
    name: 'warn: an unknown field is a warning and the object is kept',
    mode: 'warn',
    text: unknownField,
    policies: ['ns/unknown'],
    diagnostics: ['schema.unknown-field:warning', 'load.implied-namespace:warning'],
  },
  {
    name: 'ignore: an unknown field is dropped silently and the object is kept',
    mode: 'ignore',
    text: unknownField,
    policies: ['ns/unknown'],
    diagnostics: ['load.implied-namespace:warning'],
  },
  {
    name: 'strict: a duplicate key is an error and the object is left out',
    mode: 'strict',
    text: duplicateKey,
    policies: [],
    diagnostics: ['schema.duplicate-key:error', 'load.rejected:error'],
  },
  {
    name: 'warn: a duplicate key is a warning and the last value wins',
    mode: 'warn',
    text: duplicateKey,
    policies: ['other/dup'],
    diagnostics: ['schema.duplicate-key:warning', 'load.implied-namespace:warning'],
  },
  {
    name: 'ignore: a duplicate key is dropped and the last value wins',
    mode: 'ignore',
    text: duplicateKey,
    policies: ['other/dup'],
    diagnostics: ['load.implied-namespace:warning'],
  },
  {
    name: 'ignore: a value error still rejects the object (the API server would)',
    mode: 'ignore',
    text: badValue,
    policies: [],
    diagnostics: ['validate.invalid-value:error', 'load.rejected:error'],
  },
  {
    name: 'a misspelt kind rejects the object',
    mode: 'warn',
    text: typo,
    policies: [],
    diagnostics: ['validate.unknown-kind:error', 'load.rejected:error'],
  },
  {
    name: 'a rejected object does not stop its neighbours in the same file',
    mode: 'strict',
    text: [badValue, fine, unknownField].join('---\n'),
    policies: ['ns/fine'],
    diagnostics: [
      'validate.invalid-value:error',
      'load.rejected:error',
      'schema.unknown-field:error',
      'load.rejected:error',
      'load.implied-namespace:warning',
    ],
  },
  {
    name: 'a rejected later definition leaves the earlier one in place',
    mode: 'strict',
    text: [policy('same', ''), policy('same', '  bad: true\n')].join('---\n'),
    policies: ['ns/same'],
    diagnostics: ['validate.invalid-value:error', 'load.rejected:error', 'load.implied-namespace:warning'],
  },
  {
    name: 'a later valid definition replaces the earlier one with a warning',
    mode: 'strict',
    text: [policy('same', ''), policy('same', '')].join('---\n'),
    policies: ['ns/same'],
    diagnostics: ['load.duplicate-object:warning', 'load.implied-namespace:warning'],
  },
]

const summary = (ds: readonly Diagnostic[]): string[] =>
  ds.filter((d) => d.severity !== 'info').map((d) => `${d.code}:${d.severity}`)

describe('loadCluster: validation modes', () => {
  it.each(cases)('$name', ({ mode, text, policies, diagnostics }) => {
    const loaded = loadCluster([{ file: 'in.yaml', text }], { validate: mode })
    expect(loaded.cluster.policies.map((p) => `${p.namespace}/${p.name}`)).toEqual(policies)
    expect(summary(loaded.diagnostics)).toEqual(diagnostics)
  })

  it('names the object and its source on validator diagnostics and on the rejection', () => {
    const loaded = loadCluster([{ file: 'x.yaml', text: `${fine}---\n${unknownField}` }], {
      validate: 'strict',
    })
    const [unknown, rejected] = loaded.diagnostics
    expect(unknown).toMatchObject({
      object: 'NetworkPolicy ns/unknown',
      path: ['spec', 'Ingress'],
      source: { file: 'x.yaml', line: 16, column: 3, doc: 1 },
    })
    expect(rejected).toMatchObject({
      code: 'load.rejected',
      object: 'NetworkPolicy ns/unknown',
      source: { file: 'x.yaml', line: 9, column: 1, doc: 1 },
    })
    expect(rejected?.message).toMatch(
      /^NetworkPolicy ns\/unknown was left out: the API server would reject it/,
    )
  })

  it('returns every accepted object, of any kind, and only those', () => {
    const text = [fine, badValue, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n'].join('---\n')
    const loaded = loadCluster([{ file: 'in.yaml', text }], { validate: 'strict' })
    expect(loaded.objects.map((o) => o.value.kind)).toEqual(['NetworkPolicy', 'ConfigMap'])
  })

  it('loads several inputs into one cluster and keeps file-level problems as diagnostics', () => {
    const loaded = loadCluster(
      [
        { file: 'a.yaml', text: fine },
        { file: 'b.bin', text: new Uint8Array([1, 0, 2]) },
        { file: 'c.yaml', text: policy('other', '') },
        { file: 'd.yaml', text: 'x'.repeat(2048) },
      ],
      { validate: 'strict', maxBytes: 1024 },
    )
    expect(loaded.cluster.policies.map((p) => p.name)).toEqual(['fine', 'other'])
    expect(
      loaded.diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.source?.file]),
    ).toEqual([
      ['load.binary', 'b.bin'],
      ['load.too-large', 'd.yaml'],
    ])
  })
})
