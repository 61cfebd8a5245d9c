/**
 * What one fuzz case is, as plain data (structured-clone and JSON safe, so workers and saved cases share
 * it): a base from the corpus, structural mutations, how the documents are written out, text-level
 * mutations of the written bytes, the command and the --validate mode. Indices (document, path, token)
 * are taken modulo what exists, so every shrunk recipe is still a valid recipe.
 */

/** A value the mutations put into a manifest. */
export type HostileValue =
  | { readonly v: 'string'; readonly s: string }
  | { readonly v: 'number'; readonly n: number }
  | { readonly v: 'bool'; readonly b: boolean }
  | { readonly v: 'null' }
  /** A mapping with these keys (each mapped to "x"). */
  | { readonly v: 'object'; readonly keys: readonly string[] }
  | { readonly v: 'array'; readonly n: number }
  /** A YAML scalar written verbatim (index into RAW_TOKENS). */
  | { readonly v: 'raw'; readonly token: number }
  /** `char` repeated `size` times (materialised only when written). */
  | { readonly v: 'huge'; readonly char: string; readonly size: number }
  /** A value nested `depth` levels deep (sequences or mappings). */
  | { readonly v: 'deep'; readonly depth: number; readonly style: 'seq' | 'map' | 'block' }

export type RetypeTarget = 'string' | 'number' | 'float' | 'bool' | 'object' | 'array' | 'null'

export type Op =
  /** Replace the value at a path (index into the document's paths). */
  | { readonly op: 'set'; readonly doc: number; readonly path: number; readonly value: HostileValue }
  /** Convert the value at a path to another JSON type ("80" for 80, 7 for "x", ...). */
  | { readonly op: 'retype'; readonly doc: number; readonly path: number; readonly to: RetypeTarget }
  | { readonly op: 'delete'; readonly doc: number; readonly path: number }
  /** Add a key to the mapping at or above a path. */
  | {
      readonly op: 'addKey'
      readonly doc: number
      readonly path: number
      readonly key: string
      readonly value: HostileValue
    }
  | { readonly op: 'renameKey'; readonly doc: number; readonly path: number; readonly key: string }
  | { readonly op: 'kind'; readonly doc: number; readonly kind: string | HostileValue }
  | { readonly op: 'apiVersion'; readonly doc: number; readonly apiVersion: string }
  /**
   * Put a value of the wrong Go type at a typed field (existing or not yet present): index into the
   * document's typed fields, and into the wrong values for that field's Go type.
   */
  | { readonly op: 'typed'; readonly doc: number; readonly path: number; readonly wrong: number }
  /** A value the API server's validation refuses (index into VALIDATION_CASES). */
  | { readonly op: 'invalid'; readonly doc: number; readonly which: number }
  /** Wrap `count` documents from `doc` into a List, itself nested in `depth` more Lists. */
  | { readonly op: 'listify'; readonly doc: number; readonly count: number; readonly depth: number }
  | { readonly op: 'duplicateDoc'; readonly doc: number }
  /** Anchor the node at `from` and write the node at `to` as an alias of it (or merge it in: `<<: *a`). */
  | {
      readonly op: 'alias'
      readonly doc: number
      readonly from: number
      readonly to: number
      readonly merge: boolean
    }
  | { readonly op: 'undefinedAlias'; readonly doc: number; readonly path: number }
  /** Write the scalar at a path with a YAML tag (index into TAGS). */
  | { readonly op: 'tag'; readonly doc: number; readonly path: number; readonly tag: number }
  /** Write a key of the mapping at a path twice: first with `decoy`, then with its real value. */
  | { readonly op: 'dupKey'; readonly doc: number; readonly path: number; readonly decoy: HostileValue }
  /** Set spec.nodeName (Pods and pod templates) of a document, and compile for that node. */
  | { readonly op: 'nodeName'; readonly doc: number; readonly name: string }

export interface RenderChoice {
  readonly format: 'block' | 'flow' | 'json' | 'mixed'
  readonly crlf: boolean
  readonly bom: 'none' | 'utf8' | 'utf16le' | 'utf16be'
  readonly leadingSeparator: boolean
  readonly comments: boolean
  readonly indent: 2 | 4
  /** Double-quote every string, even those that could be plain. */
  readonly quoteAll: boolean
  readonly finalNewline: boolean
}

export type TextOp =
  | { readonly t: 'flip'; readonly at: number; readonly byte: number }
  | { readonly t: 'truncate'; readonly at: number }
  | { readonly t: 'insert'; readonly at: number; readonly what: number }
  | { readonly t: 'delete'; readonly at: number; readonly len: number }
  | { readonly t: 'dupLine'; readonly at: number }

export interface CommandChoice {
  /** Index into COMMANDS. */
  readonly cmd: number
  /** Selects the command's output format and optional flags. */
  readonly variant: number
  /** Endpoints (--from/--to/--pod) and node: indices into the base's, or hostile strings. */
  readonly a: number | string
  readonly b: number | string
  readonly port: number
  /** Adds --strict (bit 0) and -v (bit 1). */
  readonly flags: number
}

export interface Recipe {
  /** The generator family that made it (for reports). */
  readonly family: string
  readonly base: number
  readonly ops: readonly Op[]
  readonly render: RenderChoice
  readonly text: readonly TextOp[]
  readonly command: CommandChoice
  /** Index into the --validate modes. */
  readonly mode: number
}
