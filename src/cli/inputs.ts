/**
 * Reads manifest inputs (edge): files, folders (recursive, .yaml/.yml/.json, sorted) and `-` for stdin.
 * Problems become diagnostics; the core parses the bytes.
 */
import { readFile, stat } from 'node:fs/promises'
import { listManifestFiles } from '../files/index.js'
import { DEFAULT_MAX_BYTES, type InputText } from '../load/index.js'
import { type Diagnostic, type DiagnosticCode, ownValue } from '../model/index.js'

export interface ReadInputsOptions {
  /** Inputs larger than this are not read (load.too-large). Default 128 MiB. */
  readonly maxBytes?: number
  /** Reads standard input; defaults to process.stdin. */
  readonly stdin?: (maxBytes: number) => Promise<Uint8Array>
}

export interface ReadInputs {
  readonly inputs: InputText[]
  readonly diagnostics: Diagnostic[]
}

/** Reads every path into input texts; `-` reads stdin once, folders are walked in sorted order. */
export async function readInputs(
  paths: readonly string[],
  opts: ReadInputsOptions = {},
): Promise<ReadInputs> {
  const maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES
  const inputs: InputText[] = []
  const diagnostics: Diagnostic[] = []
  let stdinRead = false
  for (const path of paths) {
    if (path === '-') {
      if (stdinRead) continue // stdin can be read once; a second `-` adds nothing
      stdinRead = true
      const bytes = await (opts.stdin ?? readStdin)(maxBytes).catch((err: unknown) => err as Error)
      if (bytes instanceof Error) diagnostics.push(problem('input.unreadable', '-', bytes))
      else if (bytes.byteLength > maxBytes) diagnostics.push(tooLarge('<stdin>', maxBytes))
      else inputs.push({ file: '<stdin>', text: bytes })
      continue
    }
    const files = await listFiles(path, diagnostics)
    for (const file of files) {
      const input = await readOne(file, maxBytes, diagnostics)
      if (input) inputs.push(input)
    }
  }
  return { inputs, diagnostics }
}

/** Lists a path: a file as itself, a folder as its manifest files (src/files); problems become diagnostics. */
async function listFiles(path: string, diagnostics: Diagnostic[]): Promise<string[]> {
  let unread = false
  const files = await listManifestFiles(path, (p, err, at) => {
    const code = (err as NodeJS.ErrnoException).code
    const missing = at.top && at.op === 'stat' && (code === 'ENOENT' || code === 'ENOTDIR')
    if (at.top) unread = true
    diagnostics.push(problem(missing ? 'input.not-found' : 'input.unreadable', p, err))
  })
  // A path that is a file always stands for itself: nothing found and nothing unreadable is an empty folder.
  if (files.length === 0 && !unread)
    diagnostics.push({
      code: 'input.no-manifests',
      severity: 'error',
      message: 'no manifest (.yaml, .yml, .json) in this folder',
      path: [],
      source: { file: path },
    })
  return files.map((f) => f.path)
}

async function readOne(
  file: string,
  maxBytes: number,
  diagnostics: Diagnostic[],
): Promise<InputText | undefined> {
  try {
    const info = await stat(file)
    if (info.size > maxBytes) {
      diagnostics.push(tooLarge(file, maxBytes, info.size))
      return undefined
    }
    const bytes = await readFile(file)
    return { file, text: new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    diagnostics.push(problem(code === 'ENOENT' ? 'input.not-found' : 'input.unreadable', file, err))
    return undefined
  }
}

/** Reads stdin up to one byte past the limit (enough to know it is too large). */
async function readStdin(maxBytes: number): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer)
    chunks.push(buf)
    size += buf.byteLength
    if (size > maxBytes) break
  }
  const all = Buffer.concat(chunks)
  return new Uint8Array(all.buffer, all.byteOffset, all.byteLength)
}

/** What the system said, in words rather than as `ENOENT: ..., stat 'x'` (the path is named apart). */
const ERRNO_WORDS: Readonly<Record<string, string>> = {
  ENOENT: 'no such file or directory',
  ENOTDIR: 'not a directory (a part of the path is a file)',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EISDIR: 'is a directory',
  ELOOP: 'too many levels of symbolic links',
  ENAMETOOLONG: 'file name too long',
}

function problem(code: DiagnosticCode, file: string, err: unknown): Diagnostic {
  const errno = (err as NodeJS.ErrnoException | undefined)?.code
  const words = errno === undefined ? undefined : ownValue(ERRNO_WORDS, errno)
  const message = words ?? (err instanceof Error ? err.message : String(err))
  return { code, severity: 'error', message, path: [], source: { file } }
}

function tooLarge(file: string, maxBytes: number, size?: number): Diagnostic {
  const mib = (n: number): string => `${(n / (1024 * 1024)).toFixed(1)} MiB`
  return {
    code: 'load.too-large',
    severity: 'error',
    message: `input is ${size === undefined ? 'over' : mib(size)}, larger than the limit of ${mib(maxBytes)}: not read (raise it with --max-input-size)`,
    path: [],
    source: { file },
  }
}
