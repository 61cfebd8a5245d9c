/**
 * fast-check arbitraries of fuzz cases, one family per kind of hostility. A family is a weighting of
 * the same building blocks; `recipeArbitrary(families)` mixes the chosen ones. Everything is an index or
 * a small value, so fast-check shrinks a failing case towards fewer ops, earlier paths and plainer text.
 */
import fc from 'fast-check'
import type { CommandChoice, HostileValue, Op, Recipe, RenderChoice, TextOp } from './recipe.js'
import {
  COMMANDS,
  HOSTILE_API_VERSIONS,
  HOSTILE_KEYS,
  HOSTILE_KINDS,
  HOSTILE_NODE_NAMES,
  HOSTILE_STRINGS,
  INSERT_TOKENS,
  RAW_TOKENS,
  TAGS,
  VALIDATION_CASES,
} from './tables.js'

const YAML_CHARS = [
  '\n',
  '\r',
  '\t',
  '"',
  "'",
  ':',
  '#',
  '-',
  '{',
  '}',
  '[',
  ']',
  ',',
  '&',
  '*',
  '!',
  '|',
  '>',
  '%',
  '@',
  '`',
  '\\',
  ' ',
  'a',
  'é',
  '\u0000',
  '\u0085',
  '\u2028',
  '\ufeff',
  '\u{1f600}',
]

/**
 * Any code point but a lone surrogate. (fc.string's 'binary' unit does the same but builds a reverse map of
 * 1.1 million entries, 100+ MiB and seconds of CPU, which every `spawn` of the fuzzer then pays for.)
 */
const anyCodePoint: fc.Arbitrary<string> = fc
  .integer({ min: 0, max: 0x10ffff - 0x800 })
  .map((n) => String.fromCodePoint(n >= 0xd800 ? n + 0x800 : n))

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 1, arbitrary: fc.string({ unit: anyCodePoint, maxLength: 16 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(...YAML_CHARS), maxLength: 10 }) },
)

export const hostileKey: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_KEYS) },
  { weight: 1, arbitrary: hostileString },
)

const SPECIAL_NUMBERS = [
  0,
  -0,
  -1,
  1,
  80,
  80.5,
  0.1,
  1e-7,
  65535,
  65536,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 53,
  2 ** 53 + 2,
  1e21,
  1.7976931348623157e308,
  5e-324,
  1e100,
]

export const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SPECIAL_NUMBERS) },
  { weight: 1, arbitrary: fc.integer() },
  { weight: 1, arbitrary: fc.double({ noNaN: true, noDefaultInfinity: true }) },
)

const rawToken = fc.nat(RAW_TOKENS.length - 1).map((token): HostileValue => ({ v: 'raw', token }))

/** Strings of a size that still runs in-process. */
const smallHuge = fc.record({
  v: fc.constant('huge' as const),
  char: fc.constantFrom('a', 'Z', 'é', '漢', '0'),
  size: fc.constantFrom(300, 4096, 65536),
})

export const hostileValue: fc.Arbitrary<HostileValue> = fc.oneof(
  { weight: 4, arbitrary: hostileString.map((s): HostileValue => ({ v: 'string', s })) },
  { weight: 3, arbitrary: hostileNumber.map((n): HostileValue => ({ v: 'number', n })) },
  { weight: 1, arbitrary: fc.boolean().map((b): HostileValue => ({ v: 'bool', b })) },
  { weight: 1, arbitrary: fc.constant<HostileValue>({ v: 'null' }) },
  {
    weight: 1,
    arbitrary: fc.array(hostileKey, { maxLength: 3 }).map((keys): HostileValue => ({ v: 'object', keys })),
  },
  { weight: 1, arbitrary: fc.integer({ min: 0, max: 3 }).map((n): HostileValue => ({ v: 'array', n })) },
  { weight: 3, arbitrary: rawToken },
  { weight: 1, arbitrary: smallHuge },
  {
    weight: 1,
    arbitrary: fc.record({
      v: fc.constant('deep' as const),
      depth: fc.integer({ min: 2, max: 60 }),
      style: fc.constantFrom('seq' as const, 'map' as const, 'block' as const),
    }),
  },
)

const doc = fc.nat(40)
const path = fc.nat(400)

const setOp = fc.record({ op: fc.constant('set' as const), doc, path, value: hostileValue })
const retypeOp = fc.record({
  op: fc.constant('retype' as const),
  doc,
  path,
  to: fc.constantFrom(
    'string' as const,
    'number' as const,
    'float' as const,
    'bool' as const,
    'object' as const,
    'array' as const,
    'null' as const,
  ),
})
const deleteOp = fc.record({ op: fc.constant('delete' as const), doc, path })
const addKeyOp = fc.record({
  op: fc.constant('addKey' as const),
  doc,
  path,
  key: hostileKey,
  value: hostileValue,
})
const renameKeyOp = fc.record({ op: fc.constant('renameKey' as const), doc, path, key: hostileKey })
const typedOp = fc.record({ op: fc.constant('typed' as const), doc, path: fc.nat(200), wrong: fc.nat(20) })
const kindOp = fc.record({
  op: fc.constant('kind' as const),
  doc,
  kind: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_KINDS) },
    { weight: 1, arbitrary: hostileString },
    { weight: 1, arbitrary: hostileValue },
  ),
})
const apiVersionOp = fc.record({
  op: fc.constant('apiVersion' as const),
  doc,
  apiVersion: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_API_VERSIONS) },
    { weight: 1, arbitrary: hostileString },
  ),
})
const invalidOp = fc.record({
  op: fc.constant('invalid' as const),
  doc,
  which: fc.nat(VALIDATION_CASES.length - 1),
})
const listifyOp = fc.record({
  op: fc.constant('listify' as const),
  doc,
  count: fc.integer({ min: 1, max: 4 }),
  depth: fc.integer({ min: 0, max: 3 }),
})
const duplicateDocOp = fc.record({ op: fc.constant('duplicateDoc' as const), doc })
const aliasOp = fc.record({
  op: fc.constant('alias' as const),
  doc,
  from: path,
  to: path,
  merge: fc.boolean(),
})
const undefinedAliasOp = fc.record({ op: fc.constant('undefinedAlias' as const), doc, path })
const tagOp = fc.record({ op: fc.constant('tag' as const), doc, path, tag: fc.nat(TAGS.length - 1) })
const dupKeyOp = fc.record({ op: fc.constant('dupKey' as const), doc, path, decoy: hostileValue })
const nodeNameOp = fc.record({
  op: fc.constant('nodeName' as const),
  doc,
  name: fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_NODE_NAMES) },
    { weight: 1, arbitrary: hostileString },
  ),
})
const protoKey = fc.constantFrom(
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
)
const protoOps: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    op: fc.constant('kind' as const),
    doc,
    kind: fc.constantFrom(
      'constructor',
      '__proto__',
      'toString',
      'valueOf',
      'hasOwnProperty',
      'isPrototypeOf',
    ),
  }),
  fc.record({ op: fc.constant('addKey' as const), doc, path, key: protoKey, value: hostileValue }),
  fc.record({ op: fc.constant('renameKey' as const), doc, path, key: protoKey }),
  fc.record({
    op: fc.constant('set' as const),
    doc,
    path,
    value: fc
      .array(protoKey, { minLength: 1, maxLength: 3 })
      .map((keys): HostileValue => ({ v: 'object', keys })),
  }),
  fc.record({
    op: fc.constant('apiVersion' as const),
    doc,
    apiVersion: fc.constantFrom('__proto__/v1', 'constructor', 'toString/v1'),
  }),
  fc.record({
    op: fc.constant('set' as const),
    doc,
    path,
    value: protoKey.map((s): HostileValue => ({ v: 'string', s })),
  }),
)

const renderChoice: fc.Arbitrary<RenderChoice> = fc.record({
  format: fc.oneof(
    { weight: 4, arbitrary: fc.constant('block' as const) },
    { weight: 1, arbitrary: fc.constantFrom('flow' as const, 'json' as const, 'mixed' as const) },
  ),
  crlf: fc.oneof({ weight: 5, arbitrary: fc.constant(false) }, { weight: 1, arbitrary: fc.constant(true) }),
  bom: fc.oneof(
    { weight: 8, arbitrary: fc.constant('none' as const) },
    { weight: 1, arbitrary: fc.constantFrom('utf8' as const, 'utf16le' as const, 'utf16be' as const) },
  ),
  leadingSeparator: fc.boolean(),
  comments: fc.oneof(
    { weight: 4, arbitrary: fc.constant(false) },
    { weight: 1, arbitrary: fc.constant(true) },
  ),
  indent: fc.constantFrom(2 as const, 4 as const),
  quoteAll: fc.boolean(),
  finalNewline: fc.oneof(
    { weight: 6, arbitrary: fc.constant(true) },
    { weight: 1, arbitrary: fc.constant(false) },
  ),
})

const plainRender: RenderChoice = {
  format: 'block',
  crlf: false,
  bom: 'none',
  leadingSeparator: false,
  comments: false,
  indent: 2,
  quoteAll: false,
  finalNewline: true,
}

const at = fc.nat(1 << 24)
const textOp: fc.Arbitrary<TextOp> = fc.oneof(
  fc.record({ t: fc.constant('flip' as const), at, byte: fc.nat(255) }),
  fc.record({ t: fc.constant('truncate' as const), at }),
  {
    weight: 3,
    arbitrary: fc.record({ t: fc.constant('insert' as const), at, what: fc.nat(INSERT_TOKENS.length - 1) }),
  },
  fc.record({ t: fc.constant('delete' as const), at, len: fc.integer({ min: 1, max: 24 }) }),
  fc.record({ t: fc.constant('dupLine' as const), at }),
)

const endpointChoice = fc.oneof({ weight: 6, arbitrary: fc.nat(50) }, { weight: 1, arbitrary: hostileString })

function commandChoice(cmds: readonly number[] = COMMANDS.map((_, i) => i)): fc.Arbitrary<CommandChoice> {
  return fc.record({
    cmd: fc.constantFrom(...cmds),
    variant: fc.nat(31),
    a: endpointChoice,
    b: endpointChoice,
    port: fc.nat(40),
    flags: fc.oneof({ weight: 4, arbitrary: fc.constant(0) }, { weight: 1, arbitrary: fc.nat(3) }),
  })
}

const COMPILE = [COMMANDS.indexOf('compile-nftables'), COMMANDS.indexOf('compile-iptables')]

interface Family {
  readonly ops: fc.Arbitrary<Op[]>
  readonly render?: fc.Arbitrary<RenderChoice>
  readonly text?: fc.Arbitrary<TextOp[]>
  readonly commands?: readonly number[]
}

const ops = (arb: fc.Arbitrary<Op>, min: number, max: number): fc.Arbitrary<Op[]> =>
  fc.array(arb, { minLength: min, maxLength: max })

/** The families of hostile input. */
export const FAMILIES: Readonly<Record<string, Family>> = {
  /** Wrong Go types at typed fields: the decoding rejections every --validate mode must make. */
  typed: { ops: ops(typedOp, 1, 3), render: fc.constant(plainRender) },
  /** Random edits anywhere: values swapped for hostile ones, types changed, fields deleted or renamed. */
  structural: { ops: ops(fc.oneof(setOp, retypeOp, deleteOp, addKeyOp, renameKeyOp, typedOp), 1, 4) },
  /** Prototype names as kinds, keys and values. */
  prototype: { ops: ops(protoOps, 1, 3) },
  /** YAML 1.1 scalars, anchors, aliases and merge keys, tags, duplicate keys, styles, encodings. */
  yaml: {
    ops: ops(
      fc.oneof(
        aliasOp,
        undefinedAliasOp,
        tagOp,
        dupKeyOp,
        fc.record({ op: fc.constant('set' as const), doc, path, value: rawToken }),
      ),
      1,
      4,
    ),
  },
  /** Lists in Lists, unknown and almost-right kinds and versions, repeated documents. */
  lists: { ops: ops(fc.oneof(listifyOp, kindOp, apiVersionOp, duplicateDocOp), 1, 3) },
  /** Values the API server's validation refuses (after decoding). */
  validation: {
    ops: ops(fc.oneof({ weight: 3, arbitrary: invalidOp }, { weight: 1, arbitrary: typedOp }), 1, 2),
    render: fc.constant(plainRender),
  },
  /** Byte flips, truncation (a half-written file), inserted tabs and flow markers. */
  text: {
    ops: ops(fc.oneof(setOp, deleteOp, aliasOp), 0, 1),
    text: fc.array(textOp, { minLength: 1, maxLength: 4 }),
  },
  /** Nesting hundreds to 100,000 levels deep (fresh processes). */
  deep: {
    ops: ops(
      fc.record({
        op: fc.constant('set' as const),
        doc,
        path,
        value: fc.record({
          v: fc.constant('deep' as const),
          depth: fc.constantFrom(300, 1000, 3000, 10000, 100000),
          style: fc.constantFrom('seq' as const, 'map' as const, 'block' as const),
        }),
      }),
      1,
      1,
    ),
    render: renderChoice.chain((r) =>
      fc
        .constantFrom('block' as const, 'json' as const, 'mixed' as const)
        .map((format) => ({ ...r, format })),
    ),
  },
  /** Megabytes in one string: a kind, a name, a label (fresh processes). */
  huge: {
    ops: ops(
      fc.oneof(
        fc.record({
          op: fc.constant('kind' as const),
          doc,
          kind: fc.record({
            v: fc.constant('huge' as const),
            char: fc.constantFrom('a', 'P'),
            size: fc.constantFrom(1 << 20, 1 << 20, 8 << 20, 30 << 20),
          }),
        }),
        fc.record({
          op: fc.constant('set' as const),
          doc,
          path,
          value: fc.record({
            v: fc.constant('huge' as const),
            char: fc.constantFrom('a', 'é', '0'),
            size: fc.constantFrom(1 << 20, 8 << 20, 30 << 20),
          }),
        }),
      ),
      1,
      1,
    ),
  },
  /** Hostile node names, compiled: ruleset comment and file name injection. */
  nodes: {
    ops: ops(fc.oneof({ weight: 3, arbitrary: nodeNameOp }, { weight: 1, arbitrary: invalidOp }), 1, 2),
    commands: COMPILE,
  },
}

export const FAMILY_NAMES: readonly string[] = Object.keys(FAMILIES)

/** Cases of one family. */
export function familyArbitrary(name: string): fc.Arbitrary<Recipe> {
  const f = FAMILIES[name]
  if (!f) throw new Error(`unknown family ${name}: one of ${FAMILY_NAMES.join(', ')}`)
  return fc.record({
    family: fc.constant(name),
    base: fc.nat(100),
    ops: f.ops,
    render: f.render ?? renderChoice,
    text: f.text ?? fc.constant([]),
    command: commandChoice(f.commands),
    mode: fc.nat(11),
  })
}

/** Default weights: the families that run in-process come often, the fresh-process ones rarely. */
export const FAMILY_WEIGHTS: Readonly<Record<string, number>> = {
  typed: 60,
  structural: 60,
  prototype: 15,
  yaml: 40,
  lists: 30,
  validation: 20,
  text: 40,
  nodes: 20,
  deep: 3,
  huge: 2,
}

/** Cases mixed from several families by weight. */
export function recipeArbitrary(families: readonly string[] = FAMILY_NAMES): fc.Arbitrary<Recipe> {
  return fc.oneof(
    ...families.map((name) => ({ weight: FAMILY_WEIGHTS[name] ?? 1, arbitrary: familyArbitrary(name) })),
  )
}
