/** Finds the built page (dist/web/app.js and app.css, made by `npm ci` / `npm run build:web`). Edge. */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface WebAssets {
  readonly script: string
  readonly css: string
}

/** Returns the package root: the nearest folder above this module with Palisade's package.json. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const pkg = join(dir, 'package.json')
    if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'palisade') return dir
    const up = dirname(dir)
    if (up === dir) throw new Error('cannot find the palisade package folder')
    dir = up
  }
}

/** Returns the folder of the built page. */
export function assetsDir(): string {
  return join(packageRoot(), 'dist', 'web')
}

/** Reads the built page; a clear error when it was not built. */
export function readAssets(dir = assetsDir()): WebAssets | string {
  try {
    return {
      script: readFileSync(join(dir, 'app.js'), 'utf8'),
      css: readFileSync(join(dir, 'app.css'), 'utf8'),
    }
  } catch {
    return `the web page is not built (${join(dir, 'app.js')} is missing): run npm run build:web`
  }
}
