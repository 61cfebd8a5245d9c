export * from './cluster.js'
export * from './diagnostic.js'
export * from './ip.js'
export * from './raw.js'
