/** What a parse gives, positions included: the comparison the reading paths are tested with. */
import type { ParsedInput } from '../../src/load/index.js'
import type { FieldPath, JsonValue, RawObject } from '../../src/model/index.js'

/** Every field path of a value (capped, so a huge document stays cheap). */
export function allPaths(v: JsonValue, prefix: FieldPath, out: FieldPath[]): FieldPath[] {
  if (out.length > 5000) return out
  out.push(prefix)
  if (Array.isArray(v)) {
    for (const [i, x] of v.entries()) allPaths(x, [...prefix, i], out)
  } else if (typeof v === 'object' && v !== null)
    for (const [k, x] of Object.entries(v)) allPaths(x, [...prefix, k], out)
  return out
}

/** Values, sources, locate() of every path, diagnostics. */
export function observe(parsed: ParsedInput): unknown {
  const obj = (o: RawObject) => ({
    value: o.value,
    source: o.source,
    positions: allPaths(o.value, [], []).map((p) => [p, o.locate(p)]),
    // Paths that do not exist fall back to the closest ancestor.
    missing: [o.locate(['nope']), o.locate(['spec', 'nope', 3]), o.locate(['metadata', 'labels', 'zz'])],
  })
  return {
    diagnostics: parsed.diagnostics,
    objects: parsed.objects.map((p) => ({ ...obj(p.object), diagnostics: p.diagnostics })),
  }
}
