/** Explanations: engine facts rendered for people (text) and machines (JSON). Never recomputes verdicts. */
export * from './matrix.js'
export * from './partial.js'
export * from './pod.js'
export * from './verdict.js'
export * from './words.js'
