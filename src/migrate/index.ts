/** `palisade migrate`: legacy network policy manifests -> networking.k8s.io/v1, with a proof of equal matrices. */
export { boundaryPorts, type MigrationProof, proveMigration } from './prove.js'
export { type MigratedFile, type MigrationChange, type MigrationResult, migrateInputs } from './rewrite.js'
export { readableText } from './text.js'
