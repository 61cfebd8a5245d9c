/**
 * Runs one case: recipe -> documents -> file -> one `palisade` command (in this process through the CLI's
 * main(), or in a fresh `node` process for inputs that nest deeply or weigh megabytes: a native stack
 * overflow aborts the whole process) -> oracles. Returns the failures and the rulesets the kernel must
 * check. Inputs and outputs live in a private temporary folder that is removed afterwards.
 */
import { spawn } from 'node:child_process'
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { threadId } from 'node:worker_threads'
import { main } from '../cli/main.js'
import type { Base } from './corpus.js'
import { pidCpuMs, threadCpuMs } from './cputime.js'
import {
  Deep,
  Huge,
  type IntendedDoc,
  intendedDoc,
  isMapping,
  materializeRecipe,
  type Node,
} from './mutate.js'
import { acceptanceOracle, type CliOutcome, crashOracle, type Failure, hangBoundMs } from './oracles.js'
import type { Recipe } from './recipe.js'
import { mutateBytes, type Written, writeDocs } from './render.js'
import { COMMANDS, type CommandName, MODES, type ValidationCase } from './tables.js'

/** Nesting at or above this depth runs in a fresh process (a native stack overflow aborts the process). */
export const DEEP_PROCESS_DEPTH = 200
/** Inputs at or above this size run in a fresh process (memory, and a hang can be killed). */
export const BIG_PROCESS_BYTES = 1 << 20

export interface ExecEnv {
  /** A private folder for case inputs and outputs. */
  readonly tmp: string
  /** bin/palisade.js, for cases that need a fresh process (undefined: such cases run in-process). */
  readonly bin?: string
  readonly hangMs: number
  readonly modes?: readonly string[]
}

/** The iptables backend's files, as compile writes them. */
export interface IptablesRuleset {
  readonly ipset: string
  readonly v4: string
  readonly v6: string
}

export interface CaseResult {
  readonly failures: readonly Failure[]
  /** nftables rulesets the case produced: each must pass `nft -c`. */
  readonly nft: readonly string[]
  readonly iptables: readonly IptablesRuleset[]
  readonly ms: number
  readonly isolation: 'in-process' | 'process'
  readonly command: CommandName
  readonly mode: string
  /** The command line with {input} and {out} in place of the case's paths. */
  readonly argsTemplate: readonly string[]
  readonly inputName: string
  /** The input's bytes, when the case failed (to save it). */
  readonly input?: Uint8Array
}

const madeDirs = new Set<string>()
let processCases = 0

const mod = (i: number, n: number): number => ((Math.trunc(i) % n) + n) % n

const PORTS = ['80/TCP', '53/UDP', '5432', 'http', '0', '65536/TCP', '80/SCTP', 'abc', '8080/tcp', '1-2']

/** A command-line argument (argv cannot carry NUL). */
const arg = (s: string): string => s.replace(/\u0000/g, '')

function endpoint(base: Base, x: number | string, fallback: string): string {
  if (typeof x === 'string') return arg(x)
  return base.endpoints.length > 0 ? (base.endpoints[mod(x, base.endpoints.length)] as string) : fallback
}

/** Builds the command line (with {input} and {out} placeholders). */
export function commandArgs(
  recipe: Recipe,
  base: Base,
  nodeName: string | undefined,
  mode: string,
): { command: CommandName; args: string[] } {
  const c = recipe.command
  const command = COMMANDS[mod(c.cmd, COMMANDS.length)] as CommandName
  const args: string[] = []
  const v = Math.abs(Math.trunc(c.variant))
  switch (command) {
    case 'check':
      args.push(
        'check',
        '{input}',
        '--from',
        endpoint(base, c.a, 'default/a'),
        '--to',
        endpoint(base, c.b, 'default/b'),
      )
      args.push('--port', PORTS[mod(c.port, PORTS.length)] as string)
      if (v % 2 === 1) args.push('-o', 'json')
      break
    case 'matrix':
      args.push('matrix', '{input}', '-o', ['table', 'wide', 'json', 'csv', 'dot'][v % 5] as string)
      if ((v >> 3) & 1) args.push('--ports', '80/TCP,53/UDP,5432/TCP')
      if ((v >> 4) & 1 && base.namespaces.length > 0)
        args.push('-n', base.namespaces[mod(c.port, base.namespaces.length)] as string)
      break
    case 'explain':
      args.push('explain', '{input}')
      if (v % 2 === 1) args.push('-o', 'json')
      if ((v >> 1) & 1) args.push('--pod', endpoint(base, c.a, 'default/a'))
      break
    case 'lint':
      args.push('lint', '{input}', '-o', ['text', 'json', 'sarif'][v % 3] as string)
      break
    case 'migrate':
      args.push('migrate', '{input}')
      if (v % 2 === 1) args.push('-o', '{out}')
      break
    case 'compile-nftables':
    case 'compile-iptables': {
      const backend = command === 'compile-nftables' ? 'nftables' : 'iptables'
      let node =
        nodeName ??
        (typeof c.a === 'string'
          ? c.a
          : base.nodes.length > 0
            ? (base.nodes[mod(c.a, base.nodes.length)] as string)
            : 'node-1')
      args.push('compile', '{input}', '--backend', backend)
      node = arg(node)
      if (v % 3 === 0) args.push('--node', node)
      else if (v % 3 === 1) args.push('--node', node, '-o', '{out}')
      else args.push('--all-nodes', '{out}')
      break
    }
  }
  args.push('--validate', mode)
  if (command !== 'migrate') {
    if (c.flags & 1) args.push('--strict')
    if (c.flags & 2) args.push('-v')
  }
  return { command, args }
}

/** The deepest nesting a document asks for. */
function maxDepth(n: Node): number {
  let max = 0
  const stack: Node[] = [n]
  while (stack.length > 0) {
    const x = stack.pop() as Node
    if (x instanceof Deep) max = Math.max(max, x.depth)
    else if (Array.isArray(x)) stack.push(...x)
    else if (isMapping(x)) for (const k of Object.keys(x)) stack.push(x[k] as Node)
  }
  return max
}

function hugeBytes(n: Node): number {
  let total = 0
  const stack: Node[] = [n]
  while (stack.length > 0) {
    const x = stack.pop() as Node
    if (x instanceof Huge) total += x.size * Buffer.byteLength(x.char)
    else if (Array.isArray(x)) stack.push(...x)
    else if (isMapping(x)) for (const k of Object.keys(x)) stack.push(x[k] as Node)
  }
  return total
}

export interface PreparedCase {
  readonly recipe: Recipe
  readonly command: CommandName
  readonly mode: string
  readonly argsTemplate: string[]
  readonly bytes: Uint8Array
  readonly inputName: string
  readonly written: Written
  readonly intended?: IntendedDoc[]
  readonly expects: ValidationCase[][]
  readonly isolation: 'in-process' | 'process'
}

/** Turns a recipe into the input bytes, the command line and the reference reading. */
export function prepareCase(
  recipe: Recipe,
  bases: readonly Base[],
  modes: readonly string[] = MODES,
): PreparedCase {
  const base = bases[mod(recipe.base, bases.length)] as Base
  const m = materializeRecipe(recipe, bases)
  const written = writeDocs(m.docs, recipe.render)
  const bytes = recipe.text.length > 0 ? mutateBytes(written.bytes, recipe.text) : written.bytes
  const mode = modes[mod(recipe.mode, modes.length)] as string
  const { command, args } = commandArgs(recipe, base, m.nodeName, mode)
  const deep = Math.max(0, ...m.docs.map((d) => maxDepth(d.value)))
  const big =
    bytes.byteLength >= BIG_PROCESS_BYTES || m.docs.some((d) => hugeBytes(d.value) >= BIG_PROCESS_BYTES)
  const intended =
    recipe.text.length === 0
      ? m.docs.map((d, i) =>
          intendedDoc(d, { undefinedAliases: written.docs[i]?.undefinedAliases ?? new Set() }),
        )
      : undefined
  return {
    recipe,
    command,
    mode,
    argsTemplate: args,
    bytes,
    inputName: `input.${written.ext}`,
    written,
    ...(intended ? { intended } : {}),
    expects: m.docs.map((d) => d.expect),
    isolation: deep >= DEEP_PROCESS_DEPTH || big ? 'process' : 'in-process',
  }
}

/** Runs main() in this process, capturing what it prints. */
export async function runInProcess(argv: readonly string[]): Promise<CliOutcome> {
  let stdout = ''
  let stderr = ''
  const capture =
    (append: (s: string) => void) =>
    (chunk: string | Uint8Array, enc?: unknown, cb?: unknown): boolean => {
      append(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'))
      const done = typeof enc === 'function' ? enc : cb
      if (typeof done === 'function') (done as () => void)()
      return true
    }
  const out = process.stdout.write
  const err = process.stderr.write
  process.stdout.write = capture((s) => {
    stdout += s
  }) as typeof process.stdout.write
  process.stderr.write = capture((s) => {
    stderr += s
  }) as typeof process.stderr.write
  const t0 = performance.now()
  const c0 = threadCpuMs()
  const cpu = (): { cpuMs?: number } => {
    const c1 = threadCpuMs()
    return c0 === undefined || c1 === undefined ? {} : { cpuMs: c1 - c0 }
  }
  try {
    const code = await main(argv)
    return { code, stdout, stderr, ms: performance.now() - t0, ...cpu(), timedOut: false }
  } catch (e) {
    const x = e instanceof Error ? e : new Error(String(e))
    return {
      threw: { name: x.name, message: x.message, stack: x.stack ?? '' },
      stdout,
      stderr,
      ms: performance.now() - t0,
      ...cpu(),
      timedOut: false,
    }
  } finally {
    process.stdout.write = out
    process.stderr.write = err
  }
}

/** Output kept from a fresh process (a 30 MiB input can print more: such output is not judged). */
const KEEP_OUTPUT = 8 << 20

/** A case waiting for a core this many times its CPU bound is stopped anyway (a wait that never ends). */
export const WALL_FACTOR = 20

/**
 * Runs `node bin/palisade.js ARGS` in a fresh process; killed once it has used `cpuMs` of CPU (or, where
 * /proc is missing, after that much wall time), or after WALL_FACTOR times that in wall time.
 */
export function runFreshProcess(bin: string, argv: readonly string[], cpuMs: number): Promise<CliOutcome> {
  return new Promise((resolve) => {
    const t0 = performance.now()
    const child = spawn(process.execPath, [bin, ...argv], { stdio: ['ignore', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    let outSize = 0
    let errSize = 0
    let timedOut = false
    let used: number | undefined
    const timer = setInterval(() => {
      const c = child.pid === undefined ? undefined : pidCpuMs(child.pid)
      if (c !== undefined) used = c
      const wall = performance.now() - t0
      if ((used ?? wall) > cpuMs || wall > cpuMs * WALL_FACTOR) {
        timedOut = true
        child.kill('SIGKILL')
      }
    }, 100)
    child.stdout.on('data', (b: Buffer) => {
      if (outSize < KEEP_OUTPUT) out.push(b)
      outSize += b.length
    })
    child.stderr.on('data', (b: Buffer) => {
      if (errSize < KEEP_OUTPUT) err.push(b)
      errSize += b.length
    })
    child.on('close', (code, signal) => {
      clearInterval(timer)
      resolve({
        ...(code === null ? {} : { code }),
        ...(signal && !timedOut ? { signal } : {}),
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
        ms: performance.now() - t0,
        ...(used === undefined ? {} : { cpuMs: used }),
        ...(outSize > KEEP_OUTPUT ? { stdoutTruncated: true } : {}),
        timedOut,
      })
    })
    child.on('error', (e) => {
      clearInterval(timer)
      resolve({ code: 127, stdout: '', stderr: String(e), ms: performance.now() - t0, timedOut: false })
    })
  })
}

/** Every file below a folder, relative to it. */
async function listTree(dir: string): Promise<string[]> {
  const out: string[] = []
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else out.push(relative(dir, p))
    }
  }
  await walk(dir)
  return out.sort()
}

/** Splits `compile --backend iptables` stdout ("# ==> NAME <==" sections) into its files. */
export function splitIptables(text: string): IptablesRuleset {
  const files: Record<string, string> = {}
  let name = ''
  for (const line of text.split('\n')) {
    const m = /^# ==> (.+) <==$/.exec(line)
    if (m) {
      name = m[1] as string
      files[name] = ''
    } else if (name !== '') files[name] += `${line}\n`
  }
  return {
    ipset: files['ipset.restore'] ?? '',
    v4: files['iptables.rules'] ?? '',
    v6: files['ip6tables.rules'] ?? '',
  }
}

/** Runs a prepared case and applies every oracle. */
export async function runPrepared(p: PreparedCase, env: ExecEnv): Promise<CaseResult> {
  // One folder per thread, reused: creating and removing a folder per case costs more than the case.
  // Fresh-process cases may run several at once from one thread: each gets its own folder.
  const separate = p.isolation === 'process' && env.bin !== undefined
  const dir = join(env.tmp, `cases-${process.pid}-${threadId}${separate ? `-p${++processCases}` : ''}`)
  const outDir = join(dir, 'out')
  if (!madeDirs.has(dir)) {
    await mkdir(dir, { recursive: true })
    if (!separate) madeDirs.add(dir)
  }
  const inputPath = join(dir, p.inputName)
  try {
    await writeFile(inputPath, p.bytes)
    const argv = p.argsTemplate.map((a) => (a === '{input}' ? inputPath : a === '{out}' ? outDir : a))
    const isolation = p.isolation === 'process' && env.bin !== undefined ? 'process' : 'in-process'
    const bound = hangBoundMs(env.hangMs, p.bytes.length)
    const outcome =
      isolation === 'process'
        ? await runFreshProcess(env.bin as string, argv, bound)
        : await runInProcess(argv)
    const failures: Failure[] = [...crashOracle(outcome, p.command, p.recipe.family, p.argsTemplate, bound)]
    const nft: string[] = []
    const iptables: IptablesRuleset[] = []
    const crashed = failures.some((f) => f.cls === 'crash' || f.cls === 'hang')

    // The input is never written; outputs only go where -o / --all-nodes points.
    const after = await readFile(inputPath).catch(() => undefined)
    if (!after || !Buffer.from(after).equals(Buffer.from(p.bytes)))
      failures.push({
        cls: 'crash',
        sub: 'unsafe-write',
        detail: `${p.command} changed or removed its input file`,
        signature: `crash/unsafe-write/${p.command} modified its input`,
      })
    const top = await readdir(dir)
    const strays =
      top.length === 1 && top[0] === p.inputName
        ? []
        : (await listTree(dir)).filter((f) => f !== p.inputName && !f.startsWith(`out/`))
    if (strays.length > 0)
      failures.push({
        cls: 'crash',
        sub: 'unsafe-write',
        detail: `${p.command} wrote outside its output folder: ${strays.slice(0, 5).join(', ')}`,
        signature: `crash/unsafe-write/${p.command} wrote outside its output folder`,
      })

    if (!crashed && outcome.code === 0 && !outcome.stdoutTruncated) {
      const written = p.argsTemplate.includes('{out}') ? await listTree(outDir).catch(() => []) : []
      if (p.command === 'compile-nftables') {
        if (written.length === 0 && outcome.stdout !== '') nft.push(outcome.stdout)
        for (const f of written) if (f.endsWith('.nft')) nft.push(await readFile(join(outDir, f), 'utf8'))
      } else if (p.command === 'compile-iptables') {
        if (written.length === 0 && outcome.stdout !== '') iptables.push(splitIptables(outcome.stdout))
        const dirs = new Set(written.map((f) => f.slice(0, Math.max(0, f.lastIndexOf('/')))))
        for (const d of dirs) {
          const read = (n: string) => readFile(join(outDir, d, n), 'utf8').catch(() => '')
          iptables.push({
            ipset: await read('ipset.restore'),
            v4: await read('iptables.rules'),
            v6: await read('ip6tables.rules'),
          })
        }
      }
    }

    if (isolation === 'in-process') {
      failures.push(
        ...acceptanceOracle({
          inputs: [{ file: inputPath, text: p.bytes }],
          mode: p.mode,
          ...(p.intended ? { docs: p.written.docs, intended: p.intended } : {}),
          expects: p.expects,
        }),
      )
    }
    return {
      failures,
      nft,
      iptables,
      ms: outcome.ms,
      isolation,
      command: p.command,
      mode: p.mode,
      argsTemplate: p.argsTemplate,
      inputName: p.inputName,
      ...(failures.length > 0 ? { input: p.bytes } : {}),
    }
  } finally {
    if (separate) await rm(dir, { recursive: true, force: true })
    else
      for (const name of await readdir(dir).catch(() => [] as string[]))
        await rm(join(dir, name), { recursive: true, force: true })
  }
}
