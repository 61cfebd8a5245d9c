/**
 * Reads manifest inputs (edge): files, folders (recursive, .yaml/.yml/.json, sorted) and `-` for stdin.
 * Problems become diagnostics; the core parses the bytes.
 */
import { readdir, readFile, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { DEFAULT_MAX_BYTES, type InputText } from '../load/index.js'
import type { Diagnostic } from '../model/index.js'

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

const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json']

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

/** Lists a path: a file as itself, a folder as its manifest files (recursive, sorted, no dotfiles). */
async function listFiles(path: string, diagnostics: Diagnostic[]): Promise<string[]> {
  let info: Awaited<ReturnType<typeof stat>>
  try {
    info = await stat(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    diagnostics.push(
      problem(code === 'ENOENT' || code === 'ENOTDIR' ? 'input.not-found' : 'input.unreadable', path, err),
    )
    return []
  }
  if (!info.isDirectory()) return [path]
  let entries: string[]
  try {
    entries = (await readdir(path)).sort()
  } catch (err) {
    diagnostics.push(problem('input.unreadable', path, err))
    return []
  }
  const out: string[] = []
  for (const name of entries) {
    if (name.startsWith('.') || name === 'node_modules') continue
    const child = join(path, name)
    let childInfo: Awaited<ReturnType<typeof stat>>
    try {
      childInfo = await stat(child)
    } catch (err) {
      diagnostics.push(problem('input.unreadable', child, err))
      continue
    }
    if (childInfo.isDirectory()) out.push(...(await listFiles(child, diagnostics)))
    else if (MANIFEST_EXTENSIONS.some((ext) => name.toLowerCase().endsWith(ext))) out.push(child)
  }
  return out
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

function problem(code: string, file: string, err: unknown): Diagnostic {
  const message = err instanceof Error ? err.message : String(err)
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
