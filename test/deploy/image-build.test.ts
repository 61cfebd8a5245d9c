/**
 * The image builds: deploy/Dockerfile's build stage, replayed from exactly the files it COPYs (no
 * container runtime or base image is reachable in CI). The Dockerfile is parsed, not restated: a COPY
 * added or removed there changes what this test copies. `npm ci` is replaced by a link to this
 * checkout's node_modules (same package-lock.json) and `npm prune` is skipped (it would prune the shared
 * node_modules); every other RUN command runs as written. Then the final stage is assembled from its
 * `COPY --from=build` lines and the ENTRYPOINT + CMD run (`agent --help`), which loads the agent's
 * whole module graph from the built dist/.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readFile, rm, stat, symlink } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'

const run = promisify(execFile)
const ROOT = resolve('.')

interface Stage {
  readonly name: string
  workdir: string
  readonly steps: { readonly op: string; readonly args: string }[]
}

/** Splits a Dockerfile into stages of (instruction, arguments), joining `\` continuation lines. */
function parseDockerfile(text: string): Stage[] {
  const lines = text.replace(/\\\r?\n/g, ' ').split(/\r?\n/)
  const stages: Stage[] = []
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const m = /^(\w+)\s+(.*)$/.exec(line)
    if (!m) throw new Error(`unreadable Dockerfile line: ${line}`)
    const op = m[1]!.toUpperCase()
    const args = m[2]!.trim()
    if (op === 'FROM') {
      const as = /\s+AS\s+(\S+)$/i.exec(args)
      stages.push({ name: as?.[1] ?? String(stages.length), workdir: '/', steps: [] })
      continue
    }
    const stage = stages.at(-1)
    if (!stage) throw new Error(`${op} before FROM`)
    stage.steps.push({ op, args })
  }
  return stages
}

const exists = (p: string) =>
  stat(p).then(
    () => true,
    () => false,
  )

/** Maps an absolute image path under `workdir` to `hostDir`. */
function inStage(hostDir: string, workdir: string, p: string): string {
  const abs = p.startsWith('/') ? p : `${workdir.replace(/\/$/, '')}/${p}`
  if (!abs.startsWith(workdir)) throw new Error(`${p} lies outside WORKDIR ${workdir}`)
  return join(hostDir, abs.slice(workdir.length))
}

/** Replays the build stage in `dir`; returns the commands it ran. */
async function replayBuild(stage: Stage, dir: string): Promise<string[]> {
  const ran: string[] = []
  let workdir = '/'
  for (const { op, args } of stage.steps) {
    if (op === 'WORKDIR') workdir = args
    else if (op === 'COPY') {
      const parts = args.split(/\s+/)
      if (parts.some((p) => p.startsWith('--'))) throw new Error(`unexpected COPY flag in build: ${args}`)
      const dest = parts.pop()!
      for (const src of parts) {
        const target = dest.endsWith('/')
          ? join(inStage(dir, workdir, dest), src)
          : inStage(dir, workdir, dest)
        await cp(join(ROOT, src), target, { recursive: true })
      }
    } else if (op === 'RUN') {
      for (const cmd of args.split('&&').map((c) => c.trim())) {
        if (/^npm ci\b/.test(cmd)) {
          expect(await exists(join(dir, 'package-lock.json'))).toBe(true)
          await symlink(join(ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir')
        } else if (/^npm prune\b/.test(cmd)) {
          // skipped: it would remove the dev dependencies of the shared node_modules
        } else {
          ran.push(cmd)
          await run('sh', ['-c', cmd], { cwd: dir, maxBuffer: 64 * 1024 * 1024 })
        }
      }
    } else if (op !== 'ENV' && op !== 'ARG') throw new Error(`build stage: unhandled ${op}`)
  }
  stage.workdir = workdir
  return ran
}

describe('deploy/Dockerfile', () => {
  const dirs: string[] = []
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true })
  })

  it('builds from exactly the files it copies, and the image runs the agent', {
    timeout: 300_000,
  }, async () => {
    const stages = parseDockerfile(await readFile(join(ROOT, 'deploy/Dockerfile'), 'utf8'))
    expect(stages.map((s) => s.name)).toEqual(['build', '1'])
    const [build, final] = stages as [Stage, Stage]

    const buildDir = await mkdtemp(join(tmpdir(), 'pz-image-build-'))
    dirs.push(buildDir)
    const ran = await replayBuild(build, buildDir)
    expect(ran.length).toBeGreaterThan(0)

    // the final stage: its COPY --from=build sources must exist after the build stage
    const imageDir = await mkdtemp(join(tmpdir(), 'pz-image-'))
    dirs.push(imageDir)
    let workdir = '/'
    let entrypoint: string[] = []
    let cmd: string[] = []
    for (const { op, args } of final.steps) {
      if (op === 'WORKDIR') workdir = args
      else if (op === 'COPY') {
        const m = /^--from=build\s+(\S+)\s+(\S+)$/.exec(args)
        expect(m, `final stage copies only from the build stage: ${args}`).not.toBeNull()
        const src = inStage(buildDir, build.workdir, m![1]!)
        expect(await exists(src), `${m![1]} exists after the build stage`).toBe(true)
        const target = inStage(imageDir, workdir, m![2]!)
        if (m![1]!.endsWith('/node_modules')) await symlink(src, target, 'dir')
        else if (m![2]!.endsWith('/')) await cp(src, join(target, src.split('/').pop()!), { recursive: true })
        else await cp(src, target, { recursive: true })
      } else if (op === 'ENTRYPOINT') entrypoint = JSON.parse(args) as string[]
      else if (op === 'CMD') cmd = JSON.parse(args) as string[]
    }
    expect(entrypoint[0]).toBe('node')
    expect(cmd).toEqual(['agent'])
    const launcher = inStage(imageDir, workdir, entrypoint[1]!)
    expect(await exists(launcher)).toBe(true)
    // the launcher's import target, and no benchmark or test in the image
    expect(await exists(join(imageDir, 'dist/src/cli/main.js'))).toBe(true)
    expect(await exists(join(imageDir, 'dist/src/agent/index.js'))).toBe(true)
    expect(await exists(join(imageDir, 'dist/bench'))).toBe(false)
    expect(await exists(join(imageDir, 'dist/test'))).toBe(false)
    expect(await exists(join(imageDir, 'dist/harness'))).toBe(false)

    const out = await run(process.execPath, [launcher, ...entrypoint.slice(2), ...cmd, '--help'], {
      cwd: imageDir,
    })
    expect(out.stdout).toContain('--health-addr')
  })
})
