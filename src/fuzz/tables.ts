/**
 * The fuzzer's vocabulary: hostile strings, keys, kinds and node names; YAML scalars with the value kubectl
 * reads from them; YAML tags; values the API server's validation refuses; the --validate modes and the
 * commands under test. Extending a list here extends every generator that draws from it.
 */
import type { JsonValue } from '../model/index.js'
import type { GoType } from './api-types.js'
import type { HostileValue } from './recipe.js'

/**
 * The --validate modes every command is run with. A new mode is one more entry here (the CLI's own list
 * is in src/cli/options.ts).
 */
export const MODES: readonly string[] = ['strict', 'warn', 'ignore']

/** What kubectl makes of a YAML scalar: a JSON value, or a refusal of the whole document. */
export type KubectlValue =
  | { readonly value: JsonValue }
  | { readonly refused: string }
  | { readonly unknown: true }

const v = (value: JsonValue): KubectlValue => ({ value })
const refused = (why: string): KubectlValue => ({ refused: why })
const unknown: KubectlValue = { unknown: true }

/**
 * Plain YAML scalars and what kubectl reads from them: sigs.k8s.io/yaml decodes with go-yaml v2 (YAML 1.1:
 * y/yes/on are booleans, 0x10 and 0120 are integers, timestamps stay strings, sexagesimal is not
 * supported) and then json.Marshal()s the result (+Inf and NaN cannot be marshalled: the document is
 * refused). Values marked unknown are written but not judged.
 */
export const RAW_TOKENS: readonly { readonly text: string; readonly kubectl: KubectlValue }[] = [
  { text: 'yes', kubectl: v(true) },
  { text: 'Yes', kubectl: v(true) },
  { text: 'NO', kubectl: v(false) },
  { text: 'on', kubectl: v(true) },
  { text: 'Off', kubectl: v(false) },
  { text: 'y', kubectl: v(true) },
  { text: 'N', kubectl: v(false) },
  { text: 'True', kubectl: v(true) },
  { text: 'FALSE', kubectl: v(false) },
  { text: '~', kubectl: v(null) },
  { text: 'Null', kubectl: v(null) },
  { text: '0x10', kubectl: v(16) },
  { text: '0x50', kubectl: v(80) },
  { text: '0120', kubectl: v(80) },
  { text: '08', kubectl: v(8) },
  { text: '0b101', kubectl: v(5) },
  { text: '1_000', kubectl: v(1000) },
  { text: '+12', kubectl: v(12) },
  { text: '-0', kubectl: v(0) },
  { text: '1e3', kubectl: v(1000) },
  { text: '8E1', kubectl: v(80) },
  { text: '1.', kubectl: v(1) },
  { text: '.5', kubectl: v(0.5) },
  { text: '80.5', kubectl: v(80.5) },
  { text: '80.0', kubectl: v(80) },
  { text: '1e309', kubectl: v('1e309') },
  { text: '-1e309', kubectl: v('-1e309') },
  { text: '12:30', kubectl: v('12:30') },
  { text: '2001-12-14', kubectl: v('2001-12-14') },
  { text: '2001-12-14T21:59:43.10Z', kubectl: v('2001-12-14T21:59:43.10Z') },
  { text: '0x', kubectl: v('0x') },
  { text: '=', kubectl: v('=') },
  { text: '.inf', kubectl: refused('+Inf cannot be marshalled to JSON') },
  { text: '-.Inf', kubectl: refused('-Inf cannot be marshalled to JSON') },
  { text: '.NaN', kubectl: refused('NaN cannot be marshalled to JSON') },
  { text: '0o17', kubectl: unknown },
  { text: '"\\x41\\N\\_"', kubectl: v('A\u0085\u00a0') },
  { text: "'it''s'", kubectl: v("it's") },
  { text: '!!str 80', kubectl: v('80') },
  { text: '!!float 80', kubectl: v(80) },
  { text: '!!binary aGVsbG8=', kubectl: v('hello') },
  { text: '&num 80', kubectl: v(80) },
  { text: '!custom x', kubectl: unknown },
  { text: '*undefined', kubectl: refused("unknown anchor 'undefined'") },
]

/** Tags the `tag` op writes before a scalar. */
export const TAGS: readonly string[] = [
  '!!str',
  '!!binary',
  '!!int',
  '!!float',
  '!custom',
  '!!null',
  '!!bool',
]

/** Strings that break naive code: separators, quotes, newlines, prototype names, lookalikes, injections. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  'a\nb',
  'a\r\nb',
  'a\rb',
  'a\tb',
  'a\u0000b',
  '"quoted"',
  "it's",
  '\\',
  '../etc/passwd',
  '\u0024{HOME}',
  '$(id)',
  '\u202eevil',
  'Ρod',
  'é',
  '\u{1f600}',
  '# not a comment',
  'key: value',
  '- item',
  '{',
  ']',
  '*alias',
  '&anchor',
  '!tag',
  '|',
  '\u2028',
  '\u0085',
  '\ufeff',
  'null',
  'yes',
  '0x10',
  '1e309',
  'NaN',
  '-0',
  'constructor',
  '__proto__',
  'toString',
  'TCP',
  'SCTP',
  'Ingress',
  '10.0.0.0/8',
  '::/0',
  'x'.repeat(300),
  'a'.repeat(64),
  'node-1"; drop',
  'n1\n}\ntable inet evil {',
]

/** Mapping keys that break naive code. */
export const HOSTILE_KEYS: readonly string[] = [
  '__proto__',
  'constructor',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'prototype',
  '__defineGetter__',
  'length',
  '0',
  '',
  ' ',
  'a.b',
  'a/b',
  'ke\ny',
  '\ufeffkey',
  '<<',
  'true',
  'Spec',
  'KIND',
  'kind',
  'apiVersion',
  'metadata',
  'items',
  'status',
  'ключ',
]

/** Kinds: prototype names, near misses of the kinds we read, lists, empty and odd spellings. */
export const HOSTILE_KINDS: readonly string[] = [
  'constructor',
  '__proto__',
  'toString',
  'valueOf',
  'hasOwnProperty',
  'isPrototypeOf',
  'Pdo',
  'Pood',
  'pod',
  'POD',
  'NetworkPolicyy',
  'Networkpolicy',
  'NetworkPolice',
  'Deploymnet',
  'Namespaces',
  'List',
  'PodList',
  'NetworkPolicyList',
  'ConfigMap',
  'Widget',
  '',
  ' Pod',
  'Pod\n',
  'Ρod',
  'Pod\u0000',
]

export const HOSTILE_API_VERSIONS: readonly string[] = [
  'v1 ',
  'v2',
  'networking.k8s.io/v2',
  'networking.k8s.i0/v1',
  'networking.k8s.io/v1beta1',
  'apps/v1',
  'extensions/v1beta1',
  '__proto__/v1',
  'constructor',
  '',
  '/',
  'example.com/v1',
]

/** Node names: nft/iptables comment and path injection, spaces, quotes, length. */
export const HOSTILE_NODE_NAMES: readonly string[] = [
  'node-1\n}\ntable inet evil {\n',
  'node"; flush ruleset; "',
  'node\r\nx',
  '../etc',
  '..',
  '.',
  'a b',
  'n\u0000',
  '-node',
  'NODE_1',
  'node.example.com',
  'x'.repeat(254),
  'ünïcode',
  '$(reboot)',
  '\\"',
]

/** Text inserted by the `insert` text op. */
export const INSERT_TOKENS: readonly string[] = [
  '\t',
  '{',
  '}',
  '[',
  ']',
  ':',
  ': ',
  '- ',
  '? ',
  '&a ',
  '*a',
  '*a\n',
  '!!binary ',
  '%YAML 1.1\n',
  '---\n',
  '...\n',
  '"',
  "'",
  '\r',
  '\u0000',
  '\ufeff',
  '#',
  '|',
  '>',
  '<<: *a\n',
  '\\',
  '\n  ',
  ',',
  '\u0085',
  '@',
  '`',
]

/** A value of the wrong Go type for a field of type `type` (the `typed` op picks one by index). */
export function wrongValuesFor(type: GoType): readonly HostileValue[] {
  const s = (x: string): HostileValue => ({ v: 'string', s: x })
  const n = (x: number): HostileValue => ({ v: 'number', n: x })
  const raw = (text: string): HostileValue => ({
    v: 'raw',
    token: RAW_TOKENS.findIndex((t) => t.text === text),
  })
  const obj: HostileValue = { v: 'object', keys: ['a'] }
  const arr: HostileValue = { v: 'array', n: 1 }
  const t: HostileValue = { v: 'bool', b: true }
  switch (type.k) {
    case 'string':
      return [n(7), n(1.5), t, obj, arr, raw('yes'), raw('0x10'), raw('80.5'), n(-0)]
    case 'bool':
      return [s('true'), s('yes'), n(1), obj, arr, n(0)]
    case 'int32':
      return [
        s('80'),
        n(80.5),
        n(2 ** 31),
        n(-(2 ** 31) - 1),
        n(1e21),
        t,
        obj,
        arr,
        s('0x50'),
        raw('80.5'),
        raw('yes'),
        raw('1e309'),
        raw('.inf'),
        n(0.1),
      ]
    case 'int64':
      return [s('7'), n(7.5), n(2 ** 63), n(1e300), t, obj, arr, raw('.nan'), raw('1e309')]
    case 'intstr':
      return [
        n(80.5),
        n(2 ** 31),
        n(-(2 ** 31) - 1),
        t,
        obj,
        arr,
        raw('80.5'),
        raw('on'),
        raw('.inf'),
        n(1e21),
      ]
    case 'quantity':
      return [s('abc'), s('1.5.5'), s('1Gb'), s('--1'), s(''), t, obj, arr, raw('yes'), s('1e')]
    case 'time':
      return [
        s('yesterday'),
        n(1600000000),
        s('2024-13-01T00:00:00Z'),
        s('2024-05-01'),
        s('2024-02-30T00:00:00Z'),
        t,
        obj,
        raw('2001-12-14'),
      ]
    case 'struct':
    case 'object':
      return [s('text'), n(7), arr, t, s(''), raw('yes')]
    case 'map':
      return [arr, s('x'), n(7), t]
    case 'slice':
      return [obj, s('x'), n(7), t, s('')]
    case 'any':
      return [n(7)]
  }
}

/** A value the API server's validation (not its decoder) refuses: where, for which kinds, and why. */
export interface ValidationCase {
  readonly kinds: readonly string[]
  /** Path inside the object; for pods the template's spec is used for workloads. */
  readonly path: readonly string[]
  readonly value: JsonValue
  readonly why: string
}

/**
 * Known validation rules the fuzzer checks (pkg/apis/apps/validation, pkg/apis/core/validation):
 * each object is expected to be refused with an error diagnostic.
 */
export const VALIDATION_CASES: readonly ValidationCase[] = [
  {
    kinds: ['Deployment'],
    path: ['spec', 'replicas'],
    value: -1,
    why: 'spec.replicas: must be greater than or equal to 0 (ValidateDeploymentSpec)',
  },
  {
    kinds: ['Deployment'],
    path: ['spec', 'selector'],
    value: {},
    why: 'spec.selector: empty selector is invalid for deployment (ValidateDeploymentSpec)',
  },
  {
    kinds: ['Pod'],
    path: ['spec', 'nodeName'],
    value: 'node-1\n}\ntable inet evil {',
    why: 'spec.nodeName: must be a DNS subdomain (ValidatePodSpec -> ValidateNodeName)',
  },
  {
    kinds: ['Pod'],
    path: ['spec', 'nodeName'],
    value: '../etc',
    why: 'spec.nodeName: must be a DNS subdomain (ValidatePodSpec -> ValidateNodeName)',
  },
  {
    kinds: ['Pod'],
    path: ['spec', 'nodeName'],
    value: 'node "a"',
    why: 'spec.nodeName: must be a DNS subdomain (ValidatePodSpec -> ValidateNodeName)',
  },
  {
    kinds: ['Pod'],
    path: ['metadata', 'name'],
    value: 'Bad_Name',
    why: 'metadata.name: must be a DNS subdomain (already validated: a regression guard)',
  },
  {
    kinds: ['NetworkPolicy'],
    path: ['spec', 'ingress'],
    value: [{ ports: [{ port: 0 }] }],
    why: 'ports[0].port: must be between 1 and 65535 (already validated: a regression guard)',
  },
]

/** The commands under test; `variants` are the output formats and options each one is run with. */
export const COMMANDS = [
  'check',
  'matrix',
  'explain',
  'lint',
  'migrate',
  'compile-nftables',
  'compile-iptables',
] as const
export type CommandName = (typeof COMMANDS)[number]
