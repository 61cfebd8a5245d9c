/**
 * Writes the scale benchmark's cluster (src/gen/antrea-shape.ts) as one multi-document YAML file, block
 * style as `kubectl get -o yaml` prints it, streamed (the full shape is ~200k objects).
 * Run: `node dist/bench/scale-input.js FILE [--namespaces N] [--pods N] [--nodes N]`.
 */
import { createWriteStream } from 'node:fs'
import { parseArgs } from 'node:util'
import { stringify } from 'yaml'
import { type AntreaShapeOptions, antreaShapeManifests } from '../src/gen/antrea-shape.js'

/** Streams the cluster of these options to `file` as YAML documents; resolves to the bytes written. */
export async function writeAntreaShape(file: string, opts: AntreaShapeOptions = {}): Promise<number> {
  const out = createWriteStream(file)
  let bytes = 0
  for (const doc of antreaShapeManifests(opts)) {
    const text = `---\n${stringify(doc)}`
    bytes += Buffer.byteLength(text)
    if (!out.write(text)) await new Promise<void>((r) => out.once('drain', () => r()))
  }
  await new Promise<void>((resolve, reject) => out.end(() => resolve()).on('error', reject))
  return bytes
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].replace(/.*\//, '/'))) {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: { namespaces: { type: 'string' }, pods: { type: 'string' }, nodes: { type: 'string' } },
  })
  const file = positionals[0]
  if (!file) throw new Error('usage: scale-input.js FILE [--namespaces N] [--pods N] [--nodes N]')
  const opts: AntreaShapeOptions = {
    ...(values.namespaces ? { namespaces: Number(values.namespaces) } : {}),
    ...(values.pods ? { pods: Number(values.pods) } : {}),
    ...(values.nodes ? { nodes: Number(values.nodes) } : {}),
  }
  const t = performance.now()
  const bytes = await writeAntreaShape(file, opts)
  console.log(
    `${file}: ${(bytes / 2 ** 20).toFixed(1)} MiB in ${((performance.now() - t) / 1000).toFixed(1)} s`,
  )
}
