#!/usr/bin/env node
// Bundles the web page (web/src) into dist/web/app.js and app.css with esbuild. Run by `npm ci` (prepare)
// and `npm run build:web`. The page imports the engine from src/: the browser runs the same code as the CLI.
import { build } from 'esbuild'

const root = new URL('..', import.meta.url).pathname
const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'web/src/main.tsx' },
  outdir: 'dist/web',
  bundle: true,
  minify: true,
  format: 'iife',
  target: ['es2022'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  legalComments: 'none',
  logLevel: 'warning',
  metafile: true,
})
const bytes = Object.entries(result.metafile.outputs)
  .map(([file, o]) => `${file} ${(o.bytes / 1024).toFixed(0)} KiB`)
  .join(', ')
console.log(`build-web: ${bytes}`)
