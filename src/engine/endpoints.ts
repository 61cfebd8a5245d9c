/** Turns what a user typed (--from / --to) into an endpoint of the cluster. */
import type { Pod } from '../model/index.js'
import { formatIP, parseCIDR, parseIP, podKey } from '../model/index.js'
import type { ClusterIndex } from './cluster-index.js'
import type { Endpoint } from './types.js'

/**
 * Resolves 'namespace/pod', 'namespace/workload', 'node/NAME[=IP]' or an IP address. An IP that belongs to
 * a pod of the cluster is that pod; any other IP is a host outside the cluster. Returns an error message
 * when nothing matches.
 */
export function resolveEndpoint(index: ClusterIndex, spec: string): Endpoint | string {
  let text = spec.trim()
  // [2001:db8::1] as in URLs, and a one-address CIDR (8.8.8.8/32, 2001:db8::1/128) are that address.
  const bracketed = /^\[([^\]]+)\]$/.exec(text)
  if (bracketed && parseIP(bracketed[1] as string)?.family === 6) text = bracketed[1] as string
  const cidr = text.includes('/') ? parseCIDR(text) : undefined
  if (cidr) {
    const single = cidr.prefix === (cidr.family === 4 ? 32 : 128)
    if (!single || cidr.hostBitsSet)
      return `${text} is a range of addresses: give one address (such as ${formatIP(cidr.family, cidr.base + (cidr.family === 4 && cidr.prefix < 31 ? 1n : 0n))})`
    text = text.slice(0, text.indexOf('/'))
  }
  const ip = parseIP(text)
  if (ip) {
    const pods = index.cluster.pods.filter(
      (p) =>
        !p.hostNetwork &&
        p.ips.some((x) => parseIP(x)?.value === ip.value && parseIP(x)?.family === ip.family),
    )
    if (pods.length === 1) return { kind: 'pod', pod: pods[0] as Pod }
    if (pods.length > 1) return `address ${text} belongs to several pods: ${pods.map(podKey).join(', ')}`
    return { kind: 'ip', ip: text }
  }
  const nodeMatch = /^node\/([^=]+)(?:=(.+))?$/.exec(text)
  if (nodeMatch) {
    const addr = nodeMatch[2]
    if (addr !== undefined && !parseIP(addr)) return `invalid node address "${addr}" in "${text}"`
    return addr === undefined
      ? { kind: 'node', node: nodeMatch[1] as string }
      : { kind: 'node', node: nodeMatch[1] as string, ip: addr }
  }
  const slash = text.indexOf('/')
  if (slash <= 0 || slash === text.length - 1) {
    return `invalid endpoint "${spec}": expected namespace/pod, namespace/workload, node/NAME or an IP address`
  }
  const ns = text.slice(0, slash)
  const name = text.slice(slash + 1)
  const exact = index.podsByKey.get(`${ns}/${name}`)
  if (exact) return { kind: 'pod', pod: exact }
  const owned = index.cluster.pods.filter((p) => p.namespace === ns && p.workload?.name === name)
  if (owned.length >= 1) return { kind: 'pod', pod: owned[0] as Pod }
  const inNs = index.cluster.pods.filter((p) => p.namespace === ns).map((p) => p.name)
  const hint =
    inNs.length > 0
      ? `; pods in ${ns}: ${inNs.slice(0, 10).join(', ')}${inNs.length > 10 ? ', ...' : ''}`
      : `; no pod in namespace ${ns}`
  return `no pod or workload "${name}" in namespace "${ns}"${hint}`
}
