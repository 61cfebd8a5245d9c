/**
 * Checks on manifests as written (every parsed object, also those validation rejected): legacy API,
 * capitalised rule keys, protocol case, defaulted protocols, a duplicate name: meant as namespace:.
 * They explain what the schema diagnostics mean for the policy, and point at them.
 */
import {
  type Diagnostic,
  describeObject,
  type FieldPath,
  formatPath,
  type JsonObject,
  type JsonValue,
  LEGACY_ISOLATION_ANNOTATION,
  PROTOCOLS,
  type RawObject,
} from '../model/index.js'
import { lintRule } from './rules.js'

const asObject = (v: JsonValue | undefined): JsonObject | undefined =>
  v !== null && typeof v === 'object' && !Array.isArray(v) ? v : undefined
const asArray = (v: JsonValue | undefined): readonly JsonValue[] => (Array.isArray(v) ? v : [])

function finding(raw: RawObject, code: string, path: FieldPath, message: string): Diagnostic {
  return {
    code,
    severity: lintRule(code)?.severity ?? 'warning',
    message,
    object: describeObject(raw.value),
    path,
    source: raw.locate(path),
  }
}

/** Field names by their lower-case spelling (Maps: a key such as `constructor` is not a field). */
const SPEC_FIELDS: ReadonlyMap<string, string> = new Map([
  ['ingress', 'ingress'],
  ['egress', 'egress'],
  ['podselector', 'podSelector'],
  ['policytypes', 'policyTypes'],
])
const RULE_FIELDS: ReadonlyMap<string, string> = new Map([
  ['from', 'from'],
  ['to', 'to'],
  ['ports', 'ports'],
])

/** Reads policyTypes as written (strings only). */
function writtenPolicyTypes(spec: JsonObject): string[] {
  return asArray(spec.policyTypes).filter((t): t is string => typeof t === 'string')
}

function checkMisspelledKeys(raw: RawObject, spec: JsonObject, out: Diagnostic[]): void {
  for (const key of Object.keys(spec)) {
    const right = SPEC_FIELDS.get(key.toLowerCase())
    if (right === undefined || right === key) continue
    const path: FieldPath = ['spec', key]
    let consequence = `spec.${key} is not read (field names are case-sensitive)`
    if (right === 'ingress' || right === 'egress') {
      const type = right === 'ingress' ? 'Ingress' : 'Egress'
      const types = writtenPolicyTypes(spec)
      const isolates = types.includes(type) || (types.length === 0 && type === 'Ingress')
      if (spec[right] === undefined && isolates) {
        consequence += `: the policy has policyTypes ${type} and no ${right} rules, so it denies all ${right} of the pods it selects`
      } else {
        consequence += `: its ${asArray(spec[key]).length} rule(s) are ignored`
      }
    }
    out.push(
      finding(
        raw,
        'lint.misspelled-rules-key',
        path,
        `${consequence}; write ${right}: (see schema.unknown-field for ${formatPath(path)}: under --validate=strict the API server rejects the object)`,
      ),
    )
  }
  for (const direction of ['ingress', 'egress'] as const) {
    asArray(spec[direction]).forEach((r, i) => {
      const rule = asObject(r)
      if (!rule) return
      for (const key of Object.keys(rule)) {
        const right = RULE_FIELDS.get(key.toLowerCase())
        if (right === undefined || right === key) continue
        const path: FieldPath = ['spec', direction, i, key]
        const widened = right === 'ports' ? 'every port' : 'every peer'
        out.push(
          finding(
            raw,
            'lint.misspelled-rules-key',
            path,
            `${formatPath(path)} is not read (field names are case-sensitive): without ${right}: the rule admits ${widened}; write ${right}:`,
          ),
        )
      }
    })
  }
}

function checkPorts(raw: RawObject, spec: JsonObject, out: Diagnostic[]): void {
  for (const direction of ['ingress', 'egress'] as const) {
    asArray(spec[direction]).forEach((r, i) => {
      asArray(asObject(r)?.ports).forEach((p, j) => {
        const port = asObject(p)
        if (!port) return
        const path: FieldPath = ['spec', direction, i, 'ports', j]
        const protocol = port.protocol
        if (protocol === undefined || protocol === null) {
          const what = port.port === undefined ? 'every TCP port' : `TCP ${String(port.port)}`
          out.push(
            finding(
              raw,
              'lint.port-protocol-defaulted',
              [...path, 'protocol'],
              `protocol is not given: the API server defaults it to TCP, so this entry means ${what} (not UDP)`,
            ),
          )
        } else if (typeof protocol === 'string' && protocol !== protocol.toUpperCase()) {
          const upper = protocol.toUpperCase()
          if ((PROTOCOLS as readonly string[]).includes(upper)) {
            out.push(
              finding(
                raw,
                'lint.protocol-case',
                [...path, 'protocol'],
                `protocol ${JSON.stringify(protocol)} must be written ${JSON.stringify(upper)}: the API server rejects it (see validate.unsupported-protocol)`,
              ),
            )
          }
        }
      })
    })
  }
}

function checkLegacy(raw: RawObject, out: Diagnostic[]): void {
  const v = raw.value
  if (v.kind === 'NetworkPolicy' && v.apiVersion === 'extensions/v1beta1') {
    out.push(
      finding(
        raw,
        'lint.legacy-api',
        ['apiVersion'],
        'extensions/v1beta1 NetworkPolicy was removed in Kubernetes 1.16: use networking.k8s.io/v1 (same spec); `palisade migrate` rewrites it and proves the matrix unchanged',
      ),
    )
  }
  if (v.kind === 'Namespace') {
    const annotations = asObject(asObject(v.metadata)?.annotations)
    if (annotations && annotations[LEGACY_ISOLATION_ANNOTATION] !== undefined) {
      out.push(
        finding(
          raw,
          'lint.legacy-api',
          ['metadata', 'annotations', LEGACY_ISOLATION_ANNOTATION],
          `the ${LEGACY_ISOLATION_ANNOTATION} DefaultDeny annotation is ignored since Kubernetes 1.7: use a default-deny-ingress NetworkPolicy; \`palisade migrate\` writes it and proves the matrix unchanged`,
        ),
      )
    }
  }
}

/** Runs the checks on manifests as written; diagnostics (schema.duplicate-key) tie name: typos to objects. */
export function lintRawObjects(raws: readonly RawObject[], diagnostics: readonly Diagnostic[]): Diagnostic[] {
  const out: Diagnostic[] = []
  for (const raw of raws) {
    checkLegacy(raw, out)
    if (raw.value.kind !== 'NetworkPolicy') continue
    const spec = asObject(raw.value.spec)
    if (spec) {
      checkMisspelledKeys(raw, spec, out)
      checkPorts(raw, spec, out)
    }
    const meta = asObject(raw.value.metadata)
    const duplicateName = diagnostics.some(
      (d) =>
        d.code === 'schema.duplicate-key' &&
        formatPath(d.path) === 'metadata.name' &&
        d.source?.file === raw.source.file &&
        (d.source.doc !== undefined && raw.source.doc !== undefined
          ? d.source.doc === raw.source.doc
          : d.object === describeObject(raw.value)),
    )
    if (duplicateName && meta && meta.namespace === undefined) {
      out.push(
        finding(
          raw,
          'lint.duplicate-name-key',
          ['metadata', 'name'],
          `metadata.name is written twice and metadata.namespace is missing: the last name (${JSON.stringify(meta.name)}) wins and the policy lands in the default namespace; was the second name: meant to be namespace:?`,
        ),
      )
    }
  }
  return out
}
