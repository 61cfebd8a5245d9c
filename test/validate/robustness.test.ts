// Bad input never throws from the core: any JSON under any supported kind yields diagnostics, not exceptions.
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import type { JsonObject } from '../../src/model/index.js'
import { rawFromValue } from '../../src/model/index.js'
import { byteLength } from '../../src/validate/apimachinery.js'
import { SUPPORTED_KINDS, validateObject } from '../../src/validate/index.js'

const pairs = [...SUPPORTED_KINDS].map((p) => {
  const slash = p.lastIndexOf('/')
  return { apiVersion: p.slice(0, slash), kind: p.slice(slash + 1) }
})

/** JSON values biased towards the field names validation looks at. */
const key = fc.constantFrom(
  'spec',
  'metadata',
  'ingress',
  'egress',
  'from',
  'to',
  'ports',
  'port',
  'endPort',
  'protocol',
  'ipBlock',
  'cidr',
  'except',
  'podSelector',
  'namespaceSelector',
  'matchLabels',
  'matchExpressions',
  'operator',
  'values',
  'key',
  'policyTypes',
  'containers',
  'name',
  'containerPort',
  'selector',
  'template',
  'labels',
  'jobTemplate',
  'x',
)
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    fc.constant(null),
    fc.boolean(),
    fc.integer({ min: -5, max: 70000 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }),
    fc.constantFrom('', 'tcp', 'TCP', 'In', 'Exists', '10.0.0.0/8', '10.0.0.0/33', 'http', 'a b', '::/0'),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(key, tie('value'), { maxKeys: 4 }),
  ),
})).value

describe('robustness', () => {
  it('validateObject returns diagnostics and never throws for arbitrary content', () => {
    fc.assert(
      fc.property(fc.constantFrom(...pairs), fc.dictionary(key, json, { maxKeys: 4 }), (pair, body) => {
        const value = { ...(body as JsonObject), apiVersion: pair.apiVersion, kind: pair.kind }
        const diags = validateObject(rawFromValue(value, { file: 'fuzz.yaml' }))
        for (const d of diags) {
          expect(d.code).toMatch(/^(schema|decode|validate)\.[a-z-]+$/)
          expect(d.message.length).toBeGreaterThan(0)
        }
      }),
      { numRuns: 2000 },
    )
  })
})

describe('byteLength counts UTF-8 bytes like Go len() and TextEncoder', () => {
  it('agrees with TextEncoder on random strings (including lone surrogates)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        expect(byteLength(s)).toBe(new TextEncoder().encode(s).length)
      }),
      { numRuns: 1000 },
    )
  })
})
