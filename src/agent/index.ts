/** The node agent: watch the cluster, compile this node's rules, keep them in the kernel. */
export { type Agent, type AgentDeps, type AgentOptions, startAgent } from './agent.js'
export { type ApplyOutcome, RulesetApplier } from './applier.js'
export {
  type CnpState,
  type CnpStep,
  type CnpTiming,
  DEFAULT_CNP_TIMING,
  type DiscoveryAnswer,
  discoverClusterPolicies,
  INITIAL_CNP_STATE,
  nextCnpStep,
} from './cnp-discovery.js'
export {
  type DecodedObject,
  decodeObject,
  decodeWatchLine,
  type UndecodableEvent,
  type WatchEvent,
} from './decode.js'
export { actionText, buildInvalidObjectEvent, buildUndecodableEvent } from './event-reporter.js'
export { buildFailClosedPolicy, type FailClosedPolicy, failClosedPolicyTypes } from './fail-closed.js'
export { buildFailClosedClusterPolicy, type FailClosedClusterPolicy } from './fail-closed-cnp.js'
export { type DirSource, type FromDirOptions, watchDir } from './from-dir.js'
export { type HealthReport, serveEndpoints } from './http-server.js'
export { type InformerSet, KIND_PATH, startInformers } from './informers.js'
export {
  KubeHttpError,
  kubeList,
  kubeRequest,
  kubeWatch,
  loadKubeConfig,
  type WatchHandle,
} from './kube-client.js'
export { type AgentMetrics, createMetrics } from './metrics.js'
export {
  CORE_WATCHED_KINDS,
  fingerprintObject,
  type InvalidObject,
  KIND_API_VERSION,
  ObjectStore,
  type Pipeline,
  trimNode,
  WATCHED_KINDS,
  type WatchedKind,
} from './object-store.js'
export { type ListenAddress, parseDuration, parseListenAddress } from './options.js'
export { defaultPipeline, validateApiObject } from './pipeline.js'
export { parseHostRoutes, podInterfacesFromRoutes } from './pod-interfaces.js'
export { createRevoker, type RevokeReport, type Revoker, type RevokerDeps } from './revoke.js'
export {
  type ApplyPath,
  createSyncLoop,
  isHealthy,
  type SyncLoop,
  type SyncPhases,
  type SyncReport,
  type SyncResult,
} from './sync-loop.js'
