/**
 * `palisade serve PATH... [--addr 127.0.0.1:8080]`: a local web page of who can reach whom (matrix,
 * explanations, graph, lint, diff). It reloads when the files change, or the cluster does.
 */
import type { Command } from 'commander'
import { readAssets, WebServer, watchPaths } from '../../web/index.js'
import { addPageOptions, loadPageData, type PageOptions, resolvePageSpecs } from '../page-inputs.js'

interface ServeOptions extends PageOptions {
  readonly addr: string
  readonly interval: string
  readonly clusterInterval: string
}

/** Parses HOST:PORT ([::1]:8080 for IPv6); an error message otherwise. */
export function parseAddr(text: string): { host: string; port: number } | string {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text)
  const port = m ? Number(m[3]) : Number.NaN
  if (!m || port > 65535)
    return `--addr ${text}: expected HOST:PORT, e.g. 127.0.0.1:8080 (port 0 picks a free one)`
  return { host: m[1] ?? (m[2] || '127.0.0.1'), port }
}

const LOOPBACK = /^(127\.|localhost$|::1$)/

/** Registers `serve`. */
export function registerServe(program: Command, setExit: (code: number) => void): void {
  addPageOptions(
    program
      .command('serve')
      .description(
        'serve a local web page: the matrix as a heat map, explanations, a graph of workloads, lint findings and the diff view; reloads on change',
      ),
  )
    .option('--addr <host:port>', 'where to listen (default: localhost only)', '127.0.0.1:8080')
    .option('--interval <ms>', 'how often to look for changed files', '1000')
    .option('--cluster-interval <ms>', 'how often to read the cluster again (with --kubeconfig)', '10000')
    .action(async (paths: string[], opts: ServeOptions) => {
      const fail = (message: string) => {
        process.stderr.write(`palisade serve: ${message}\n`)
        setExit(2)
      }
      const specs = resolvePageSpecs(paths, opts)
      if (typeof specs === 'string') return fail(specs)
      const addr = parseAddr(opts.addr)
      if (typeof addr === 'string') return fail(addr)
      const interval = Number(opts.interval)
      const clusterInterval = Number(opts.clusterInterval)
      if (!(interval >= 100) || !(clusterInterval >= 1000))
        return fail('--interval must be at least 100 ms and --cluster-interval at least 1000 ms')
      if ([...specs.watched].includes('-')) return fail('serve cannot watch stdin: give files or folders')
      const assets = readAssets()
      if (typeof assets === 'string') return fail(assets)
      const first = await loadPageData(specs, opts.verbose ?? false, 'serve')
      if (typeof first === 'string') return fail(first)
      if (!LOOPBACK.test(addr.host))
        process.stderr.write(
          `palisade serve: warning: listening on ${addr.host}: anyone who can reach it sees the cluster's policies\n`,
        )
      const server = new WebServer({ host: addr.host, port: addr.port, title: specs.title, assets })
      try {
        await server.start()
      } catch (err) {
        return fail(`cannot listen on ${opts.addr}: ${err instanceof Error ? err.message : String(err)}`)
      }
      server.update({ data: first })
      let lastJSON = JSON.stringify(first)
      const reload = async (why: string) => {
        const data = await loadPageData(specs, opts.verbose ?? false, 'serve').catch((err: unknown) =>
          err instanceof Error ? err.message : String(err),
        )
        if (typeof data === 'string') {
          process.stderr.write(
            `palisade serve: reload failed (${why}): ${data}; the page keeps the last good state\n`,
          )
          server.update({ error: data })
          return
        }
        const json = JSON.stringify(data)
        if (json === lastJSON) return // e.g. the cluster was read again and nothing changed
        lastJSON = json
        server.update({ data })
        process.stderr.write(`palisade serve: reloaded (${why})\n`)
      }
      const stops: (() => void)[] = []
      if (specs.watched.length > 0)
        stops.push(watchPaths(specs.watched, interval, () => reload('files changed')))
      if (specs.cluster) {
        const timer = setInterval(() => void reload('cluster read again'), clusterInterval)
        stops.push(() => clearInterval(timer))
      }
      process.stdout.write(`palisade serve: ${server.url} (Ctrl-C to stop)\n`)
      await new Promise<void>((resolve) => {
        const stop = () => resolve()
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      for (const s of stops) s()
      await server.stop()
      setExit(0)
    })
}
