/** Runs the CLI in-process and captures what it prints (no build needed). */
import { Readable } from 'node:stream'
import { vi } from 'vitest'
import { main } from '../../src/cli/main.js'

export interface CliRun {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

/** Runs `palisade ARGS` with an optional stdin text and returns exit code and output. */
export async function runCli(args: string[], stdin?: string): Promise<CliRun> {
  let stdout = ''
  let stderr = ''
  const out = vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stdout += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  })
  const err = vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    stderr += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')
    return true
  })
  const restoreStdin = stdin === undefined ? undefined : mockStdin(stdin)
  try {
    const code = await main(args)
    return { code, stdout, stderr }
  } finally {
    out.mockRestore()
    err.mockRestore()
    restoreStdin?.()
  }
}

function mockStdin(text: string): () => void {
  const original = Object.getOwnPropertyDescriptor(process, 'stdin')
  Object.defineProperty(process, 'stdin', { configurable: true, value: Readable.from([Buffer.from(text)]) })
  return () => {
    if (original) Object.defineProperty(process, 'stdin', original)
  }
}
