/** The connection list per workload (pure): computed from the engine's classes, rendered for people and tools. */
export * from './connlist.js'
export * from './exposure.js'
export * from './render.js'
