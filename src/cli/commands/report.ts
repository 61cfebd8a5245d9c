/** `palisade report PATH... -o report.html`: the web page as one self-contained HTML file (no network needed). */
import { writeFile } from 'node:fs/promises'
import type { Command } from 'commander'
import { readAssets, renderReportPage } from '../../web/index.js'
import { addPageOptions, loadPageData, type PageOptions, resolvePageSpecs } from '../page-inputs.js'

interface ReportOptions extends PageOptions {
  readonly output: string
}

/** Registers `report`. */
export function registerReport(program: Command, setExit: (code: number) => void): void {
  addPageOptions(
    program
      .command('report')
      .description(
        'write the web page (matrix, explanations, graph, lint, diff) as one self-contained HTML file that opens offline',
      ),
  )
    .option('-o, --output <file>', 'the HTML file to write (- for stdout)', 'palisade-report.html')
    .action(async (paths: string[], opts: ReportOptions) => {
      const fail = (message: string) => {
        process.stderr.write(`palisade report: ${message}\n`)
        setExit(2)
      }
      const specs = resolvePageSpecs(paths, opts)
      if (typeof specs === 'string') return fail(specs)
      const assets = readAssets()
      if (typeof assets === 'string') return fail(assets)
      const data = await loadPageData(specs, opts.verbose ?? false, 'report')
      if (typeof data === 'string') return fail(data)
      const html = renderReportPage(data, assets.script, assets.css)
      if (opts.output === '-') process.stdout.write(html)
      else {
        await writeFile(opts.output, html)
        process.stderr.write(
          `palisade report: wrote ${opts.output} (${(Buffer.byteLength(html) / 1024).toFixed(0)} KiB, ${data.current.cluster.pods.length} pods, ${data.current.cluster.policies.length} policies)\n`,
        )
      }
      setExit(0)
    })
}
