/**
 * The one reading of the NetworkPolicy spec: which pods are policy endpoints and which a policy selects,
 * label selectors, peer matchers with canonical keys, ports and named ports, the pod index. The engine,
 * the compiler, lint and explain all ask here; nobody else decides which pods a peer selects.
 */
export * from './addresses.js'
export * from './cluster-policies.js'
export * from './endpoints.js'
export * from './label-selector.js'
export * from './namespaces.js'
export * from './peers.js'
export * from './pod-index.js'
export * from './ports.js'
