/**
 * Reads manifests as they are at a git revision (edge): `REV:PATH` names a file or folder of the
 * repository the current directory is in, PATH from the repository's root as git's own `REV:PATH` does.
 * Files come back as inputs named `REV:PATH/file.yaml`, so every file:line points into that revision.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { DEFAULT_MAX_BYTES } from '../load/index.js'
import type { Diagnostic } from '../model/index.js'
import type { ReadInputs } from './inputs.js'

const run = promisify(execFile)
const MANIFEST = /\.(ya?ml|json)$/i

/** Splits 'REV:PATH' at the first colon; the path may be empty (the whole tree). */
export function parseGitSpec(spec: string): { rev: string; path: string } | string {
  const colon = spec.indexOf(':')
  if (colon <= 0) return `--git ${spec}: expected REV:PATH, e.g. main:deploy/`
  return { rev: spec.slice(0, colon), path: spec.slice(colon + 1).replace(/^\.\//, '') }
}

/** Reads every manifest file under PATH at REV (sorted, like a folder); problems become diagnostics. */
export async function readGitInputs(spec: string, cwd = process.cwd()): Promise<ReadInputs> {
  const parsed = parseGitSpec(spec)
  const diagnostics: Diagnostic[] = []
  const fail = (message: string): ReadInputs => ({
    inputs: [],
    diagnostics: [{ code: 'input.not-found', severity: 'error', message, path: [], source: { file: spec } }],
  })
  if (typeof parsed === 'string') return fail(parsed)
  const git = async (args: string[], encoding: 'utf8' | 'buffer' = 'utf8') =>
    run('git', args, { cwd, maxBuffer: DEFAULT_MAX_BYTES * 2, encoding })
  let root: string
  try {
    root = (await git(['rev-parse', '--show-toplevel'])).stdout.toString().trim()
  } catch {
    return fail(`--git ${spec}: ${cwd} is not inside a git repository`)
  }
  let listing: string
  try {
    const path = parsed.path.replace(/\/+$/, '')
    const args = ['-C', root, 'ls-tree', '-r', '-z', '--name-only', parsed.rev, '--', ...(path ? [path] : [])]
    listing = (await git(args)).stdout.toString()
  } catch (err) {
    const msg = (err as { stderr?: string }).stderr?.toString().trim() || String(err)
    return fail(`--git ${spec}: ${msg}`)
  }
  const files = listing
    .split('\0')
    .filter((f) => f !== '' && MANIFEST.test(f) && !f.split('/').some((part) => part.startsWith('.')))
    .sort()
  if (files.length === 0)
    return fail(`--git ${spec}: no .yaml, .yml or .json file at ${parsed.rev}:${parsed.path}`)
  const inputs = []
  for (const file of files) {
    const name = `${parsed.rev}:${file}`
    try {
      const { stdout } = await git(['-C', root, 'show', name], 'buffer')
      const bytes = stdout as unknown as Buffer
      if (bytes.byteLength > DEFAULT_MAX_BYTES) {
        diagnostics.push({
          code: 'load.too-large',
          severity: 'error',
          message: 'input is larger than the limit: not read',
          path: [],
          source: { file: name },
        })
        continue
      }
      inputs.push({ file: name, text: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) })
    } catch (err) {
      diagnostics.push({
        code: 'input.unreadable',
        severity: 'error',
        message: (err as { stderr?: string }).stderr?.toString().trim() || String(err),
        path: [],
        source: { file: name },
      })
    }
  }
  return { inputs, diagnostics }
}
