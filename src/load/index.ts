/**
 * The loading pipeline: texts -> raw objects (parse) -> checked objects (validate) -> ClusterState
 * (normalize). Pure: the edges read the files and hand their text in.
 */
import type { ClusterState, Diagnostic, DiagnosticCode, RawObject } from '../model/index.js'
import { describeObject } from '../model/index.js'
import { validateObject } from '../validate/index.js'
import { createNormalizer, type LeftOut, type LoadScope, normalizeObjects } from './normalize.js'
import { decodeInput, type InputText, type ParseOptions, parseDecoded, parseDocuments } from './parse.js'

/**
 * What an object may get wrong and still be analysed. strict, warn and ignore are kubectl's --validate:
 * they decide only how unknown and duplicate fields count (server-side field validation). lenient is
 * warn, and also analyses objects the API server would refuse for reasons that touch no verdict
 * (container names and images, kinds nobody serves...), with a warning each. No mode keeps an object
 * the API server cannot decode (decode.*) or whose networking fields it would refuse.
 */
export type ValidationMode = 'strict' | 'warn' | 'ignore' | 'lenient'

export const VALIDATION_MODES: readonly ValidationMode[] = ['strict', 'warn', 'ignore', 'lenient']

export interface LoadOptions {
  readonly validate: ValidationMode
  /** Per-input size limit in bytes (default 128 MiB). */
  readonly maxBytes?: number
  /** Told as each input's documents are read (ParseOptions.onProgress). */
  readonly onProgress?: ParseOptions['onProgress']
  /** Keep only the pods and NetworkPolicies of these namespaces (LoadScope); every object is still read. */
  readonly scope?: LoadScope
}

/** A loaded cluster and what was found while loading it. */
export interface LoadedClusterState {
  readonly cluster: ClusterState
  readonly diagnostics: readonly Diagnostic[]
  /** With a scope: what the cluster left out of the whole input's. */
  readonly leftOut?: LeftOut
}

export interface LoadedCluster extends LoadedClusterState {
  /** Every object that was accepted (validated, of any kind), in input order. */
  readonly objects: readonly RawObject[]
  /** Every object parsed, rejected ones included, in input order (lint reads what was written). */
  readonly written: readonly RawObject[]
}

/** Loads inputs into a cluster: a rejected object is left out with diagnostics, its neighbours stay. */
export function loadCluster(inputs: readonly InputText[], opts: LoadOptions): LoadedCluster {
  const objects: RawObject[] = []
  const written: RawObject[] = []
  const loaded = loadStream(inputs, opts, (object, accepted) => {
    written.push(object)
    if (accepted) objects.push(object)
  })
  return { ...loaded, objects, written }
}

/**
 * loadCluster without the objects read: each object is parsed, validated and read into the cluster in
 * turn, and its data dropped (the commands that only analyse), so memory follows the cluster's size, not
 * the input's.
 */
export function loadClusterState(inputs: Iterable<InputText>, opts: LoadOptions): LoadedClusterState {
  return loadStream(inputs, opts)
}

function loadStream(
  inputs: Iterable<InputText>,
  opts: LoadOptions,
  keep?: (object: RawObject, accepted: boolean) => void,
): LoadedClusterState {
  const parseOptions: ParseOptions = {
    ...(opts.maxBytes === undefined ? {} : { maxBytes: opts.maxBytes }),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  }
  const diagnostics: Diagnostic[] = []
  const normalizer = createNormalizer(opts.scope)
  for (const input of decodeEach(inputs, parseOptions)) {
    if (input.problems) {
      diagnostics.push(...input.problems)
      continue
    }
    // The file's own diagnostics come before those of its objects (known only once it is read).
    const ofObjects: Diagnostic[] = []
    const ofFile = parseDecoded(input, parseOptions, ({ object, diagnostics: own }) => {
      const checked = checkObject(object, own, opts.validate)
      if (checked.diagnostics.length > 0) ofObjects.push(...checked.diagnostics)
      keep?.(object, checked.accepted)
      if (checked.accepted) normalizer.add(object)
    })
    diagnostics.push(...ofFile, ...ofObjects)
  }
  const normalized = normalizer.finish()
  diagnostics.push(...normalized.diagnostics)
  return {
    cluster: normalized.value,
    diagnostics,
    ...(normalized.leftOut ? { leftOut: normalized.leftOut } : {}),
  }
}

/**
 * The inputs decoded one at a time: no variable here holds an input's bytes once its text is made, so
 * when the caller holds none either (an iterator that hands them over) they can go before it is read.
 */
function* decodeEach(
  inputs: Iterable<InputText>,
  opts: ParseOptions,
): Generator<ReturnType<typeof decodeInput>> {
  const it = inputs[Symbol.iterator]()
  for (;;) {
    const next = decodeNext(it, opts)
    if (!next) return
    yield next
  }
}

function decodeNext(it: Iterator<InputText>, opts: ParseOptions): ReturnType<typeof decodeInput> | undefined {
  const r = it.next()
  return r.done ? undefined : decodeInput(r.value, opts)
}

interface Checked {
  readonly accepted: boolean
  readonly diagnostics: readonly Diagnostic[]
}

/** The fate of an object nothing was found about. */
const CLEAN: Checked = { accepted: true, diagnostics: [] }

/**
 * Decides one object's fate. decode.* problems (the API server's decoder refuses the value) always
 * reject; schema.* problems (field validation) follow the mode (strict: error and the object is
 * rejected; warn and lenient: warning; ignore: dropped); validate.* errors reject, except under lenient
 * those that touch no verdict (isLenientProblem), which become warnings.
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
  let decodeRejects = false
  let schemaRejects = false
  let lenientRejects = false
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
    } else if (d.severity !== 'error') {
      out.push(withObject)
    } else if (d.code.startsWith('decode.')) {
      decodeRejects = true
      out.push(withObject)
    } else if (isLenientProblem(d, object)) {
      if (mode === 'lenient') out.push({ ...withObject, severity: 'warning' })
      else {
        lenientRejects = true
        out.push(withObject)
      }
    } else {
      valueRejects = true
      out.push(withObject)
    }
  }
  const why = decodeRejects
    ? 'the API server cannot decode it, whatever --validate says'
    : valueRejects
      ? 'the API server would reject it'
      : lenientRejects
        ? 'the API server would reject it; nothing in it decides a verdict (use --validate=lenient to analyse it anyway)'
        : schemaRejects
          ? 'the API server would reject it under --validate=strict (use --validate=warn to keep it)'
          : undefined
  if (why) out.push(rejected(object, name, why))
  return { accepted: why === undefined, diagnostics: out }
}

/** The fields below a pod spec that name containers and their images. */
const CONTAINER_LISTS: ReadonlySet<string | number> = new Set([
  'containers',
  'initContainers',
  'ephemeralContainers',
])

/**
 * Whether an API-validation error touches no verdict, so that --validate=lenient may analyse the object
 * anyway: a container's name or image (missing, malformed, repeated), a pod spec without containers,
 * a CronJob without schedule, annotations of anything but a Namespace (whose annotations can isolate
 * it), and kinds that no API serves unless they could be a NetworkPolicy (such an object is then
 * skipped, as any kind Palisade does not read). Labels, selectors, ports, addresses, names, namespaces
 * and policy rules are never relaxed.
 */
function isLenientProblem(d: Diagnostic, object: RawObject): boolean {
  const path = d.path
  const last = path[path.length - 1]
  switch (d.code) {
    case 'validate.unknown-kind': {
      const apiVersion = object.value.apiVersion
      return (
        !/NetworkPolicy/i.test(d.message) &&
        !(typeof apiVersion === 'string' && apiVersion.startsWith('networking.k8s.io/'))
      )
    }
    case 'validate.invalid-annotation':
      return object.value.kind !== 'Namespace'
    case 'validate.required':
      if (last === 'containers') return true
      if (last === 'schedule' && object.value.kind === 'CronJob') return true
      return isContainerField(path, last === 'name' || last === 'image')
    case 'validate.invalid-name':
    case 'validate.duplicate':
      return isContainerField(path, last === 'name')
    default:
      return false
  }
}

/** Whether the path ends in containers[i].<field> (the field test is the caller's). */
function isContainerField(path: Diagnostic['path'], field: boolean): boolean {
  const index = path[path.length - 2]
  return field && typeof index === 'number' && CONTAINER_LISTS.has(path[path.length - 3] ?? '')
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

/** What an analysis did not see: documents (or files) not read, and objects left out, with the reasons. */
export interface Omissions {
  readonly documents: number
  readonly objects: number
  /**
   * Policies of other kinds (AdminNetworkPolicy, Calico, Cilium...) that verdicts ignore, and
   * ClusterNetworkPolicy peers that are not analysed (domainNames).
   */
  readonly policies: number
  /** The error diagnostics that say why, in input order. */
  readonly reasons: readonly Diagnostic[]
}

/** Errors that mean a file or document was not read at all. */
const DOCUMENT_CODES: ReadonlySet<DiagnosticCode> = new Set<DiagnosticCode>([
  'yaml.syntax',
  'yaml.alias-limit',
  'yaml.unknown-anchor',
  'load.too-deep',
  'load.not-an-object',
  'load.too-large',
  'load.binary',
  'input.not-found',
  'input.unreadable',
  'input.no-manifests',
  'json.syntax',
])
/** Errors that mean an object was read and then left out of the cluster. */
const OBJECT_CODES: ReadonlySet<DiagnosticCode> = new Set<DiagnosticCode>([
  'load.rejected',
  'load.unknown-kind',
])

/**
 * Finds, among the diagnostics of a load (and of reading the inputs), what makes the input partial:
 * a verdict then assumes the cluster holds only what was read, and says so. Undefined when nothing
 * was left out. Warnings do not count (under --validate=lenient or warn the object was analysed), except
 * a policy of another kind that no verdict takes into account (docs/semantics.md#other-policy-kinds).
 */
export function findOmissions(diagnostics: readonly Diagnostic[]): Omissions | undefined {
  let documents = 0
  let objects = 0
  let policies = 0
  const reasons: Diagnostic[] = []
  for (const d of diagnostics) {
    if (d.code === 'load.unanalysed-policy' || d.code === 'load.unsupported-peer') {
      policies++
      reasons.push(d)
      continue
    }
    if (d.severity !== 'error') continue
    if (DOCUMENT_CODES.has(d.code)) documents++
    else if (OBJECT_CODES.has(d.code)) objects++
    else continue
    reasons.push(d)
  }
  return reasons.length === 0 ? undefined : { documents, objects, policies, reasons }
}

export { findTooDeep, findTooDeepTree, MAX_DEPTH, type TooDeep } from './depth.js'
export { createNormalizer, type LeftOut, type LoadScope, type Normalizer } from './normalize.js'
export { DEFAULT_MAX_BYTES, type ParsedInput, type ParsedObject, parseInput } from './parse.js'
export {
  checkPodCIDRs,
  type PodRange,
  type PodRangeProblem,
  type PodRangesRead,
  readNodePodRanges,
} from './pod-ranges.js'
export { type InputText, normalizeObjects, type ParseOptions, parseDocuments }
