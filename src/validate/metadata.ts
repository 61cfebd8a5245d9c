/**
 * ObjectMeta, labels and label selectors, as apimachinery validates them
 * (api/validation/objectmeta.go, apis/meta/v1/validation/validation.go).
 */
import type { FieldPath } from '../model/diagnostic.js'
import type { JsonValue } from '../model/raw.js'
import { byteLength, isQualifiedName, isValidLabelValue, nameIsDNSLabel } from './apimachinery.js'
import type { Reporter } from './context.js'
import { asArray, asObject, asString } from './context.js'

export type NameFn = (name: string, prefix: boolean) => string[]

/** Validates a label key (qualified name); `path` is where the API reports it, `at` the key itself. */
export function validateLabelName(r: Reporter, key: string, path: FieldPath, at?: FieldPath): void {
  for (const msg of isQualifiedName(key)) r.invalid('validate.invalid-label', path, key, msg, at)
}

/** ValidateLabels: every key a qualified name, every value a label value; errors at the map's path. */
export function validateLabels(r: Reporter, labels: JsonValue | undefined, path: FieldPath): void {
  const map = asObject(labels)
  if (!map) return
  const keys = Object.keys(map)
  for (let n = 0; n < keys.length; n++) {
    const k = keys[n] as string
    // The key's own path is built only for a diagnostic (this runs for every label of every object).
    const keyMsgs = isQualifiedName(k)
    for (let i = 0; i < keyMsgs.length; i++)
      r.invalid('validate.invalid-label', path, k, keyMsgs[i] as string, [...path, k])
    const v = map[k]
    if (typeof v !== 'string') continue
    const valueMsgs = isValidLabelValue(v)
    for (let i = 0; i < valueMsgs.length; i++)
      r.invalid('validate.invalid-label', path, v, valueMsgs[i] as string, [...path, k])
  }
}

/** ValidateLabelSelector (networking passes AllowInvalidLabelValueInSelector=false on create). */
export function validateLabelSelector(r: Reporter, selector: JsonValue | undefined, path: FieldPath): void {
  const sel = asObject(selector)
  if (!sel) return
  validateLabels(r, sel.matchLabels, [...path, 'matchLabels'])
  asArray(sel.matchExpressions)?.forEach((expr, i) => {
    const req = asObject(expr)
    if (!req) return
    const p = [...path, 'matchExpressions', i]
    const values = asArray(req.values) ?? []
    const operator = req.operator
    if (operator === 'In' || operator === 'NotIn') {
      if (values.length === 0)
        r.required(
          'validate.invalid-selector',
          [...p, 'values'],
          "must be specified when `operator` is 'In' or 'NotIn'",
        )
    } else if (operator === 'Exists' || operator === 'DoesNotExist') {
      if (values.length > 0)
        r.forbidden(
          'validate.invalid-selector',
          [...p, 'values'],
          "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
        )
    } else {
      r.invalid(
        'validate.invalid-selector',
        [...p, 'operator'],
        typeof operator === 'string' ? operator : '',
        'not a valid selector operator',
      )
    }
    const key = asString(req.key) ?? ''
    validateLabelName(r, key, [...p, 'key'])
    values.forEach((v, j) => {
      if (typeof v !== 'string') return
      for (const msg of isValidLabelValue(v)) r.invalid('validate.invalid-label', [...p, 'values', j], v, msg)
    })
  })
}

const LABELS_PATH: FieldPath = ['metadata', 'labels']
const ANNOTATIONS_PATH: FieldPath = ['metadata', 'annotations']

/**
 * ValidateObjectMeta for objects read from manifests: a missing namespace is not an error (kubectl
 * fills in the context's namespace), a missing name is.
 */
export function validateObjectMeta(
  r: Reporter,
  metadata: JsonValue | undefined,
  nameFn: NameFn,
  namespaced: boolean,
): void {
  const meta = asObject(metadata) ?? {}
  const path = ['metadata']
  const generateName = asString(meta.generateName) ?? ''
  if (generateName !== '') {
    for (const msg of nameFn(generateName, true))
      r.invalid('validate.invalid-name', [...path, 'generateName'], generateName, msg)
  }
  const name = asString(meta.name) ?? ''
  if (name === '' && generateName === '') {
    r.required('validate.required', [...path, 'name'], 'name or generateName is required')
  } else if (name !== '') {
    for (const msg of nameFn(name, false)) r.invalid('validate.invalid-name', [...path, 'name'], name, msg)
  }
  const namespace = asString(meta.namespace) ?? ''
  if (namespaced && namespace !== '') {
    for (const msg of nameIsDNSLabel(namespace, false))
      r.invalid('validate.invalid-name', [...path, 'namespace'], namespace, msg)
  }
  if (typeof meta.generation === 'number' && meta.generation < 0) {
    r.invalid(
      'validate.invalid-value',
      [...path, 'generation'],
      meta.generation,
      'must be greater than or equal to 0',
    )
  }
  validateLabels(r, meta.labels, LABELS_PATH)
  validateAnnotations(r, meta.annotations, ANNOTATIONS_PATH)
}

/** ValidateAnnotations: keys are qualified names, compared in lower case. */
export function validateAnnotations(r: Reporter, annotations: JsonValue | undefined, path: FieldPath): void {
  const map = asObject(annotations)
  if (!map) return
  let total = 0
  for (const [k, v] of Object.entries(map)) {
    for (const msg of isQualifiedName(k.toLowerCase()))
      r.invalid('validate.invalid-annotation', path, k, msg, [...path, k])
    total += byteLength(k) + (typeof v === 'string' ? byteLength(v) : 0)
  }
  if (total > 256 * 1024)
    r.report('validate.invalid-annotation', path, `Too long: must have at most ${256 * 1024} bytes`)
}
