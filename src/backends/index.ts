/**
 * The backends: a node's IR -> a structured ruleset -> the files the kernel is given; the change
 * between two rulesets; apply, cleanup and drift at the edge. One folder per backend; callers pick one
 * by name through the registry and never import a backend's folder.
 */
export {
  type ApplyResult,
  type Backend,
  type BackendName,
  type BackendVariant,
  type Change,
  type CleanupReport,
  type CompiledRuleset,
  type Dataplane,
  type DataplaneTarget,
  DEFAULT_STATE_DIR,
  type DeltaStats,
  type Drift,
  type KernelDropCounter,
  type Renderer,
  type Ruleset,
  type RulesetStats,
} from './backend.js'
export {
  type ConntrackEntry,
  type ConntrackTarget,
  type ConntrackTuple,
  deleteConntrack,
  deleteGroupLine,
  deleteLine,
  forwardFlow,
  type ListStats,
  listConntrack,
  listNodeAddresses,
  parseConntrackLine,
} from './conntrack.js'
export {
  DEFAULT_EXEC_TIMEOUT_MS,
  type ExecOptions,
  type ExecResult,
  execCommand,
  hasCommand,
  isValidNetnsName,
} from './exec.js'
export {
  compileNode,
  createClusterCompiler,
  createNodeCompiler,
  type NodeCompileResult,
  type NodeCompiler,
  type NodeCompilerStats,
  renderNodeIR,
} from './node-compiler.js'
export {
  applyRuleset,
  BACKEND_VARIANTS,
  BACKENDS,
  cleanup,
  DEFAULT_BACKEND,
  getBackend,
  getTracer,
  parseBackendName,
  parseBackendVariant,
  printRuleset,
  type Tracer,
} from './registry.js'
export {
  conntrackIO,
  FOLLOW_UP_DELAYS_MS,
  type RevokeIO,
  type RevokeReport,
  revokeEstablished,
  type SweepReport,
  sweepConntrack,
} from './revoke.js'
export * from './trace.js'
