/** Parsing of the agent's flag values: Go-style durations (`5m`, `50ms`, `1h30m`) and `[HOST]:PORT` addresses. */

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** Parses a Go-style duration ("50ms", "5m", "1h30m", "1.5s", "0") into milliseconds; undefined when malformed. */
export function parseDuration(text: string): number | undefined {
  const t = text.trim()
  if (t === '0') return 0
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/y
  let total = 0
  let pos = 0
  while (pos < t.length) {
    re.lastIndex = pos
    const m = re.exec(t)
    if (!m) return undefined
    total += Number(m[1]) * (UNIT_MS[m[2] as string] as number)
    pos = re.lastIndex
  }
  return pos === 0 ? undefined : Math.round(total)
}

/**
 * The default port of --health-addr. The agent runs with hostNetwork, so its port is shared with every
 * other hostNetwork daemon on the node; 9745 is used by none of the common network plugins and
 * proxies: Calico (felix health 9099, metrics 9091, typha 5473), Cilium (4240, 4244, 9876, 9879, 9890,
 * 9962-9965), kube-router (health 20244, metrics 20245), Antrea (10349-10351), flannel (8285, 8472),
 * Weave (6781-6784), kube-proxy (10249, 10256), the kubelet (10248, 10250, 10255), node-exporter (9100).
 * Not 20244: kube-router's, which the agent runs beside while replacing it (deploy/README.md).
 */
export const DEFAULT_HEALTH_PORT = 9745

export interface ListenAddress {
  /** Empty = every address (as Go's net.Listen with ":PORT"). */
  readonly host: string
  readonly port: number
}

/** Parses "[HOST]:PORT" (":9745", "127.0.0.1:9745", "[::1]:9090"); undefined when malformed. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim())
  if (!m) return undefined
  const port = Number(m[3])
  if (port > 65535) return undefined
  return { host: m[1] ?? m[2] ?? '', port }
}
