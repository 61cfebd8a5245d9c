// The fuzzer's oracle of API-server decoding (src/fuzz/api-types.ts): one row per Go decoding rule.
import { describe, expect, it } from 'vitest'
import { decodeObject, decodeProblems, type GoType, isQuantity, isRFC3339 } from '../../src/fuzz/api-types.js'
import type { JsonValue } from '../../src/model/index.js'

const T = (k: 'string' | 'bool' | 'int32' | 'int64' | 'intstr' | 'quantity' | 'time'): GoType => ({ k })

const rows: { name: string; type: GoType; value: JsonValue; ok: boolean }[] = [
  { name: 'an int32 takes an integer', type: T('int32'), value: 80, ok: true },
  { name: 'an int32 refuses a fraction (80.5)', type: T('int32'), value: 80.5, ok: false },
  { name: 'an int32 refuses a numeric string', type: T('int32'), value: '80', ok: false },
  { name: 'an int32 refuses 2^31', type: T('int32'), value: 2 ** 31, ok: false },
  { name: 'an int32 takes -2^31', type: T('int32'), value: -(2 ** 31), ok: true },
  { name: 'an int32 takes -0 (JSON "-0" parses as 0)', type: T('int32'), value: -0, ok: true },
  { name: 'an int64 refuses 2^63', type: T('int64'), value: 2 ** 63, ok: false },
  { name: 'an int64 takes 2^53', type: T('int64'), value: 2 ** 53, ok: true },
  { name: 'a string refuses a number', type: T('string'), value: 7, ok: false },
  { name: 'a string refuses a boolean', type: T('string'), value: true, ok: false },
  { name: 'a bool refuses "true"', type: T('bool'), value: 'true', ok: false },
  { name: 'null is absent for every type', type: T('int32'), value: null, ok: true },
  { name: 'an IntOrString takes a name', type: T('intstr'), value: 'http', ok: true },
  { name: 'an IntOrString refuses 80.5', type: T('intstr'), value: 80.5, ok: false },
  { name: 'an IntOrString refuses a boolean', type: T('intstr'), value: false, ok: false },
  { name: 'a quantity takes 500m', type: T('quantity'), value: '500m', ok: true },
  { name: 'a quantity takes a number', type: T('quantity'), value: 0.25, ok: true },
  { name: 'a quantity refuses abc', type: T('quantity'), value: 'abc', ok: false },
  { name: 'a quantity refuses a boolean', type: T('quantity'), value: true, ok: false },
  { name: 'a time takes RFC 3339', type: T('time'), value: '2024-05-01T10:20:30Z', ok: true },
  { name: 'a time refuses a date alone', type: T('time'), value: '2024-05-01', ok: false },
  { name: 'a time refuses a number', type: T('time'), value: 1600000000, ok: false },
  { name: 'a struct refuses a string', type: { k: 'struct', fields: {} }, value: 'text', ok: false },
  {
    name: 'a struct drops unknown fields',
    type: { k: 'struct', fields: {} },
    value: { unknown: 1 },
    ok: true,
  },
  {
    name: 'a slice refuses a mapping',
    type: { k: 'slice', items: T('string') },
    value: { a: 'x' },
    ok: false,
  },
  { name: 'a map checks its values', type: { k: 'map', values: T('string') }, value: { a: 1 }, ok: false },
]

describe('API-server decoding model', () => {
  it.each(rows)('$name', ({ type, value, ok }) => {
    expect(decodeProblems(type, value).length === 0).toBe(ok)
  })

  it.each([
    ['1Gi', true],
    ['1.5', true],
    ['1e3', true],
    ['1E-2', true],
    [' 2Mi ', true],
    ['.5', true],
    ['1.G', true],
    ['', false],
    ['1Gb', false],
    ['1.5.5', false],
    ['--1', false],
    ['1e', false],
    ['12Ki3', false],
  ] as const)('quantity %j: %s (resource.ParseQuantity)', (text, ok) => {
    expect(isQuantity(text)).toBe(ok)
  })

  it.each([
    ['2024-05-01T10:20:30Z', true],
    ['2024-05-01T10:20:30.123+02:00', true],
    ['2024-02-29T00:00:00Z', true],
    ['2023-02-29T00:00:00Z', false],
    ['2024-13-01T00:00:00Z', false],
    ['2024-05-01t10:20:30z', false],
    ['2024-05-01 10:20:30Z', false],
    ['2024-05-01T24:00:00Z', false],
  ] as const)('time %j: %s (time.Parse RFC3339)', (text, ok) => {
    expect(isRFC3339(text)).toBe(ok)
  })

  it('finds the paths of a Pod the API server cannot decode, and nothing in a clean one', () => {
    const pod = {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'a', namespace: 'x', labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'i', ports: [{ containerPort: 80 }] }] },
      status: { podIP: '10.0.0.1' },
    }
    expect(decodeObject(pod)).toEqual([])
    const bad = { ...pod, metadata: { ...pod.metadata, namespace: 7 }, status: 's' }
    expect(
      decodeObject(bad)
        ?.map((p) => p.path.join('.'))
        .sort(),
    ).toEqual(['metadata.namespace', 'status'])
  })

  it('judges only the kinds it models', () => {
    expect(decodeObject({ apiVersion: 'v1', kind: 'ConfigMap', data: 7 })).toBeUndefined()
  })
})
