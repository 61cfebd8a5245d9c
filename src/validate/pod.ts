/**
 * The parts of Pod and workload validation (pkg/apis/core/validation, pkg/apis/apps/validation)
 * that matter for network analysis: names, labels, containers and their ports, and workload
 * selectors that must select their own template.
 */
import type { FieldPath } from '../model/diagnostic.js'
import type {
  JsonObject,
  JsonValue,
  LabelSelector,
  LabelSelectorRequirement,
  SelectorOperator,
} from '../model/index.js'
import { setOwn } from '../model/index.js'
import { matchSelector } from '../semantics/index.js'
import {
  isDNS1123Label,
  isValidPortName,
  isValidPortNum,
  nameIsDNSLabel,
  nameIsDNSSubdomain,
} from './apimachinery.js'
import type { Reporter } from './context.js'
import { asArray, asInteger, asObject, asString } from './context.js'
import { validateAnnotations, validateLabelSelector, validateLabels, validateObjectMeta } from './metadata.js'

/** sets.List(supportedPortProtocols): sorted. */
const CONTAINER_PROTOCOLS = ['SCTP', 'TCP', 'UDP'] as const

/** validateContainerPorts: names unique within one container, numbers in range, known protocols. */
function validateContainerPorts(r: Reporter, ports: JsonValue | undefined, path: FieldPath): void {
  const names = new Set<string>()
  asArray(ports)?.forEach((port, i) => {
    const p = asObject(port)
    if (!p) return
    const idx: FieldPath = [...path, i]
    const name = asString(p.name) ?? ''
    if (name !== '') {
      const msgs = isValidPortName(name)
      for (let m = 0; m < msgs.length; m++)
        r.invalid('validate.invalid-port', [...idx, 'name'], name, msgs[m] as string)
      if (msgs.length === 0) {
        if (names.has(name)) r.duplicate('validate.duplicate', [...idx, 'name'], name)
        else names.add(name)
      }
    }
    const containerPort = p.containerPort
    if (containerPort === undefined || containerPort === null || containerPort === 0) {
      r.required('validate.required', [...idx, 'containerPort'])
    } else if (typeof containerPort === 'number' && Number.isInteger(containerPort)) {
      for (const msg of isValidPortNum(containerPort))
        r.invalid('validate.invalid-port', [...idx, 'containerPort'], containerPort, msg)
    }
    const hostPort = asInteger(p.hostPort)
    if (hostPort !== undefined && hostPort !== 0) {
      for (const msg of isValidPortNum(hostPort))
        r.invalid('validate.invalid-port', [...idx, 'hostPort'], hostPort, msg)
    }
    // An absent or empty protocol is defaulted to TCP before validation.
    const protocol = asString(p.protocol)
    if (
      protocol !== undefined &&
      protocol !== '' &&
      !(CONTAINER_PROTOCOLS as readonly string[]).includes(protocol)
    ) {
      r.notSupported('validate.unsupported-protocol', [...idx, 'protocol'], protocol, CONTAINER_PROTOCOLS)
    }
  })
}

/** Validates containers, init containers and ephemeral containers: names (unique), image, ports. */
function validateContainers(r: Reporter, spec: JsonObject, path: FieldPath): void {
  const containers = asArray(spec.containers) ?? []
  if (containers.length === 0) r.required('validate.required', [...path, 'containers'])
  const names = new Set<string>()
  for (const field of ['containers', 'initContainers', 'ephemeralContainers'] as const) {
    asArray(spec[field])?.forEach((container, i) => {
      const c = asObject(container)
      if (!c) return
      const idx = [...path, field, i]
      const name = asString(c.name) ?? ''
      if (name === '') {
        r.required('validate.required', [...idx, 'name'])
      } else {
        for (const msg of isDNS1123Label(name))
          r.invalid('validate.invalid-name', [...idx, 'name'], name, msg)
        if (names.has(name)) r.duplicate('validate.duplicate', [...idx, 'name'], name)
        names.add(name)
      }
      if ((asString(c.image) ?? '') === '') r.required('validate.required', [...idx, 'image'])
      validateContainerPorts(r, c.ports, [...idx, 'ports'])
    })
  }
}

/** Validates a PodSpec below `path`. */
export function validatePodSpec(r: Reporter, spec: JsonValue | undefined, path: FieldPath): void {
  const s = asObject(spec) ?? {}
  validateContainers(r, s, path)
  // ValidateNodeName is NameIsDNSSubdomain: the node name decides which node programs the pod.
  const nodeName = asString(s.nodeName) ?? ''
  if (nodeName !== '')
    for (const msg of nameIsDNSSubdomain(nodeName, false))
      r.invalid('validate.invalid-name', [...path, 'nodeName'], nodeName, msg)
}

/** Validates a Pod (name: DNS subdomain). */
export function validatePod(r: Reporter, value: JsonObject): void {
  validateObjectMeta(r, value.metadata, nameIsDNSSubdomain, true)
  validatePodSpec(r, value.spec, ['spec'])
}

/** Validates a Namespace (name: DNS label). */
export function validateNamespace(r: Reporter, value: JsonObject): void {
  validateObjectMeta(r, value.metadata, nameIsDNSLabel, false)
}

/** Turns a selector into the model's form when every part is well formed; undefined otherwise. */
function toLabelSelector(value: JsonValue | undefined): LabelSelector | undefined {
  const sel = asObject(value)
  if (!sel) return undefined
  const matchLabels: Record<string, string> = {}
  for (const [k, v] of Object.entries(asObject(sel.matchLabels) ?? {})) {
    if (typeof v !== 'string') return undefined
    setOwn(matchLabels, k, v)
  }
  const matchExpressions: LabelSelectorRequirement[] = []
  for (const e of asArray(sel.matchExpressions) ?? []) {
    const req = asObject(e)
    const operator = req?.operator
    if (
      !req ||
      typeof req.key !== 'string' ||
      !['In', 'NotIn', 'Exists', 'DoesNotExist'].includes(String(operator))
    )
      return undefined
    const values = (asArray(req.values) ?? []).filter((v): v is string => typeof v === 'string')
    matchExpressions.push({ key: req.key, operator: operator as SelectorOperator, values })
  }
  return { matchLabels, matchExpressions }
}

/** Whether a LabelSelector given as an object has neither matchLabels nor matchExpressions entries. */
function isEmptyLabelSelector(sel: JsonObject): boolean {
  return (
    Object.keys(asObject(sel.matchLabels) ?? {}).length + (asArray(sel.matchExpressions)?.length ?? 0) === 0
  )
}

/** Go's %#v of a map[string]string: keys sorted. */
function formatLabelMap(labels: Readonly<Record<string, string>>): string {
  const keys = Object.keys(labels).sort()
  return `map[string]string{${keys.map((k) => `${JSON.stringify(k)}:${JSON.stringify(labels[k])}`).join(', ')}}`
}

/** String-valued labels of a template (non-strings were reported by the schema check). */
function stringLabels(value: JsonValue | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(asObject(value) ?? {})) if (typeof v === 'string') setOwn(out, k, v)
  return out
}

export interface WorkloadOptions {
  /** apps/v1 and apps/v1beta2 require spec.selector (older versions defaulted it from the template). */
  readonly selectorRequired: boolean
  /** ReplicationController's selector is a map; the others use a LabelSelector. */
  readonly mapSelector: boolean
  /** Jobs generate their selector; the template match is only checked for the others. */
  readonly checkTemplateMatch: boolean
  /** The kind has spec.replicas, which must not be negative (ValidateNonnegativeField). */
  readonly replicas?: boolean
  /** The word of "empty selector is invalid for <word>" when an empty LabelSelector is refused. */
  readonly emptySelectorFor?: string
}

/** Go's %#v of an empty metav1.LabelSelector, as the API server prints the invalid value. */
function formatEmptySelector(sel: JsonObject): string {
  const labels = sel.matchLabels === undefined || sel.matchLabels === null ? '(nil)' : '{}'
  const exprs = sel.matchExpressions === undefined || sel.matchExpressions === null ? '(nil)' : '{}'
  return `v1.LabelSelector{MatchLabels:map[string]string${labels}, MatchExpressions:[]v1.LabelSelectorRequirement${exprs}}`
}

/** Validates a pod template below `path` (labels, annotations, pod spec). */
function validatePodTemplate(r: Reporter, template: JsonValue | undefined, path: FieldPath): void {
  const t = asObject(template) ?? {}
  const meta = asObject(t.metadata) ?? {}
  validateLabels(r, meta.labels, [...path, 'metadata', 'labels'])
  validateAnnotations(r, meta.annotations, [...path, 'metadata', 'annotations'])
  validatePodSpec(r, t.spec, [...path, 'spec'])
}

/** Validates a workload (Deployment, StatefulSet, DaemonSet, ReplicaSet, ReplicationController, Job). */
export function validateWorkload(r: Reporter, value: JsonObject, opts: WorkloadOptions): void {
  validateObjectMeta(r, value.metadata, nameIsDNSSubdomain, true)
  const spec = asObject(value.spec) ?? {}
  const selectorValue = spec.selector
  const hasSelector = selectorValue !== undefined && selectorValue !== null
  if (opts.replicas) {
    const replicas = asInteger(spec.replicas)
    if (replicas !== undefined && replicas < 0)
      r.invalid(
        'validate.invalid-value',
        ['spec', 'replicas'],
        replicas,
        'must be greater than or equal to 0',
      )
  }
  if (opts.selectorRequired && !hasSelector) r.required('validate.required', ['spec', 'selector'])
  if (!opts.mapSelector) validateLabelSelector(r, selectorValue, ['spec', 'selector'])
  else validateLabels(r, selectorValue, ['spec', 'selector'])
  const given = asObject(selectorValue)
  if (opts.emptySelectorFor !== undefined && given && isEmptyLabelSelector(given)) {
    r.report(
      'validate.invalid-selector',
      ['spec', 'selector'],
      `Invalid value: ${formatEmptySelector(given)}: empty selector is invalid for ${opts.emptySelectorFor}`,
    )
  }
  if (opts.mapSelector) {
    // An empty selector is defaulted to the template's labels; none at all fails ValidateNonEmptySelector.
    const templateLabels = asObject(asObject(asObject(spec.template)?.metadata)?.labels)
    if (Object.keys(given ?? {}).length === 0 && Object.keys(templateLabels ?? {}).length === 0)
      r.required('validate.required', ['spec', 'selector'])
  }
  validatePodTemplate(r, spec.template, ['spec', 'template'])
  if (!opts.checkTemplateMatch || !hasSelector) return
  const selector = opts.mapSelector
    ? { matchLabels: stringLabels(selectorValue), matchExpressions: [] }
    : toLabelSelector(selectorValue)
  if (!selector || (Object.keys(selector.matchLabels).length === 0 && selector.matchExpressions.length === 0))
    return
  const labels = stringLabels(asObject(asObject(spec.template)?.metadata)?.labels)
  if (!matchSelector(selector, labels)) {
    const path = ['spec', 'template', 'metadata', 'labels']
    r.report(
      'validate.selector-mismatch',
      path,
      `Invalid value: ${formatLabelMap(labels)}: \`selector\` does not match template \`labels\``,
    )
  }
}

/** Validates a CronJob: metadata and the pod template inside jobTemplate. */
export function validateCronJob(r: Reporter, value: JsonObject): void {
  validateObjectMeta(r, value.metadata, nameIsDNSSubdomain, true)
  const spec = asObject(value.spec) ?? {}
  if ((asString(spec.schedule) ?? '') === '') r.required('validate.required', ['spec', 'schedule'])
  const jobTemplate = asObject(spec.jobTemplate) ?? {}
  const jobSpec = asObject(jobTemplate.spec) ?? {}
  validatePodTemplate(r, jobSpec.template, ['spec', 'jobTemplate', 'spec', 'template'])
}
