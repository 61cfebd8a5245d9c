/**
 * Fast path for plain YAML documents (some 10 times faster than the yaml library), tried when the
 * simplest reader (simple-yaml.ts) declines a document. Two independent readings must agree before a
 * document is taken:
 * - js-yaml builds the data, every plain scalar resolved as go-yaml v2 resolves it (resolvePlainScalar,
 *   go-yaml-resolve.ts), so yes/on are booleans, 0777 is octal, timestamps stay strings;
 * - a line scanner (line-scanner.ts) checks the text is the plain kind of YAML it knows (block mappings and sequences,
 *   single-line or well indented scalars, block scalars, one-line flow collections of scalars) with
 *   exactly the keys, items and scalars js-yaml found; later it gives the positions, as the yaml
 *   library would, when something asks for one (validation diagnostics, policy rules), so clean pods
 *   never pay for them.
 * Anything else (anchors, aliases, tags, merge keys, directives, complex or null keys, duplicate keys,
 * tabs, odd characters, lines over 1000 characters, multi-line flow collections, a js-yaml error or
 * warning) is left to the exact path (yaml-tree.ts). test/load/fast-path.test.ts compares the two
 * paths on real, generated and randomly damaged documents: values, positions and diagnostics.
 */
import { createRequire } from 'node:module'
import type * as JsYaml from 'js-yaml'
import type { JsonValue } from '../model/index.js'
import { isObject, scanPositions } from './line-scanner.js'
import { detachStrings } from './simple-yaml.js'
import { type DocData, leafTree, posTree, type Tree } from './tree.js'
import { resolvePlainScalar } from './yaml-tree.js'

/**
 * Text the fast path does not take: tabs, control and special line-break characters, a BOM; `<<`
 * (merge keys); an anchor, alias, tag or `?` after a space or flow character. The line scanner refuses
 * the rest of what it does not know (directives, markers, flow collections, null or complex keys).
 * Matches inside quoted or block scalars only cost a fallback.
 */
const RISKY = /[\t\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\ufeff\u2028\u2029]|<<|[\s[{,][&*!?]/
const LONE_CR = /\r(?!\n)/

/** js-yaml and the schema above, loaded on first use (simple-yaml.ts reads most documents without it). */
const requireModule = createRequire(import.meta.url)
let jsYaml: { readonly load: typeof JsYaml.load; readonly schema: JsYaml.Schema } | undefined
function loadJsYaml(): { readonly load: typeof JsYaml.load; readonly schema: JsYaml.Schema } {
  if (!jsYaml) {
    const lib = requireModule('js-yaml') as typeof JsYaml
    const plainScalar = new lib.Type('tag:palisade,2025:plain', {
      kind: 'scalar',
      resolve: () => true,
      construct: (data: string): JsonValue => {
        if (data === '<<') throw new Error('merge key')
        return resolvePlainScalar(data)
      },
    })
    jsYaml = { load: lib.load, schema: lib.FAILSAFE_SCHEMA.extend({ implicit: [plainScalar] }) }
  }
  return jsYaml
}

/** Whether js-yaml has been loaded (tests check that the plainest manifests never need it). */
export function isJsYamlLoaded(): boolean {
  return jsYaml !== undefined
}

/**
 * Parses a chunk holding one plain YAML mapping; undefined when the exact path must take it. With
 * `retext`, the positions are found from the text it gives again (read again), so the tree keeps neither
 * the text nor the data (a List item's text is built, not a slice of the input).
 */
export function parseFastDocument(text: string, retext?: () => string): DocData | undefined {
  if (RISKY.test(text) || (text.includes('\r') && LONE_CR.test(text))) return undefined
  let value: JsonValue
  try {
    // A js-yaml warning (deficient indentation...) may be an error for the yaml library: fall back.
    const { load, schema } = loadJsYaml()
    value = load(text, {
      schema,
      onWarning: (w) => {
        throw w
      },
    }) as JsonValue
  } catch {
    return undefined
  }
  if (!isObject(value)) return undefined
  if (retext) detachStrings(value)
  // The scanner proves the document is plain block YAML of the value's shape; positions come on first use.
  if (!scanPositions(text, value, false)) return undefined
  const offset = firstContent(text)
  let tree: Tree | undefined
  const scan = retext
    ? () => {
        const again = retext()
        return scanPositions(again, loadJsYaml().load(again, { schema: loadJsYaml().schema }) as JsonValue)
      }
    : () => scanPositions(text, value)
  const resolve = (): Tree | undefined => {
    if (!tree) {
      const positions = scan()
      tree = positions ? posTree(positions) : leafTree(offset)
    }
    return tree
  }
  return { ok: true, value, tree: { offset, child: (seg) => resolve()?.child(seg) }, duplicates: [] }
}

/** Offset of the first character that is neither space nor part of a comment or blank line. */
function firstContent(text: string): number | undefined {
  let i = 0
  while (i < text.length) {
    const c = text.charCodeAt(i)
    if (c === 32 || c === 10 || c === 13) i++
    else if (c === 35) {
      const nl = text.indexOf('\n', i)
      if (nl < 0) return undefined
      i = nl + 1
    } else return i
  }
  return undefined
}

export { scanPositions }
