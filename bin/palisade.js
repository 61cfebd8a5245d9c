#!/usr/bin/env node
// Thin launcher: the CLI is compiled to dist/ by `npm ci` (the `prepare` script runs tsc).
import { main } from '../dist/src/cli/main.js'

// `palisade ... | head`: a reader that stops early is no error (kubectl and coreutils exit quietly).
process.stdout.on('error', (err) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0)
  throw err
})

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code
  },
  (err) => {
    process.stderr.write(`palisade: internal error: ${err instanceof Error ? err.stack : String(err)}\n`)
    process.exitCode = 2
  },
)
