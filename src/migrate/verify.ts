/** Deep comparison of manifest values, for the read-back check of rewritten files. */
import type { JsonValue } from '../model/index.js'

/**
 * Returns undefined when two values are equal (mapping key order aside), else the path of the first
 * difference ('' for the values themselves, 'spec.ingress[0]' inside them).
 */
export function sameValue(a: JsonValue, b: JsonValue): string | undefined {
  const stack: { a: JsonValue; b: JsonValue; path: string }[] = [{ a, b, path: '' }]
  while (stack.length > 0) {
    const { a: x, b: y, path } = stack.pop() as { a: JsonValue; b: JsonValue; path: string }
    if (x === y) continue
    if (x === null || y === null || typeof x !== 'object' || typeof y !== 'object') {
      if (Number.isNaN(x) && Number.isNaN(y)) continue
      return path
    }
    if (Array.isArray(x) !== Array.isArray(y)) return path
    if (Array.isArray(x) && Array.isArray(y)) {
      if (x.length !== y.length) return path
      x.forEach((v, i) => {
        stack.push({ a: v, b: y[i] as JsonValue, path: `${path}[${i}]` })
      })
      continue
    }
    const xo = x as { [k: string]: JsonValue }
    const yo = y as { [k: string]: JsonValue }
    const keys = Object.keys(xo)
    if (keys.length !== Object.keys(yo).length) return path
    for (const k of keys) {
      if (!Object.hasOwn(yo, k)) return path === '' ? k : `${path}.${k}`
      stack.push({ a: xo[k] as JsonValue, b: yo[k] as JsonValue, path: path === '' ? k : `${path}.${k}` })
    }
  }
  return undefined
}
