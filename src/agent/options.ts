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

export interface ListenAddress {
  /** Empty = every address (as Go's net.Listen with ":PORT"). */
  readonly host: string
  readonly port: number
}

/** Parses "[HOST]:PORT" (":20244", "127.0.0.1:20244", "[::1]:9090"); undefined when malformed. */
export function parseListenAddress(text: string): ListenAddress | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text.trim())
  if (!m) return undefined
  const port = Number(m[3])
  if (port > 65535) return undefined
  return { host: m[1] ?? m[2] ?? '', port }
}
