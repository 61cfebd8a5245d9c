/** Shared fixtures of the lab tests: a small two-node cluster and the "can this machine run a lab" check. */
import { execFileSync } from 'node:child_process'
import { vi } from 'vitest'
import type { ClusterState, ContainerPort, NetworkPolicy, Pod } from '../../src/model/index.js'
import { pod as makePod, sel } from '../fixtures.js'

/** Returns why lab tests cannot run here, or undefined when they can (root and `ip netns`). */
export function labSkipReason(): string | undefined {
  if (typeof process.getuid === 'function' && process.getuid() !== 0)
    return 'lab tests need root (network namespaces)'
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'pipe', timeout: 5000 })
  } catch {
    return '`ip netns` is not available'
  }
  return undefined
}

/** Returns true when a command exists (for backends that need nft or iptables-legacy). */
export function hasCommand(cmd: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'pipe', timeout: 5000 })
    return true
  } catch {
    return false
  }
}

/** A pod serving http/80 and dns/53, without an address (the lab assigns them), on nodeName when given. */
function pod(namespace: string, name: string, labels: Record<string, string>, nodeName?: string): Pod {
  const ports: ContainerPort[] = [
    { name: 'http', containerPort: 80, protocol: 'TCP' },
    { name: 'dns', containerPort: 53, protocol: 'UDP' },
  ]
  const p = makePod(`${namespace}/${name}`, labels, [], { ports })
  if (nodeName) return { ...p, nodeName }
  const { nodeName: _, ...unplaced } = p
  return unplaced
}

/**
 * Two nodes, five pods in two namespaces. prod has a default-deny ingress policy and an allow policy
 * letting role=frontend pods of any namespace reach app=db on TCP 80; dev/client's egress is limited to an
 * ipBlock with an except (so outside hosts are exercised).
 */
export function smallCluster(withPolicies = true): ClusterState {
  const ns = (name: string) => ({
    name,
    labels: { 'kubernetes.io/metadata.name': name },
    declared: true,
    defaultDenyIngress: false,
  })
  const policies: NetworkPolicy[] = [
    {
      namespace: 'prod',
      name: 'default-deny',
      origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
      podSelector: sel({}),
      policyTypes: ['Ingress'],
      ingress: [],
      egress: [],
      source: { file: 'policies.yaml', line: 1 },
    },
    {
      namespace: 'prod',
      name: 'allow-frontend',
      origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
      podSelector: sel({ app: 'db' }),
      policyTypes: ['Ingress'],
      ingress: [
        {
          peers: [{ namespaceSelector: sel({}), podSelector: sel({ role: 'frontend' }) }],
          ports: [{ protocol: 'TCP', port: 80 }],
          source: { file: 'policies.yaml', line: 15 },
        },
      ],
      egress: [],
      source: { file: 'policies.yaml', line: 8 },
    },
    {
      namespace: 'dev',
      name: 'client-egress',
      origin: { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1' },
      podSelector: sel({ app: 'client' }),
      policyTypes: ['Egress'],
      ingress: [],
      egress: [
        {
          peers: [
            { ipBlock: { cidr: '10.240.0.0/16', except: ['10.240.2.0/28'] } },
            { ipBlock: { cidr: '203.0.113.0/24', except: [] } },
          ],
          source: { file: 'policies.yaml', line: 30 },
        },
      ],
      source: { file: 'policies.yaml', line: 24 },
    },
  ]
  return {
    namespaces: [ns('prod'), ns('dev')],
    pods: [
      pod('prod', 'db', { app: 'db' }, 'node-1'),
      pod('prod', 'api', { app: 'api', role: 'frontend' }, 'node-1'),
      pod('dev', 'client-a', { app: 'client', role: 'frontend' }, 'node-1'),
      pod('prod', 'web', { app: 'web', role: 'frontend' }, 'node-2'),
      pod('dev', 'client-b', { app: 'client' }, 'node-2'),
    ],
    policies: withPolicies ? policies : [],
  }
}

/**
 * smallCluster with IPv6 ipBlocks instead (for an IPv6 lab): dev/client may send to the lab's IPv6 range
 * except node-2's first pods, and to a documentation /64 on the outside.
 */
export function smallCluster6(): ClusterState {
  const c = smallCluster(true)
  return {
    ...c,
    policies: c.policies.map((p) =>
      p.name !== 'client-egress'
        ? p
        : {
            ...p,
            egress: [
              {
                peers: [
                  { ipBlock: { cidr: 'fd00:240::/32', except: ['fd00:240:2::/120'] } },
                  { ipBlock: { cidr: '2001:db8::/64', except: [] } },
                ],
                source: { file: 'policies.yaml', line: 30 },
              },
            ],
          },
    ),
  }
}

/** Runs the CLI in this process and returns its exit code and what it wrote to stdout and stderr. */
export async function capture(argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = ''
  let err = ''
  const o = vi.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => {
    out += String(s)
    return true
  })
  const e = vi.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => {
    err += String(s)
    return true
  })
  const { main } = await import('../../src/cli/main.js')
  try {
    return { code: await main(argv), out, err }
  } finally {
    o.mockRestore()
    e.mockRestore()
  }
}
