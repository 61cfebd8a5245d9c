/**
 * Finds each local pod's host-side interface from the node's routes (pure; the agent runs `ip -j route`).
 * Routed CNIs (Calico style: one veth and one /32 or /128 route per pod) give every pod address a host
 * route through the pod's own interface; that is what anti-spoofing needs (a packet entering from that
 * interface must carry one of the pod's addresses). A pod is mapped only when every address it has is
 * routed through one and the same device that no other pod's route uses: with a bridge CNI (routes to a
 * whole pod CIDR through cni0/cbr0) nothing is mapped, and the ruleset keeps relying on rp_filter.
 */
import { type ClusterState, canonicalIP, parseIP, podKey } from '../model/index.js'

/** Interface names the agent writes into a ruleset (Linux allows up to 15 bytes; we allow no quotes or spaces). */
const INTERFACE_NAME = /^[A-Za-z0-9_.@-]{1,15}$/

/**
 * Parses the output of `ip -j route show` (one JSON array per line; IPv4 and IPv6 outputs may follow each
 * other) into host route address -> device. Routes through a gateway, to networks, or of other kinds
 * (unreachable, local...) are not host routes of a local pod and are left out.
 */
export function parseHostRoutes(text: string): Map<string, string> {
  const out = new Map<string, string>()
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    let routes: unknown
    try {
      routes = JSON.parse(line)
    } catch {
      continue
    }
    if (!Array.isArray(routes)) continue
    for (const r of routes as unknown[]) {
      if (typeof r !== 'object' || r === null || Array.isArray(r)) continue
      const { dst, dev, gateway, type } = r as Record<string, unknown>
      if (typeof dst !== 'string' || typeof dev !== 'string' || gateway !== undefined) continue
      // The name is written into the ruleset: only what `--pod-interface` accepts (no quotes, no spaces).
      if (!INTERFACE_NAME.test(dev)) continue
      if (type !== undefined && type !== 'unicast') continue
      const [addr, len] = dst.split('/')
      const ip = parseIP(addr ?? '')
      if (!ip) continue
      if (len !== undefined && Number(len) !== (ip.family === 4 ? 32 : 128)) continue
      out.set(canonicalIP(ip), dev)
    }
  }
  return out
}

/** Returns pod key -> host interface for the node's pods whose addresses all route through one unshared device. */
export function podInterfacesFromRoutes(
  cluster: ClusterState,
  node: string,
  routes: ReadonlyMap<string, string>,
): Record<string, string> {
  // canonical address -> pod key, for this node's pod-network pods
  const local = new Map<string, string>()
  const addrs = new Map<string, string[]>()
  for (const p of cluster.pods) {
    if (p.nodeName !== node || p.hostNetwork || p.ips.length === 0) continue
    const key = podKey(p)
    const list = p.ips.map((a) => parseIP(a)).map((ip) => (ip ? canonicalIP(ip) : ''))
    addrs.set(key, list)
    for (const a of list) if (a !== '') local.set(a, key)
  }
  // Who each device's host routes lead to: a device routing for more than one pod (or for an address
  // that is no local pod's) is shared, a bridge or a tunnel, and identifies nobody.
  const owners = new Map<string, Set<string>>()
  for (const [addr, dev] of routes) {
    const set = owners.get(dev) ?? new Set<string>()
    set.add(local.get(addr) ?? `address ${addr}`)
    owners.set(dev, set)
  }
  const out: Record<string, string> = {}
  for (const [key, list] of addrs) {
    const devs = new Set(list.map((a) => routes.get(a)))
    const [dev] = [...devs]
    if (devs.size === 1 && dev !== undefined && owners.get(dev)?.size === 1) out[key] = dev
  }
  return out
}
