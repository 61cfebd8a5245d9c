export * from './label-selector.js'
