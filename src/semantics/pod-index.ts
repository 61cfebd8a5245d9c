/**
 * The pod index: policy endpoints grouped by namespace and labels, with posting lists by label pair,
 * so that a selector peer is matched once per group and only against its candidates. Items are
 * whatever the caller keeps per pod (a Pod, the compiler's pod facts); `podOf` reads the pod.
 *
 * Pods are walked down a trie of their label keys and values in the labels' own order, so no signature
 * string is built: pods with equal labels listed in another key order only end up in a second group,
 * which costs a selector match and changes no result. The index can be updated in place (the agent's
 * incremental compiler adds and removes the pods that changed since its last build).
 */
import type { Labels, Pod } from '../model/index.js'
import { isPolicyEndpoint } from './endpoints.js'
import { isEmptySelector, matchSelector } from './label-selector.js'
import { matchNamespaceScope, type NamespaceIndex, namespacesWithLabel } from './namespaces.js'
import type { PodsPeer } from './peers.js'

/** Endpoints of one namespace with the same labels: selectors are matched once per group. */
export interface LabelGroup<T> {
  readonly namespace: string
  readonly labels: Labels
  /** Changed in place by addToPodIndex and removeFromPodIndex; replaced by a copy when the index is built. */
  members: T[]
}

/** A level of the label trie: label key -> value level, or value -> next key level. */
interface LabelTrie<T> {
  next?: Map<string, LabelTrie<T>>
  group?: LabelGroup<T>
}

/** Policy endpoints grouped and indexed for selector matching (mutable: see addToPodIndex). */
export interface PodIndex<T> {
  readonly podOf: (item: T) => Pod
  /** namespace -> its label trie. */
  readonly roots: Map<string, LabelTrie<T>>
  /** namespace -> its groups. */
  readonly byNamespace: Map<string, LabelGroup<T>[]>
  /** 'key\u0000value' -> groups (every namespace) whose labels have that pair: candidates for matchLabels. */
  readonly byLabel: Map<string, LabelGroup<T>[]>
  readonly all: LabelGroup<T>[]
}

/** Builds the index of the items whose pod is a policy endpoint (the others can match no selector peer). */
export function buildPodIndex<T>(items: readonly T[], podOf: (item: T) => Pod): PodIndex<T> {
  const index: PodIndex<T> = { podOf, roots: new Map(), byNamespace: new Map(), byLabel: new Map(), all: [] }
  for (const item of items) addToPodIndex(index, item)
  // lists grown by push hold room for 17 items or half as many again: copies hold what they hold (the
  // agent keeps the index of every pod of the cluster)
  for (const g of index.all) g.members = g.members.slice()
  return index
}

/** Returns the child of a trie level, creating it on first use. */
function child<T>(t: LabelTrie<T>, step: string): LabelTrie<T> {
  t.next ??= new Map()
  let c = t.next.get(step)
  if (!c) {
    c = {}
    t.next.set(step, c)
  }
  return c
}

/** Appends to the list under `key`, creating it on first use. */
function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (list) list.push(value)
  else map.set(key, [value])
}

/** Removes one value from the list under `key`, and the list once empty. */
function pull<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key)
  if (!list) return
  const i = list.indexOf(value)
  if (i >= 0) list.splice(i, 1)
  if (list.length === 0) map.delete(key)
}

/** Adds an item (ignored when its pod is not a policy endpoint). Adding an item twice lists it twice. */
export function addToPodIndex<T>(index: PodIndex<T>, item: T): void {
  const pod = index.podOf(item)
  if (!isPolicyEndpoint(pod)) return
  const { namespace, labels } = pod
  let t = index.roots.get(namespace)
  if (!t) {
    t = {}
    index.roots.set(namespace, t)
  }
  const keys = Object.keys(labels)
  for (const k of keys) t = child(child(t, k), labels[k] as string)
  if (t.group) {
    t.group.members.push(item)
    return
  }
  const g: LabelGroup<T> = { namespace, labels, members: [item] }
  t.group = g
  index.all.push(g)
  push(index.byNamespace, namespace, g)
  for (const k of keys) push(index.byLabel, `${k}\u0000${labels[k]}`, g)
}

/** Removes an item added before (its pod must be the same object, or have the same namespace and labels). */
export function removeFromPodIndex<T>(index: PodIndex<T>, item: T): void {
  const pod = index.podOf(item)
  if (!isPolicyEndpoint(pod)) return
  const { namespace, labels } = pod
  const root = index.roots.get(namespace)
  if (!root) return
  const path: { parent: LabelTrie<T>; step: string }[] = []
  let t: LabelTrie<T> | undefined = root
  const keys = Object.keys(labels)
  for (const k of keys) {
    for (const step of [k, labels[k] as string]) {
      const next: LabelTrie<T> | undefined = t.next?.get(step)
      if (!next) return
      path.push({ parent: t, step })
      t = next
    }
  }
  const g = t.group
  const at = g ? g.members.indexOf(item) : -1
  if (!g || at < 0) return
  g.members.splice(at, 1)
  if (g.members.length > 0) return
  t.group = undefined
  index.all.splice(index.all.indexOf(g), 1)
  pull(index.byNamespace, namespace, g)
  for (const k of keys) pull(index.byLabel, `${k}\u0000${labels[k]}`, g)
  // prune the levels left empty, deepest first
  for (let i = path.length - 1; i >= 0; i--) {
    const { parent, step } = path[i] as { parent: LabelTrie<T>; step: string }
    const node = parent.next?.get(step)
    if (!node || node.group || (node.next && node.next.size > 0)) break
    parent.next?.delete(step)
  }
  if (!root.group && (!root.next || root.next.size === 0)) index.roots.delete(namespace)
}

/**
 * Returns groups that can match a selector peer, a superset of the matching ones: the shortest of the
 * peer's matchLabels posting lists and the groups of the namespaces in its scope.
 */
export function candidateGroups<T>(
  index: PodIndex<T>,
  namespaces: NamespaceIndex,
  m: PodsPeer,
): readonly LabelGroup<T>[] {
  let best: readonly LabelGroup<T>[] | undefined
  for (const [k, v] of Object.entries(m.podSelector.matchLabels)) {
    const list = index.byLabel.get(`${k}\u0000${v}`) ?? []
    if (!best || list.length < best.length) best = list
  }
  const scope = m.namespaces
  if (scope.kind === 'namespace') {
    const inNs = index.byNamespace.get(scope.namespace) ?? []
    if (!best || inNs.length < best.length) best = inNs
  } else if (!isEmptySelector(scope.selector)) {
    // the namespaces to try: those with the selector's rarest matchLabels pair, else every one with pods
    let names: Iterable<string> | undefined
    let fewest = index.byNamespace.size
    for (const [k, v] of Object.entries(scope.selector.matchLabels)) {
      const list = namespacesWithLabel(namespaces, k, v)
      if (list.length < fewest) {
        names = list
        fewest = list.length
      }
    }
    let count = 0
    const lists: (readonly LabelGroup<T>[])[] = []
    for (const ns of names ?? index.byNamespace.keys()) {
      const groups = index.byNamespace.get(ns)
      if (!groups || !matchNamespaceScope(namespaces, scope, ns)) continue
      lists.push(groups)
      count += groups.length
    }
    if (!best || count < best.length) best = lists.flat()
  }
  return best ?? index.all
}

/** Returns exactly the groups whose namespace and labels the selector peer matches. */
export function selectGroups<T>(
  index: PodIndex<T>,
  namespaces: NamespaceIndex,
  m: PodsPeer,
): LabelGroup<T>[] {
  const everyPod = isEmptySelector(m.podSelector)
  return candidateGroups(index, namespaces, m).filter(
    (g) =>
      matchNamespaceScope(namespaces, m.namespaces, g.namespace) &&
      (everyPod || matchSelector(m.podSelector, g.labels)),
  )
}

/** Returns the items the selector peer matches (group by group). */
export function selectPods<T>(index: PodIndex<T>, namespaces: NamespaceIndex, m: PodsPeer): T[] {
  return selectGroups(index, namespaces, m).flatMap((g) => g.members)
}
