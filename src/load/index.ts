/**
 * The loading pipeline: texts -> raw objects (parse) -> checked objects (validate) -> ClusterState
 * (normalize). Pure: the edges read the files and hand their text in.
 */
import type { ClusterState, Diagnostic, RawObject } from '../model/index.js'
import { describeObject } from '../model/index.js'
import { validateObject } from '../validate/index.js'
import { normalizeObjects } from './normalize.js'
import { type InputText, type ParseOptions, parseDocuments, parseInput } from './parse.js'

/** How schema problems (unknown or duplicate fields) count, as kubectl's --validate. */
export type ValidationMode = 'strict' | 'warn' | 'ignore'

export interface LoadOptions {
  readonly validate: ValidationMode
  /** Per-input size limit in bytes (default 32 MiB). */
  readonly maxBytes?: number
}

export interface LoadedCluster {
  readonly cluster: ClusterState
  readonly diagnostics: readonly Diagnostic[]
  /** Every object that was accepted (validated, of any kind), in input order. */
  readonly objects: readonly RawObject[]
}

/** Loads inputs into a cluster: a rejected object is left out with diagnostics, its neighbours stay. */
export function loadCluster(inputs: readonly InputText[], opts: LoadOptions): LoadedCluster {
  const parseOptions: ParseOptions = opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }
  const diagnostics: Diagnostic[] = []
  const accepted: RawObject[] = []
  for (const input of inputs) {
    const parsed = parseInput(input, parseOptions)
    diagnostics.push(...parsed.diagnostics)
    for (const { object, diagnostics: own } of parsed.objects) {
      const checked = checkObject(object, own, opts.validate)
      diagnostics.push(...checked.diagnostics)
      if (checked.accepted) accepted.push(object)
    }
  }
  const normalized = normalizeObjects(accepted)
  diagnostics.push(...normalized.diagnostics)
  return { cluster: normalized.value, diagnostics, objects: accepted }
}

interface Checked {
  readonly accepted: boolean
  readonly diagnostics: readonly Diagnostic[]
}

/** The fate of an object nothing was found about. */
const CLEAN: Checked = { accepted: true, diagnostics: [] }

/**
 * Decides one object's fate. schema.* problems follow the mode (strict: error and the object is
 * rejected; warn: warning; ignore: dropped); validate.* errors always reject (the API server would).
 */
function checkObject(
  object: RawObject,
  parseDiagnostics: readonly Diagnostic[],
  mode: ValidationMode,
): Checked {
  // The validator knows the kinds: it returns nothing for kinds it does not model (ConfigMap, CRDs)
  // and validate.unknown-kind / unknown-version for kinds the API server would not serve (a typo).
  const validated = validateObject(object)
  if (parseDiagnostics.length === 0 && validated.length === 0) return CLEAN
  const name = describeObject(object.value)
  const found = [...parseDiagnostics, ...validated]
  const out: Diagnostic[] = []
  let schemaRejects = false
  let valueRejects = false
  for (const d of found) {
    const withObject: Diagnostic = {
      ...d,
      object: d.object ?? name,
      source: d.source ?? object.locate(d.path),
    }
    if (d.code.startsWith('schema.')) {
      if (mode === 'ignore') continue
      if (mode === 'strict') schemaRejects = true
      out.push({ ...withObject, severity: mode === 'strict' ? 'error' : 'warning' })
    } else {
      if (d.severity === 'error') valueRejects = true
      out.push(withObject)
    }
  }
  if (valueRejects) out.push(rejected(object, name, 'the API server would reject it'))
  else if (schemaRejects)
    out.push(
      rejected(
        object,
        name,
        'the API server would reject it under --validate=strict (use --validate=warn to keep it)',
      ),
    )
  return { accepted: !valueRejects && !schemaRejects, diagnostics: out }
}

function rejected(object: RawObject, name: string, why: string): Diagnostic {
  return {
    code: 'load.rejected',
    severity: 'error',
    message: `${name} was left out: ${why}`,
    object: name,
    path: [],
    source: object.source,
  }
}

export { findTooDeep, findTooDeepTree, MAX_DEPTH, type TooDeep } from './depth.js'
export { DEFAULT_MAX_BYTES, type ParsedInput, type ParsedObject, parseInput } from './parse.js'
export { type InputText, normalizeObjects, type ParseOptions, parseDocuments }
