/**
 * Applies a recipe's structural mutations to a base: documents become trees of plain values plus markers
 * for what only the writer can express (verbatim YAML scalars, huge strings, deep nesting) and
 * decorations by path (anchors, aliases, tags, duplicate keys). `intendedDocs` then says what kubectl
 * would read from the written documents: the reference the oracles compare Palisade with.
 */
import type { JsonObject, JsonValue } from '../model/index.js'
import { type GoType, goTypeOf } from './api-types.js'
import type { Base } from './corpus.js'
import type { HostileValue, Op, Recipe, RetypeTarget } from './recipe.js'
import { RAW_TOKENS, TAGS, VALIDATION_CASES, type ValidationCase, wrongValuesFor } from './tables.js'

/** A leaf the writer expands. */
export abstract class Marker {}
/** A YAML scalar written verbatim (RAW_TOKENS). */
export class Raw extends Marker {
  constructor(readonly token: number) {
    super()
  }
}
/** `char` repeated `size` times. */
export class Huge extends Marker {
  constructor(
    readonly char: string,
    readonly size: number,
  ) {
    super()
  }
}
/** A value nested `depth` levels deep. */
export class Deep extends Marker {
  constructor(
    readonly depth: number,
    /** seq: [[..]], map: {a: {a: ..}}, block: `- - - 1` (block sequences, one line). */
    readonly style: 'seq' | 'map' | 'block',
  ) {
    super()
  }
}

export type Node = null | boolean | number | string | Marker | Node[] | { [key: string]: Node }
export type Mapping = { [key: string]: Node }
export type Path = readonly (string | number)[]

export type Deco =
  | { readonly anchor: string }
  | { readonly alias: string; readonly merge: boolean }
  | { readonly tag: string }
  | { readonly dupKey: string; readonly decoy: Node }

export interface Doc {
  value: Node
  /** Decorations by path key (pathKey). */
  deco: Map<string, Deco[]>
  /** Validation cases applied to this document (checked on its objects after every op). */
  expect: ValidationCase[]
}

export interface Materialized {
  readonly docs: Doc[]
  /** The node name the command should compile for (from a nodeName op). */
  readonly nodeName?: string
}

export const pathKey = (p: Path): string => JSON.stringify(p)

export function isMapping(n: Node | undefined): n is Mapping {
  return typeof n === 'object' && n !== null && !Array.isArray(n) && !(n instanceof Marker)
}

/** Sets an own property, also for keys such as __proto__ (an assignment would change the prototype). */
export function setOwn(o: Mapping, key: string, value: Node): void {
  Object.defineProperty(o, key, { value, writable: true, enumerable: true, configurable: true })
}

/** Deep copy that keeps own __proto__ keys and markers. */
export function cloneNode(n: Node): Node {
  if (Array.isArray(n)) return n.map(cloneNode)
  if (isMapping(n)) {
    const out: Mapping = {}
    for (const k of Object.keys(n)) setOwn(out, k, cloneNode(n[k] as Node))
    return out
  }
  return n
}

/** Every path of a tree (root first, depth-first), markers being leaves. */
export function listPaths(root: Node): Path[] {
  const out: Path[] = []
  const stack: { node: Node; path: Path }[] = [{ node: root, path: [] }]
  while (stack.length > 0) {
    const { node, path } = stack.pop()!
    out.push(path)
    if (Array.isArray(node))
      for (let i = node.length - 1; i >= 0; i--) stack.push({ node: node[i] as Node, path: [...path, i] })
    else if (isMapping(node)) {
      const keys = Object.keys(node)
      for (let i = keys.length - 1; i >= 0; i--) {
        const k = keys[i] as string
        stack.push({ node: node[k] as Node, path: [...path, k] })
      }
    }
  }
  return out
}

export function getAt(root: Node, path: Path): Node | undefined {
  let cur: Node | undefined = root
  for (const seg of path) {
    if (Array.isArray(cur) && typeof seg === 'number') cur = cur[seg]
    else if (isMapping(cur) && typeof seg === 'string' && Object.hasOwn(cur, seg)) cur = cur[seg]
    else return undefined
  }
  return cur
}

/** Sets the value at a path, creating mappings on the way; returns the new root. */
function setAt(root: Node, path: Path, value: Node): Node {
  if (path.length === 0) return value
  let cur: Node = root
  for (let i = 0; i < path.length - 1; i++) {
    const seg = path[i] as string | number
    let next: Node | undefined
    if (Array.isArray(cur) && typeof seg === 'number') next = cur[seg]
    else if (isMapping(cur) && typeof seg === 'string') {
      next = Object.hasOwn(cur, seg) ? cur[seg] : undefined
      if (!isMapping(next) && !Array.isArray(next)) {
        next = {}
        setOwn(cur, seg, next)
      }
    } else return root
    if (next === undefined) return root
    cur = next
  }
  const last = path[path.length - 1] as string | number
  if (Array.isArray(cur) && typeof last === 'number') cur[last] = value
  else if (isMapping(cur) && typeof last === 'string') setOwn(cur, last, value)
  return root
}

function deleteAt(root: Node, path: Path): Node {
  if (path.length === 0) return null
  const parent = getAt(root, path.slice(0, -1))
  const last = path[path.length - 1]
  if (Array.isArray(parent) && typeof last === 'number') parent.splice(last, 1)
  else if (isMapping(parent) && typeof last === 'string') delete parent[last]
  return root
}

/** Turns a generated value into a tree node. */
export function materialize(h: HostileValue): Node {
  switch (h.v) {
    case 'string':
      return h.s
    case 'number':
      return h.n
    case 'bool':
      return h.b
    case 'null':
      return null
    case 'object': {
      const o: Mapping = {}
      for (const k of h.keys) setOwn(o, k, 'x')
      return o
    }
    case 'array':
      return Array.from({ length: h.n }, (_, i) => (i % 2 === 0 ? 'x' : 1))
    case 'raw':
      return new Raw(((h.token % RAW_TOKENS.length) + RAW_TOKENS.length) % RAW_TOKENS.length)
    case 'huge':
      return new Huge(h.char, h.size)
    case 'deep':
      return new Deep(h.depth, h.style)
  }
}

function retype(n: Node | undefined, to: RetypeTarget): Node {
  switch (to) {
    case 'string':
      return typeof n === 'string'
        ? `${n}x`
        : typeof n === 'number' || typeof n === 'boolean'
          ? String(n)
          : 'x'
    case 'number':
      if (typeof n === 'string' && n.trim() !== '' && Number.isFinite(Number(n))) return Number(n)
      return typeof n === 'boolean' ? Number(n) : 7
    case 'float':
      return typeof n === 'number' ? n + 0.5 : 0.5
    case 'bool':
      return typeof n === 'string' ? n !== '' : true
    case 'object':
      return isMapping(n) ? {} : { value: n instanceof Marker || n === undefined ? 'x' : cloneNode(n) }
    case 'array':
      return Array.isArray(n) ? [] : [n instanceof Marker || n === undefined ? 'x' : cloneNode(n)]
    case 'null':
      return null
  }
}

const mod = (i: number, n: number): number => ((Math.trunc(i) % n) + n) % n

/** Typed slots of a document: existing typed nodes and absent fields of existing structs, with their Go type. */
export function typedSlots(root: Node): { path: Path; type: GoType }[] {
  if (!isMapping(root)) return []
  const type = goTypeOf(root.apiVersion, root.kind)
  if (!type) return []
  const out: { path: Path; type: GoType }[] = []
  const stack: { node: Node | undefined; type: GoType; path: Path }[] = [{ node: root, type, path: [] }]
  while (stack.length > 0) {
    const { node, type: t, path } = stack.pop()!
    if (path.length > 0 && t.k !== 'any') out.push({ path, type: t })
    if (t.k === 'struct' && isMapping(node)) {
      for (const [k, ft] of Object.entries(t.fields)) {
        if (Object.hasOwn(node, k)) stack.push({ node: node[k], type: ft, path: [...path, k] })
        else if (ft.k !== 'any') out.push({ path: [...path, k], type: ft })
      }
    } else if (t.k === 'slice' && Array.isArray(node)) {
      node.forEach((item, i) => {
        stack.push({ node: item, type: t.items, path: [...path, i] })
      })
    } else if (t.k === 'map' && isMapping(node)) {
      for (const k of Object.keys(node)) stack.push({ node: node[k], type: t.values, path: [...path, k] })
    }
  }
  return out
}

function addDeco(doc: Doc, path: Path, d: Deco): void {
  const key = pathKey(path)
  const list = doc.deco.get(key) ?? []
  list.push(d)
  doc.deco.set(key, list)
}

const isPrefix = (a: Path, b: Path): boolean => a.length <= b.length && a.every((s, i) => s === b[i])

/** Re-keys a document's decorations under a prefix (when it is wrapped into a List). */
function prefixDecos(deco: Map<string, Deco[]>, prefix: Path): Map<string, Deco[]> {
  const out = new Map<string, Deco[]>()
  for (const [k, v] of deco) out.set(pathKey([...prefix, ...(JSON.parse(k) as Path)]), v)
  return out
}

let anchorCounter = 0

/** Applies one op to the document list. */
function applyOp(docs: Doc[], op: Op, state: { nodeName?: string }): void {
  if (docs.length === 0) return
  const doc = docs[mod(op.doc, docs.length)] as Doc
  const pick = (i: number): Path => {
    const paths = listPaths(doc.value)
    return paths[mod(i, paths.length)] as Path
  }
  switch (op.op) {
    case 'set':
      doc.value = setAt(doc.value, pick(op.path), materialize(op.value))
      return
    case 'retype': {
      const p = pick(op.path)
      doc.value = setAt(doc.value, p, retype(getAt(doc.value, p), op.to))
      return
    }
    case 'delete':
      doc.value = deleteAt(doc.value, pick(op.path))
      return
    case 'addKey': {
      let p = pick(op.path)
      while (p.length > 0 && !isMapping(getAt(doc.value, p))) p = p.slice(0, -1)
      const target = getAt(doc.value, p)
      if (isMapping(target)) setOwn(target, op.key, materialize(op.value))
      return
    }
    case 'renameKey': {
      const p = pick(op.path)
      const parent = getAt(doc.value, p.slice(0, -1))
      const last = p[p.length - 1]
      if (isMapping(parent) && typeof last === 'string' && last !== op.key) {
        const value = parent[last] as Node
        delete parent[last]
        setOwn(parent, op.key, value)
      }
      return
    }
    case 'kind':
      if (isMapping(doc.value))
        setOwn(doc.value, 'kind', typeof op.kind === 'string' ? op.kind : materialize(op.kind))
      return
    case 'apiVersion':
      if (isMapping(doc.value)) setOwn(doc.value, 'apiVersion', op.apiVersion)
      return
    case 'typed': {
      const slots = typedSlots(doc.value)
      if (slots.length === 0) return
      const slot = slots[mod(op.path, slots.length)]!
      const wrong = wrongValuesFor(slot.type)
      doc.value = setAt(doc.value, slot.path, materialize(wrong[mod(op.wrong, wrong.length)]!))
      return
    }
    case 'invalid': {
      const c = VALIDATION_CASES[mod(op.which, VALIDATION_CASES.length)]!
      if (!isMapping(doc.value) || !c.kinds.includes(String(doc.value.kind))) return
      doc.value = setAt(doc.value, c.path, cloneNode(c.value as Node))
      doc.expect.push(c)
      return
    }
    case 'listify': {
      const start = mod(op.doc, docs.length)
      const count = Math.max(1, Math.min(op.count, docs.length - start))
      const wrapped = docs.slice(start, start + count)
      let value: Node = {
        apiVersion: 'v1',
        kind: 'List',
        items: wrapped.map((d) => d.value),
      }
      let deco = new Map<string, Deco[]>()
      wrapped.forEach((d, i) => {
        for (const [k, v] of prefixDecos(d.deco, ['items', i])) deco.set(k, v)
      })
      for (let level = 0; level < op.depth; level++) {
        value = { apiVersion: 'v1', kind: 'List', items: [value] }
        deco = prefixDecos(deco, ['items', 0])
      }
      docs.splice(start, count, { value, deco, expect: wrapped.flatMap((d) => d.expect) })
      return
    }
    case 'duplicateDoc': {
      const i = mod(op.doc, docs.length)
      docs.splice(i + 1, 0, {
        value: cloneNode(doc.value),
        deco: new Map([...doc.deco].map(([k, v]) => [k, [...v]])),
        expect: [...doc.expect],
      })
      return
    }
    case 'alias': {
      const from = pick(op.from)
      const to = pick(op.to)
      if (isPrefix(from, to) || isPrefix(to, from)) return
      const name = `a${++anchorCounter}`
      addDeco(doc, from, { anchor: name })
      addDeco(doc, to, { alias: name, merge: op.merge && isMapping(getAt(doc.value, to)) })
      return
    }
    case 'undefinedAlias': {
      const p = pick(op.path)
      if (p.length > 0) addDeco(doc, p, { alias: 'undefined', merge: false })
      return
    }
    case 'tag': {
      const p = pick(op.path)
      const n = getAt(doc.value, p)
      if (p.length > 0 && (n === null || typeof n !== 'object'))
        addDeco(doc, p, { tag: TAGS[mod(op.tag, TAGS.length)]! })
      return
    }
    case 'dupKey': {
      let p = pick(op.path)
      while (p.length > 0 && !isMapping(getAt(doc.value, p))) p = p.slice(0, -1)
      const m = getAt(doc.value, p)
      const key = isMapping(m) ? Object.keys(m)[0] : undefined
      if (key !== undefined) addDeco(doc, p, { dupKey: key, decoy: materialize(op.decoy) })
      return
    }
    case 'nodeName': {
      if (!isMapping(doc.value)) return
      const path = doc.value.kind === 'Pod' ? ['spec', 'nodeName'] : ['spec', 'template', 'spec', 'nodeName']
      doc.value = setAt(doc.value, path, op.name)
      state.nodeName = op.name
      return
    }
  }
}

/** Builds the mutated documents of a recipe. */
export function materializeRecipe(recipe: Recipe, bases: readonly Base[]): Materialized {
  const base = bases[mod(recipe.base, bases.length)] as Base
  const docs: Doc[] = base.docs.map((d) => ({ value: cloneNode(d as Node), deco: new Map(), expect: [] }))
  const state: { nodeName?: string } = {}
  anchorCounter = 0
  for (const op of recipe.ops) applyOp(docs, op, state)
  return state.nodeName === undefined ? { docs } : { docs, nodeName: state.nodeName }
}

/** True when a tree holds a verbatim YAML scalar (read by go-yaml's rules, see RAW_TOKENS). */
export function hasRaw(root: Node): boolean {
  const stack: Node[] = [root]
  while (stack.length > 0) {
    const n = stack.pop() as Node
    if (n instanceof Raw) return true
    if (Array.isArray(n)) stack.push(...n)
    else if (isMapping(n)) for (const k of Object.keys(n)) stack.push(n[k] as Node)
  }
  return false
}

// --- What kubectl reads ---

export interface IntendedDoc {
  /** The objects kubectl would send (Lists flattened, typed list items given their kind). */
  readonly leaves: readonly JsonObject[]
  /** How many Lists each leaf is inside (0: a document of its own). */
  readonly depths: readonly number[]
  /** kubectl refuses the whole document (an unknown anchor, +Inf, a bad merge): why. */
  readonly refused?: string
  /** The document holds something the model does not judge (a custom tag, a huge or deep value). */
  readonly unjudged?: string
}

/** What the writer did that changes the reading: aliases it wrote before their anchor. */
export interface WriteFacts {
  readonly undefinedAliases: ReadonlySet<string>
}

class Refusal extends Error {}
class Unjudged extends Error {}

/** Text of a number as the writer prints it. */
export function numberText(n: number): string {
  return Object.is(n, -0) ? '-0' : String(n)
}

/** Computes what kubectl reads from one written document. */
export function intendedDoc(doc: Doc, facts: WriteFacts): IntendedDoc {
  const anchors = new Map<string, Path>()
  for (const [k, list] of doc.deco)
    for (const d of list) if ('anchor' in d) anchors.set(d.anchor, JSON.parse(k) as Path)
  const resolving = new Set<string>()
  const read = (node: Node | undefined, path: Path): JsonValue => {
    const decos = doc.deco.get(pathKey(path)) ?? []
    const alias = decos.find((d): d is { alias: string; merge: boolean } => 'alias' in d)
    if (alias && !alias.merge) return resolveAlias(alias.alias)
    const tag = decos.find((d): d is { tag: string } => 'tag' in d)
    if (tag) return readTagged(tag.tag, node)
    if (node === undefined) return null
    if (node instanceof Raw) {
      const k = RAW_TOKENS[node.token]!.kubectl
      if ('refused' in k) throw new Refusal(k.refused)
      if ('unknown' in k) throw new Unjudged(`verbatim scalar ${RAW_TOKENS[node.token]!.text}`)
      return k.value
    }
    if (node instanceof Huge) throw new Unjudged('huge string')
    if (node instanceof Deep) throw new Unjudged('deep nesting')
    if (Array.isArray(node)) return node.map((item, i) => read(item, [...path, i]))
    if (isMapping(node)) {
      const out: JsonObject = {}
      if (alias?.merge) {
        const merged = resolveAlias(alias.alias)
        if (typeof merged !== 'object' || merged === null || Array.isArray(merged))
          throw new Refusal('map merge requires a map')
        for (const k of Object.keys(merged))
          Object.defineProperty(out, k, {
            value: merged[k],
            enumerable: true,
            writable: true,
            configurable: true,
          })
      }
      for (const k of Object.keys(node))
        Object.defineProperty(out, k, {
          value: read(node[k], [...path, k]),
          enumerable: true,
          writable: true,
          configurable: true,
        })
      return out
    }
    return node as JsonValue
  }
  const resolveAlias = (name: string): JsonValue => {
    const at = anchors.get(name)
    if (at === undefined || facts.undefinedAliases.has(name)) throw new Refusal(`unknown anchor '${name}'`)
    if (resolving.has(name)) throw new Unjudged('recursive alias')
    resolving.add(name)
    try {
      return read(getAt(doc.value, at), at)
    } finally {
      resolving.delete(name)
    }
  }
  const readTagged = (tag: string, node: Node | undefined): JsonValue => {
    if (node instanceof Marker || node === undefined) throw new Unjudged(`tag ${tag} on a verbatim value`)
    if (tag === '!!str')
      return typeof node === 'number' ? numberText(node) : typeof node === 'string' ? node : String(node)
    if (tag === '!!binary' && typeof node === 'string') return node
    if (tag === '!!int' && typeof node === 'number' && Number.isInteger(node)) return node
    if (tag === '!!float' && typeof node === 'number') return node
    throw new Unjudged(`tag ${tag}`)
  }
  try {
    // A decoy (the first of two equal keys) is replaced by the second value, but go-yaml parses it first:
    // an alias to an unknown anchor there still fails the document.
    for (const list of doc.deco.values())
      for (const d of list)
        if ('dupKey' in d) {
          try {
            read(d.decoy, ['\u0000decoy'])
          } catch (e) {
            if (e instanceof Refusal && e.message.startsWith('unknown anchor')) throw e
            if (e instanceof Unjudged) throw e
          }
        }
    const value = read(doc.value, [])
    const depths: number[] = []
    const leaves = flattenLeaves(value, depths)
    return { leaves, depths }
  } catch (e) {
    if (e instanceof Refusal) return { leaves: [], depths: [], refused: e.message }
    if (e instanceof Unjudged) return { leaves: [], depths: [], unjudged: e.message }
    throw e
  }
}

/** Objects of a document: Lists (and typed lists) flattened as the loader and kubectl do. */
export function flattenLeaves(value: JsonValue, depths: number[] = []): JsonObject[] {
  const out: JsonObject[] = []
  const stack: { v: JsonValue; depth: number }[] = [{ v: value, depth: 0 }]
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!
    if (typeof v !== 'object' || v === null || Array.isArray(v)) continue
    const kind = v.kind
    if (typeof kind === 'string' && kind.endsWith('List') && Array.isArray(v.items)) {
      for (let i = v.items.length - 1; i >= 0; i--) {
        let item = v.items[i] as JsonValue
        if (kind !== 'List' && typeof item === 'object' && item !== null && !Array.isArray(item)) {
          if (item.kind === undefined && item.apiVersion === undefined)
            item = { apiVersion: v.apiVersion ?? null, kind: kind.slice(0, -'List'.length), ...item }
        }
        stack.push({ v: item, depth: depth + 1 })
      }
    } else {
      out.push(v)
      depths.push(depth)
    }
  }
  return out
}
