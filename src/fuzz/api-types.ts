/**
 * A reference model of how the API server DECODES the kinds Palisade analyses: the Go type of every field
 * the fuzzer mutates, transcribed from k8s.io/api (core/v1/types.go, apps/v1/types.go,
 * networking/v1/types.go) and k8s.io/apimachinery (meta/v1 ObjectMeta, LabelSelector, Time;
 * api/resource Quantity; util/intstr IntOrString).
 *
 * The API server decodes a request body into these Go structs before it validates anything; a JSON value
 * of the wrong Go type (a string where an int32 is, 80.5 for an int32, a string for a struct, a malformed
 * quantity or timestamp) is refused with 400 whatever `kubectl --validate` says. Palisade accepting such
 * an object in any --validate mode is a "missed rejection". Unknown fields are dropped by the decoder, so
 * they are not decoding errors; fields this model does not list are not judged (`any`).
 *
 * This file is independent of src/validate on purpose: it is the oracle the fuzzer holds Palisade to.
 */
import type { JsonValue } from '../model/index.js'

export type GoType =
  | { readonly k: 'string' | 'bool' | 'int32' | 'int64' | 'intstr' | 'quantity' | 'time' | 'any' }
  /** A struct: listed fields are decoded with their type, other keys are dropped (non-strict decoding). */
  | { readonly k: 'struct'; readonly fields: Readonly<Record<string, GoType>> }
  /** A struct this model does not look into: it must still be a JSON object (or null). */
  | { readonly k: 'object' }
  | { readonly k: 'map'; readonly values: GoType }
  | { readonly k: 'slice'; readonly items: GoType }

const t = (k: 'string' | 'bool' | 'int32' | 'int64' | 'intstr' | 'quantity' | 'time' | 'any'): GoType => ({
  k,
})
const str = t('string')
const bool = t('bool')
const int32 = t('int32')
const int64 = t('int64')
const intstr = t('intstr')
const quantity = t('quantity')
const time = t('time')
const any = t('any')
const object: GoType = { k: 'object' }
const struct = (fields: Readonly<Record<string, GoType>>): GoType => ({ k: 'struct', fields })
const slice = (items: GoType): GoType => ({ k: 'slice', items })
const map = (values: GoType): GoType => ({ k: 'map', values })
const stringMap = map(str)

/** metav1.ManagedFieldsEntry (fieldsV1 is raw JSON). */
const managedFieldsEntry = struct({
  manager: str,
  operation: str,
  apiVersion: str,
  time,
  fieldsType: str,
  fieldsV1: any,
  subresource: str,
})

/** metav1.OwnerReference. */
const ownerReference = struct({
  apiVersion: str,
  kind: str,
  name: str,
  uid: str,
  controller: bool,
  blockOwnerDeletion: bool,
})

/** metav1.ObjectMeta. */
export const objectMeta: GoType = struct({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int64,
  creationTimestamp: time,
  deletionTimestamp: time,
  deletionGracePeriodSeconds: int64,
  labels: stringMap,
  annotations: stringMap,
  ownerReferences: slice(ownerReference),
  finalizers: slice(str),
  managedFields: slice(managedFieldsEntry),
})

/** metav1.LabelSelector. */
export const labelSelector: GoType = struct({
  matchLabels: stringMap,
  matchExpressions: slice(struct({ key: str, operator: str, values: slice(str) })),
})

const typeMeta = { apiVersion: str, kind: str }

// --- networking/v1 (extensions/v1beta1 has the same fields) ---

const networkPolicyPeer = struct({
  podSelector: labelSelector,
  namespaceSelector: labelSelector,
  ipBlock: struct({ cidr: str, except: slice(str) }),
})
const networkPolicyPort = struct({ protocol: str, port: intstr, endPort: int32 })

/** networking/v1 NetworkPolicy (its status field was removed: an unknown field now). */
export const networkPolicy: GoType = struct({
  ...typeMeta,
  metadata: objectMeta,
  spec: struct({
    podSelector: labelSelector,
    ingress: slice(struct({ ports: slice(networkPolicyPort), from: slice(networkPolicyPeer) })),
    egress: slice(struct({ ports: slice(networkPolicyPort), to: slice(networkPolicyPeer) })),
    policyTypes: slice(str),
  }),
})

// --- core/v1 ---

const resourceList = map(quantity)
const resourceRequirements = struct({ limits: resourceList, requests: resourceList, claims: slice(object) })

const containerPort = struct({ name: str, hostPort: int32, containerPort: int32, protocol: str, hostIP: str })

const containerFields: Record<string, GoType> = {
  name: str,
  image: str,
  command: slice(str),
  args: slice(str),
  workingDir: str,
  ports: slice(containerPort),
  envFrom: slice(object),
  env: slice(struct({ name: str, value: str, valueFrom: object })),
  resources: resourceRequirements,
  resizePolicy: slice(object),
  restartPolicy: str,
  volumeMounts: slice(object),
  volumeDevices: slice(object),
  livenessProbe: object,
  readinessProbe: object,
  startupProbe: object,
  lifecycle: object,
  terminationMessagePath: str,
  terminationMessagePolicy: str,
  imagePullPolicy: str,
  securityContext: object,
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
}
const container = struct(containerFields)

/** core/v1 PodSpec (the fields Palisade reads, and every scalar field next to them). */
export const podSpec: GoType = struct({
  volumes: slice(object),
  initContainers: slice(container),
  containers: slice(container),
  ephemeralContainers: slice(struct({ ...containerFields, targetContainerName: str })),
  restartPolicy: str,
  terminationGracePeriodSeconds: int64,
  activeDeadlineSeconds: int64,
  dnsPolicy: str,
  nodeSelector: stringMap,
  serviceAccountName: str,
  serviceAccount: str,
  automountServiceAccountToken: bool,
  nodeName: str,
  hostNetwork: bool,
  hostPID: bool,
  hostIPC: bool,
  shareProcessNamespace: bool,
  securityContext: object,
  imagePullSecrets: slice(object),
  hostname: str,
  subdomain: str,
  affinity: object,
  schedulerName: str,
  tolerations: slice(object),
  hostAliases: slice(object),
  priorityClassName: str,
  priority: int32,
  dnsConfig: object,
  readinessGates: slice(object),
  runtimeClassName: str,
  enableServiceLinks: bool,
  preemptionPolicy: str,
  overhead: resourceList,
  topologySpreadConstraints: slice(object),
  setHostnameAsFQDN: bool,
  os: object,
  hostUsers: bool,
  schedulingGates: slice(object),
  resourceClaims: slice(object),
  resources: resourceRequirements,
  hostnameOverride: str,
})

const containerState = struct({
  waiting: struct({ reason: str, message: str }),
  running: struct({ startedAt: time }),
  terminated: struct({
    exitCode: int32,
    signal: int32,
    reason: str,
    message: str,
    startedAt: time,
    finishedAt: time,
    containerID: str,
  }),
})
const containerStatus = struct({
  name: str,
  state: containerState,
  lastState: containerState,
  ready: bool,
  restartCount: int32,
  image: str,
  imageID: str,
  containerID: str,
  started: bool,
  allocatedResources: resourceList,
  resources: resourceRequirements,
})

/** core/v1 PodStatus: a kubectl dump carries it; the API server decodes it (then ignores it on create). */
const podStatus = struct({
  observedGeneration: int64,
  phase: str,
  conditions: slice(
    struct({
      type: str,
      observedGeneration: int64,
      status: str,
      lastProbeTime: time,
      lastTransitionTime: time,
      reason: str,
      message: str,
    }),
  ),
  message: str,
  reason: str,
  nominatedNodeName: str,
  hostIP: str,
  hostIPs: slice(struct({ ip: str })),
  podIP: str,
  podIPs: slice(struct({ ip: str })),
  startTime: time,
  initContainerStatuses: slice(containerStatus),
  containerStatuses: slice(containerStatus),
  qosClass: str,
  ephemeralContainerStatuses: slice(containerStatus),
  resize: str,
  allocatedResources: resourceList,
  resources: resourceRequirements,
})

export const pod: GoType = struct({ ...typeMeta, metadata: objectMeta, spec: podSpec, status: podStatus })

const condition = struct({
  type: str,
  status: str,
  lastTransitionTime: time,
  reason: str,
  message: str,
})

export const namespace: GoType = struct({
  ...typeMeta,
  metadata: objectMeta,
  spec: struct({ finalizers: slice(str) }),
  status: struct({ phase: str, conditions: slice(condition) }),
})

// --- apps/v1 (the beta versions add rollbackTo) ---

const podTemplateSpec = struct({ metadata: objectMeta, spec: podSpec })

export const deployment: GoType = struct({
  ...typeMeta,
  metadata: objectMeta,
  spec: struct({
    replicas: int32,
    selector: labelSelector,
    template: podTemplateSpec,
    strategy: struct({
      type: str,
      rollingUpdate: struct({ maxUnavailable: intstr, maxSurge: intstr }),
    }),
    minReadySeconds: int32,
    revisionHistoryLimit: int32,
    paused: bool,
    progressDeadlineSeconds: int32,
    rollbackTo: struct({ revision: int64 }),
  }),
  status: struct({
    observedGeneration: int64,
    replicas: int32,
    updatedReplicas: int32,
    readyReplicas: int32,
    availableReplicas: int32,
    unavailableReplicas: int32,
    terminatingReplicas: int32,
    conditions: slice(
      struct({
        type: str,
        status: str,
        lastUpdateTime: time,
        lastTransitionTime: time,
        reason: str,
        message: str,
      }),
    ),
    collisionCount: int32,
  }),
})

/** The Go type of an object of this apiVersion/kind, when the model has it. */
export function goTypeOf(apiVersion: unknown, kind: unknown): GoType | undefined {
  if (typeof apiVersion !== 'string' || typeof kind !== 'string') return undefined
  switch (`${apiVersion}/${kind}`) {
    case 'v1/Pod':
      return pod
    case 'v1/Namespace':
      return namespace
    case 'networking.k8s.io/v1/NetworkPolicy':
    case 'extensions/v1beta1/NetworkPolicy':
      return networkPolicy
    case 'apps/v1/Deployment':
    case 'apps/v1beta1/Deployment':
    case 'apps/v1beta2/Deployment':
    case 'extensions/v1beta1/Deployment':
      return deployment
    default:
      return undefined
  }
}

/** Where and why the API server's decoder refuses a value. */
export interface DecodeProblem {
  readonly path: readonly (string | number)[]
  /** The Go type the field has. */
  readonly expected: GoType['k']
  /** What the value is, in words that do not depend on the value (for grouping): 'string', 'fraction'. */
  readonly got: string
  readonly reason: string
}

const INT32_MIN = -(2 ** 31)
const INT32_MAX = 2 ** 31 - 1
const INT64_LIMIT = 2 ** 63

function jsonKind(v: JsonValue): string {
  if (v === null) return 'null'
  if (Array.isArray(v)) return 'array'
  return typeof v
}

/**
 * The int32 decoding rule: a JSON number that strconv.ParseInt(text, 10, 32) accepts. Palisade's values
 * cannot tell 80.0 from 80 (neither can YAML through kubectl: go-yaml's float64 80 marshals as "80"), so an
 * integral number is an integer here.
 */
function isInt32(v: JsonValue): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= INT32_MIN && v <= INT32_MAX
}

function isInt64(v: JsonValue): boolean {
  return typeof v === 'number' && Number.isInteger(v) && v >= -INT64_LIMIT && v < INT64_LIMIT
}

const DAYS = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-](\d{2}):(\d{2}))$/

/** metav1.Time.UnmarshalJSON: a JSON string that time.Parse(time.RFC3339, s) accepts. */
export function isRFC3339(s: string): boolean {
  const m = RFC3339.exec(s)
  if (!m) return false
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as number[]
  if (month! < 1 || month! > 12 || day! < 1) return false
  const leap = year! % 4 === 0 && (year! % 100 !== 0 || year! % 400 === 0)
  const maxDay = month === 2 && !leap ? 28 : (DAYS[month! - 1] as number)
  if (day! > maxDay || hour! > 23 || minute! > 59 || second! > 59) return false
  if (m[9] !== undefined && (Number(m[9]) > 23 || Number(m[10]) > 59)) return false
  return true
}

const QUANTITY_SUFFIXES = new Set([
  '',
  'Ki',
  'Mi',
  'Gi',
  'Ti',
  'Pi',
  'Ei',
  'n',
  'u',
  'm',
  'k',
  'M',
  'G',
  'T',
  'P',
  'E',
])
/** Go's strings.TrimSpace set (unicode.IsSpace); unlike String.prototype.trim it keeps U+FEFF. */
const GO_SPACE =
  /^[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+|[\t\n\v\f\r \u0085\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+$/g
const isDigit = (c: string | undefined): boolean => c !== undefined && c >= '0' && c <= '9'

/**
 * resource.ParseQuantity (api/resource/quantity.go, parseQuantityString + suffixer.interpret), step by
 * step: sign, leading zeros, digits, optional fraction, then suffix characters from "eEinumkKMGTP", an
 * optional sign and digits to the end; the suffix must be binary (Ki..Ei), decimal (n..E) or an exponent
 * (e3, E-2). Quantity.UnmarshalJSON trims spaces first. (Go accepts oddities such as "+", "." or "Gi" as
 * zero: so does this model, to never call a quantity the API server takes invalid.)
 */
export function isQuantity(text: string): boolean {
  const s = text.replace(GO_SPACE, '')
  if (s === '') return false
  const end = s.length
  let pos = 0
  if (s[0] === '-' || s[0] === '+') pos++
  while (pos < end && s[pos] === '0') pos++
  if (pos >= end) return true
  while (isDigit(s[pos])) pos++
  if (pos >= end) return true
  if (s[pos] === '.') {
    pos++
    while (isDigit(s[pos])) pos++
    if (pos >= end) return true
  }
  const suffixStart = pos
  while (pos < end && 'eEinumkKMGTP'.includes(s[pos] as string)) pos++
  if (pos < end) {
    if (s[pos] === '-' || s[pos] === '+') pos++
    while (isDigit(s[pos])) pos++
    if (pos < end) return false
  }
  const suffix = s.slice(suffixStart)
  if (QUANTITY_SUFFIXES.has(suffix)) return true
  // An exponent: strconv.ParseInt of what follows the e must fit an int64.
  return /^[eE][+-]?[0-9]+$/.test(suffix) && Math.abs(Number(suffix.slice(1))) < 2 ** 63
}

/** Returns why the API server cannot decode `value` as `type` (empty when it can), at most `limit` problems. */
export function decodeProblems(type: GoType, value: JsonValue | undefined, limit = 8): DecodeProblem[] {
  const out: DecodeProblem[] = []
  // Iterative walk: hostile inputs nest deeply and the oracle must not itself overflow the stack.
  const stack: { type: GoType; value: JsonValue | undefined; path: (string | number)[] }[] = [
    { type, value, path: [] },
  ]
  const bad = (path: (string | number)[], expected: GoType['k'], value: JsonValue, reason: string): void => {
    if (out.length < limit) out.push({ path, expected, got: describeValue(value), reason })
  }
  while (stack.length > 0 && out.length < limit) {
    const { type: ty, value: v, path } = stack.pop()!
    if (v === undefined || v === null) continue // null decodes as "absent" for every Go type
    switch (ty.k) {
      case 'any':
        break
      case 'string':
        if (typeof v !== 'string') bad(path, ty.k, v, `cannot unmarshal ${jsonKind(v)} into a Go string`)
        break
      case 'bool':
        if (typeof v !== 'boolean') bad(path, ty.k, v, `cannot unmarshal ${jsonKind(v)} into a Go bool`)
        break
      case 'int32':
        if (!isInt32(v)) bad(path, ty.k, v, `cannot unmarshal ${preview(v)} into a Go int32`)
        break
      case 'int64':
        if (!isInt64(v)) bad(path, ty.k, v, `cannot unmarshal ${preview(v)} into a Go int64`)
        break
      case 'intstr':
        if (typeof v !== 'string' && !isInt32(v))
          bad(path, ty.k, v, `cannot unmarshal ${preview(v)} into an IntOrString (string or int32)`)
        break
      case 'quantity':
        if (typeof v === 'number') {
          if (!Number.isFinite(v)) bad(path, ty.k, v, 'not a quantity')
        } else if (typeof v !== 'string' || !isQuantity(v))
          bad(path, ty.k, v, `quantities must match the regular expression (got ${preview(v)})`)
        break
      case 'time':
        if (typeof v !== 'string' || !isRFC3339(v))
          bad(path, ty.k, v, `cannot parse ${preview(v)} as an RFC 3339 time`)
        break
      case 'object':
        if (typeof v !== 'object' || Array.isArray(v))
          bad(path, ty.k, v, `cannot unmarshal ${jsonKind(v)} into a Go struct`)
        break
      case 'struct':
        if (typeof v !== 'object' || Array.isArray(v)) {
          bad(path, ty.k, v, `cannot unmarshal ${jsonKind(v)} into a Go struct`)
          break
        }
        for (const key of Object.keys(v)) {
          const field = Object.hasOwn(ty.fields, key) ? ty.fields[key] : undefined
          if (field) stack.push({ type: field, value: v[key], path: [...path, key] })
        }
        break
      case 'map':
        if (typeof v !== 'object' || Array.isArray(v)) {
          bad(path, ty.k, v, `cannot unmarshal ${jsonKind(v)} into a Go map`)
          break
        }
        for (const key of Object.keys(v)) stack.push({ type: ty.values, value: v[key], path: [...path, key] })
        break
      case 'slice':
        if (!Array.isArray(v)) {
          bad(path, ty.k, v, `cannot unmarshal ${jsonKind(v)} into a Go slice`)
          break
        }
        v.forEach((item, i) => {
          stack.push({ type: ty.items, value: item, path: [...path, i] })
        })
        break
    }
  }
  return out
}

/** Decodes a whole object by its own apiVersion and kind; undefined when the model does not have the kind. */
export function decodeObject(value: JsonValue): DecodeProblem[] | undefined {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined
  const type = goTypeOf(value.apiVersion, value.kind)
  return type ? decodeProblems(type, value) : undefined
}

/** A value's JSON kind, refined for numbers (fraction, out-of-range integer) and strings (empty, text). */
function describeValue(v: JsonValue): string {
  if (typeof v === 'number') {
    if (!Number.isInteger(v)) return 'fraction'
    return isInt32(v) ? 'integer' : isInt64(v) ? 'int64-integer' : 'huge-integer'
  }
  if (typeof v === 'string') return v === '' ? 'empty-string' : 'string'
  return jsonKind(v)
}

/** A short, safe rendering of a value for messages (never walks a deep or huge value). */
function preview(v: JsonValue): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v)
  return jsonKind(v)
}
