/**
 * What an operator installs (deploy/): every YAML there loads and validates with Palisade's own loader
 * under --validate=strict, and the properties that keep the agent up and least-privileged hold: Linux
 * nodes only, liveness and readiness probes on the agent's default health port, minReadySeconds, a
 * read-only root filesystem with the state dir mounted, NET_ADMIN/NET_RAW only, read-only RBAC (+
 * events), an image kustomize can rewrite, and a cleanup Component that clears both iptables variants
 * under the xtables lock.
 */
import { execFile } from 'node:child_process'
import { cp, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, relative, resolve } from 'node:path'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { DEFAULT_HEALTH_PORT } from '../../src/agent/options.js'
import { loadCluster } from '../../src/load/index.js'

const run = promisify(execFile)
const ROOT = resolve('.')
const DEPLOY = join(ROOT, 'deploy')

// biome-ignore lint/suspicious/noExplicitAny: manifests are walked as plain JSON
type Json = any

async function yamlFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out.push(...(await yamlFiles(p)))
    else if (/\.ya?ml$/.test(e.name)) out.push(p)
  }
  return out.sort()
}

/** Loads one file with Palisade's loader (strict); returns its objects and the diagnostics above info. */
async function load(file: string): Promise<{ objects: Json[]; problems: string[] }> {
  const rel = relative(ROOT, file)
  const r = loadCluster([{ file: rel, text: await readFile(file, 'utf8') }], { validate: 'strict' })
  return {
    objects: r.objects.map((o) => o.value as Json),
    problems: r.diagnostics.filter((d) => d.severity !== 'info').map((d) => `${d.code}: ${d.message}`),
  }
}

async function one(file: string, kind: string): Promise<Json> {
  const { objects } = await load(join(DEPLOY, file))
  const found = objects.filter((o) => o.kind === kind)
  expect(found, `${file}: one ${kind}`).toHaveLength(1)
  return found[0]
}

const FILES = [
  'daemonset.yaml',
  'rbac.yaml',
  'kustomization.yaml',
  'cleanup/daemonset.yaml',
  'cleanup/kustomization.yaml',
  'uninstall/kustomization.yaml',
]

describe('deploy/ manifests', () => {
  it('the files checked here are every YAML in deploy/', async () => {
    expect((await yamlFiles(DEPLOY)).map((f) => relative(DEPLOY, f))).toEqual([...FILES].sort())
  })

  it.each(FILES)('%s loads and validates under --validate=strict', async (file) => {
    const { objects, problems } = await load(join(DEPLOY, file))
    expect(problems).toEqual([])
    expect(objects.length).toBeGreaterThan(0)
  })

  for (const [file, name] of [
    ['daemonset.yaml', 'agent'],
    ['cleanup/daemonset.yaml', 'cleanup'],
  ] as const) {
    it(`${file}: Linux nodes only, every taint tolerated, least privilege, read-only root`, async () => {
      const ds = await one(file, 'DaemonSet')
      const pod = ds.spec.template.spec
      expect(pod.nodeSelector).toEqual({ 'kubernetes.io/os': 'linux' })
      expect(pod.tolerations).toEqual([{ operator: 'Exists' }])
      expect(pod.hostNetwork).toBe(true)
      expect(pod.containers.map((c: Json) => c.name)).toEqual([name])
      const c = pod.containers[0]
      expect(c.securityContext).toMatchObject({
        privileged: false,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ['ALL'], add: ['NET_ADMIN', 'NET_RAW'] },
      })
      expect(JSON.stringify(ds)).not.toMatch(/"privileged":true|SYS_ADMIN/)
      // what the processes write is a mounted volume: the state dir and the xtables lock, from the host
      const mounts = Object.fromEntries(c.volumeMounts.map((m: Json) => [m.mountPath, m.name]))
      const volumes = Object.fromEntries(pod.volumes.map((v: Json) => [v.name, v]))
      expect(volumes[mounts['/run/palisade']]?.hostPath).toEqual({
        path: '/run/palisade',
        type: 'DirectoryOrCreate',
      })
      expect(volumes[mounts['/run/xtables.lock']]?.hostPath).toEqual({
        path: '/run/xtables.lock',
        type: 'FileOrCreate',
      })
      expect(c.image).toMatch(/^palisade:/)
    })
  }

  it('daemonset.yaml: probes on the agent default health port, /readyz for readiness, minReadySeconds', async () => {
    const ds = await one('daemonset.yaml', 'DaemonSet')
    expect(ds.spec.minReadySeconds).toBeGreaterThan(0)
    const c = ds.spec.template.spec.containers[0]
    expect(c.livenessProbe.httpGet).toEqual({
      host: '127.0.0.1',
      path: '/healthz',
      port: DEFAULT_HEALTH_PORT,
    })
    expect(c.readinessProbe.httpGet).toEqual({
      host: '127.0.0.1',
      path: '/readyz',
      port: DEFAULT_HEALTH_PORT,
    })
    const healthArgs = c.args.filter((a: string) => a.startsWith('--health-addr'))
    expect(healthArgs).toEqual([`--health-addr=127.0.0.1:${DEFAULT_HEALTH_PORT}`])
    // the state dir the agent writes by default lies inside the mounted /run/palisade
    expect(c.args.some((a: string) => a.startsWith('--state-dir'))).toBe(false)
  })

  it('rbac.yaml: reads pods, namespaces, policies, cluster policies and nodes; writes only events', async () => {
    const role = await one('rbac.yaml', 'ClusterRole')
    const grants = role.rules.flatMap((r: Json) =>
      r.apiGroups.flatMap((g: string) =>
        r.resources.map((res: string) => `${g || 'core'}/${res}: ${[...r.verbs].sort().join(',')}`),
      ),
    )
    expect(grants.sort()).toEqual(
      [
        'core/pods: get,list,watch',
        'core/namespaces: get,list,watch',
        'core/nodes: get,list,watch',
        'networking.k8s.io/networkpolicies: get,list,watch',
        'policy.networking.k8s.io/clusternetworkpolicies: get,list,watch',
        'core/events: create,patch',
        'events.k8s.io/events: create,patch',
      ].sort(),
    )
    expect(JSON.stringify(role)).not.toContain('"*"')
  })

  it('the cleanup is a kustomize Component that removes both iptables variants', async () => {
    const component = await one('cleanup/kustomization.yaml', 'Component')
    expect(component.apiVersion).toBe('kustomize.config.k8s.io/v1alpha1')
    expect(component.resources).toEqual(['daemonset.yaml'])
    const uninstall = await one('uninstall/kustomization.yaml', 'Kustomization')
    expect(uninstall.components).toEqual(['../cleanup'])
    const ds = await one('cleanup/daemonset.yaml', 'DaemonSet')
    const script = ds.spec.template.spec.containers[0].args.join('\n')
    expect(script).toMatch(/cleanup --backend all --iptables nft/)
    expect(script).toMatch(/cleanup --backend iptables --iptables legacy/)
    expect(script).toContain('echo cleaned')
  })

  it('both kustomizations rewrite the palisade image (images: name matches the containers)', async () => {
    for (const file of ['kustomization.yaml', 'uninstall/kustomization.yaml']) {
      const k = await one(file, 'Kustomization')
      expect(k.images, file).toEqual([expect.objectContaining({ name: 'palisade' })])
    }
  })

  it('kubectl kustomize rewrites the image of both DaemonSets (when kubectl is installed)', async (ctx) => {
    const kubectl = await run('kubectl', ['version', '--client']).then(
      () => true,
      () => false,
    )
    if (!kubectl) ctx.skip()
    const dir = await mkdtemp(join(tmpdir(), 'pz-deploy-'))
    try {
      await cp(DEPLOY, join(dir, 'deploy'), { recursive: true })
      for (const file of ['kustomization.yaml', 'uninstall/kustomization.yaml']) {
        const p = join(dir, 'deploy', file)
        const text = await readFile(p, 'utf8')
        const edited = text.replace(/- name: palisade\n(\s+)(newName: \S+\n\s+)?/, (_m, ind: string) => {
          return `- name: palisade\n${ind}newName: registry.example/palisade\n${ind}`
        })
        expect(edited).not.toBe(text)
        await writeFile(p, edited)
      }
      for (const dirOf of ['deploy', 'deploy/uninstall']) {
        const out = (await run('kubectl', ['kustomize', join(dir, dirOf)])).stdout
        expect(out, dirOf).toMatch(/image: registry\.example\/palisade:0\.1\.0/)
        expect(out, dirOf).not.toMatch(/image: palisade:/)
        expect(out, dirOf).toContain('namespace: kube-system')
      }
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
