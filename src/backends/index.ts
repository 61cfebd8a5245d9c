/**
 * The backends: a node's IR -> a structured ruleset -> the files the kernel is given. One folder per
 * backend; callers pick one by name through the registry.
 */
export type { Backend, BackendName, CompiledRuleset, Renderer, Ruleset, RulesetStats } from './backend.js'
export {
  compileNode,
  createNodeCompiler,
  type NodeCompiler,
  type NodeCompilerStats,
  renderNodeIR,
} from './node-compiler.js'
export { BACKENDS, getBackend, parseBackendName, printRuleset } from './registry.js'
