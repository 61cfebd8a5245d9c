/**
 * Namespaces as policies see them: by their labels, every namespace carrying
 * kubernetes.io/metadata.name=<name> as the API server sets it, declared or not.
 */
import type { LabelSelector, Labels, Namespace } from '../model/index.js'
import { matchSelector } from './label-selector.js'

/** The label the API server puts on every namespace. */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name'

/** Where a peer looks for pods: the policy's own namespace, or every namespace a selector matches. */
export type NamespaceScope =
  /** podSelector alone: pods of the policy's namespace. */
  | { readonly kind: 'namespace'; readonly namespace: string; readonly key: string }
  /** namespaceSelector (alone, or ANDed with a podSelector): pods of every namespace it matches. */
  | { readonly kind: 'namespaceSelector'; readonly selector: LabelSelector; readonly key: string }

/** Namespace labels of one cluster, with a memo of scope matches (one per analysis or build). */
export interface NamespaceIndex {
  /** Namespace name -> labels (the namespaces the cluster holds). */
  readonly labels: ReadonlyMap<string, Labels>
  /** scope key -> namespace -> matches. */
  readonly memo: Map<string, Map<string, boolean>>
  /** 'key\u0000value' -> the namespaces holding that label (built on first use: namespacesWithLabel). */
  byLabel?: Map<string, string[]>
}

/** Builds the namespace index of a cluster (a later namespace of the same name wins). */
export function buildNamespaceIndex(namespaces: readonly Namespace[]): NamespaceIndex {
  const labels = new Map<string, Labels>()
  for (const ns of namespaces) labels.set(ns.name, ns.labels)
  return { labels, memo: new Map() }
}

/** Returns the labels of a namespace; a namespace nobody declared has only its metadata.name label. */
export function namespaceLabelsOf(index: NamespaceIndex, namespace: string): Labels {
  return index.labels.get(namespace) ?? { [NAMESPACE_NAME_LABEL]: namespace }
}

/** Returns true when pods of `namespace` are in the scope. */
export function matchNamespaceScope(
  index: NamespaceIndex,
  scope: NamespaceScope,
  namespace: string,
): boolean {
  if (scope.kind === 'namespace') return namespace === scope.namespace
  let byNamespace = index.memo.get(scope.key)
  if (!byNamespace) {
    byNamespace = new Map()
    index.memo.set(scope.key, byNamespace)
  }
  let m = byNamespace.get(namespace)
  if (m === undefined) {
    m = matchSelector(scope.selector, namespaceLabelsOf(index, namespace))
    byNamespace.set(namespace, m)
  }
  return m
}

/**
 * Returns the namespaces whose labels hold key=value, a superset of those a namespaceSelector with that
 * matchLabels pair matches: the declared ones with the label, and `value` itself for the name label
 * (a namespace nobody declared has only that one). In the order the namespaces were declared.
 */
export function namespacesWithLabel(index: NamespaceIndex, key: string, value: string): readonly string[] {
  if (!index.byLabel) {
    const byLabel = new Map<string, string[]>()
    for (const [ns, labels] of index.labels)
      for (const k of Object.keys(labels)) {
        const pair = `${k}\u0000${labels[k]}`
        const list = byLabel.get(pair)
        if (list) list.push(ns)
        else byLabel.set(pair, [ns])
      }
    index.byLabel = byLabel
  }
  const declared = index.byLabel.get(`${key}\u0000${value}`) ?? []
  if (key !== NAMESPACE_NAME_LABEL || index.labels.has(value)) return declared
  return [...declared, value]
}
