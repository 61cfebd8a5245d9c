/**
 * Rewrites legacy network policy manifests to networking.k8s.io/v1, keeping comments and layout where the
 * yaml Document API can: extensions/v1beta1 NetworkPolicy -> v1 with explicit policyTypes, and the
 * net.beta.kubernetes.io/network-policy DefaultDeny namespace annotation -> a default-deny-ingress policy
 * plus the namespace without the annotation. Pure: texts in, texts out.
 */
import { Document, isMap, isScalar, isSeq, parseAllDocuments, type YAMLMap } from 'yaml'
import { findTooDeepTree, type InputText, MAX_DEPTH } from '../load/index.js'
import { type Diagnostic, LEGACY_ISOLATION_ANNOTATION, type SourceRef } from '../model/index.js'

/** One rewrite made, for the report. */
export interface MigrationChange {
  readonly object: string
  readonly message: string
  readonly source: SourceRef
}

export interface MigratedFile {
  readonly file: string
  /** The rewritten text (the input text when nothing changed). */
  readonly text: string
  readonly changed: boolean
}

export interface MigrationResult {
  readonly files: readonly MigratedFile[]
  readonly changes: readonly MigrationChange[]
  readonly diagnostics: readonly Diagnostic[]
}

const V1 = 'networking.k8s.io/v1'
const LEGACY = 'extensions/v1beta1'
const DENY_NAME = 'default-deny-ingress'

function decode(text: string | Uint8Array): string {
  return typeof text === 'string' ? text : new TextDecoder('utf-8').decode(text)
}

function lineOf(lineStarts: readonly number[], offset: number | undefined): number | undefined {
  if (offset === undefined) return undefined
  let lo = 0
  let hi = lineStarts.length - 1
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1
    if ((lineStarts[mid] as number) <= offset) lo = mid
    else hi = mid - 1
  }
  return lo + 1
}

function str(map: YAMLMap<unknown, unknown>, path: readonly string[]): string | undefined {
  const v = map.getIn(path)
  return typeof v === 'string' ? v : undefined
}

/** Reads the legacy annotation value; true when it asks for ingress DefaultDeny. */
function isDefaultDeny(value: unknown): boolean {
  if (typeof value !== 'string') return false
  try {
    const parsed: unknown = JSON.parse(value)
    if (!parsed || typeof parsed !== 'object') return false
    const ingress = (parsed as Record<string, unknown>).ingress
    return (
      !!ingress &&
      typeof ingress === 'object' &&
      (ingress as Record<string, unknown>).isolation === 'DefaultDeny'
    )
  } catch {
    return false
  }
}

/** Names of NetworkPolicies per namespace in every input (to avoid a clash with the generated policy). */
function existingPolicyNames(texts: readonly { file: string; text: string }[]): Set<string> {
  const names = new Set<string>()
  for (const { text } of texts) {
    for (const doc of parseAllDocuments(text)) {
      if (!isMap(doc.contents)) continue
      const m = doc.contents as unknown as YAMLMap<unknown, unknown>
      if (m.get('kind') !== 'NetworkPolicy') continue
      names.add(`${str(m, ['metadata', 'namespace']) ?? 'default'}/${str(m, ['metadata', 'name']) ?? ''}`)
    }
  }
  return names
}

function denyPolicy(namespace: string, name: string): Document {
  const doc = new Document({
    apiVersion: V1,
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec: { podSelector: {}, policyTypes: ['Ingress'] },
  })
  const contents = doc.contents as YAMLMap
  contents.commentBefore = ` Migrated by palisade from the ${LEGACY_ISOLATION_ANNOTATION} DefaultDeny annotation of namespace ${namespace}:\n every pod of ${namespace} is isolated for ingress.`
  return doc
}

/** Rewrites every input; files that fail to parse are returned unchanged with a diagnostic. */
export function migrateInputs(inputs: readonly InputText[]): MigrationResult {
  const all = inputs.map((i) => ({ file: i.file, text: decode(i.text) }))
  // The yaml library recurses once per level of nesting: files nested too deep are not parsed (src/load/depth.ts).
  const tooDeep = all.map((t) => findTooDeepTree(t.text) !== undefined)
  const texts = all.filter((_, i) => !tooDeep[i])
  const taken = existingPolicyNames(texts)
  const changes: MigrationChange[] = []
  const diagnostics: Diagnostic[] = []
  const files = all.map(({ file, text }, i): MigratedFile => {
    if (tooDeep[i]) {
      diagnostics.push({
        code: 'load.too-deep',
        severity: 'error',
        message: `cannot be rewritten: exceeded max depth of ${MAX_DEPTH}; left unchanged`,
        path: [],
        source: { file },
      })
      return { file, text, changed: false }
    }
    const docs = parseAllDocuments(text)
    const list = Array.isArray(docs) ? docs : [docs]
    const broken = list.find((d) => d.errors.length > 0)
    if (broken) {
      diagnostics.push({
        code: 'migrate.unparsable',
        severity: 'error',
        message: `cannot be rewritten: ${broken.errors[0]?.message ?? 'YAML error'}; left unchanged`,
        path: [],
        source: { file },
      })
      return { file, text, changed: false }
    }
    const lineStarts = [0]
    for (let i = 0; i < text.length; i++) if (text[i] === '\n') lineStarts.push(i + 1)
    const out: Document[] = []
    let changed = false
    list.forEach((doc, docIndex) => {
      out.push(doc)
      if (!isMap(doc.contents)) return
      const m = doc.contents as unknown as YAMLMap<unknown, unknown>
      const kind = m.get('kind')
      const name = str(m, ['metadata', 'name']) ?? '<no name>'
      const source: SourceRef = { file, line: lineOf(lineStarts, m.range?.[0]), doc: docIndex }
      if (kind === 'NetworkPolicy' && m.get('apiVersion') === LEGACY) {
        const ns = str(m, ['metadata', 'namespace']) ?? 'default'
        const node = m.get('apiVersion', true)
        if (isScalar(node)) node.value = V1
        else m.set('apiVersion', V1)
        let note = ''
        const spec = m.get('spec')
        if (isMap(spec)) {
          const types = spec.get('policyTypes')
          if (!isSeq(types) || types.items.length === 0) {
            const egress = spec.get('egress')
            const explicit = isSeq(egress) && egress.items.length > 0 ? ['Ingress', 'Egress'] : ['Ingress']
            spec.set('policyTypes', doc.createNode(explicit))
            note = `; policyTypes [${explicit.join(', ')}] made explicit (the defaults)`
          }
        }
        changed = true
        changes.push({
          object: `NetworkPolicy ${ns}/${name}`,
          message: `apiVersion ${LEGACY} -> ${V1}${note}`,
          source,
        })
      }
      if (kind === 'Namespace') {
        const annotations = m.getIn(['metadata', 'annotations'])
        if (!isMap(annotations)) return
        const value = annotations.get(LEGACY_ISOLATION_ANNOTATION)
        if (value === undefined) return
        if (!isDefaultDeny(value)) {
          diagnostics.push({
            code: 'migrate.annotation-kept',
            severity: 'warning',
            message: `${LEGACY_ISOLATION_ANNOTATION} is not {"ingress":{"isolation":"DefaultDeny"}}: it never isolated anything and is left as it is`,
            object: `Namespace ${name}`,
            path: ['metadata', 'annotations', LEGACY_ISOLATION_ANNOTATION],
            source,
          })
          return
        }
        annotations.delete(LEGACY_ISOLATION_ANNOTATION)
        if (annotations.items.length === 0) m.deleteIn(['metadata', 'annotations'])
        let policyName = DENY_NAME
        for (let n = 2; taken.has(`${name}/${policyName}`); n++) policyName = `${DENY_NAME}-${n}`
        taken.add(`${name}/${policyName}`)
        out.push(denyPolicy(name, policyName))
        changed = true
        changes.push({
          object: `Namespace ${name}`,
          message: `DefaultDeny annotation removed; NetworkPolicy ${name}/${policyName} (podSelector {}, policyTypes [Ingress]) added`,
          source,
        })
      }
    })
    if (!changed) return { file, text, changed: false }
    // Every document after the first starts with its own '---' marker (parsed ones keep theirs).
    const rendered = out
      .map((d, i) => {
        if (i > 0 && d.directives) d.directives.docStart = true
        return d.toString({ lineWidth: 0 })
      })
      .join('')
    return { file, text: rendered, changed: true }
  })
  return { files, changes, diagnostics }
}
