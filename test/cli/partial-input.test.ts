/**
 * Never answer from a silently partial input (issue 17): when a document could not be read or an
 * object was left out, check, matrix and explain say so on stdout next to the answer, and the JSON
 * carries partial: true with the reasons. --strict still makes it fatal.
 */
import { describe, expect, it } from 'vitest'
import { runCli } from './run.js'

const pods = `apiVersion: v1
kind: Namespace
metadata: {name: shop}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: shop, labels: {app: web}}
spec:
  containers: [{name: web, image: nginx, ports: [{containerPort: 80}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop, labels: {app: client}}
spec:
  containers: [{name: c, image: curl}]
`

/** A deny-all policy whose annotation holds JSON closing at its key's column: kubectl reads it. */
const denyAll = `apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: deny-all
  namespace: shop
  annotations:
    owner: '{
      "team": "web"
    }'
spec:
  podSelector: {}
  policyTypes: [Ingress]
`

const broken = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x\n'
const rejected =
  'apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: bad, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{protocol: tcp}]}]\n'

const check = (stdin: string, ...extra: string[]) =>
  runCli(['check', '-f', '-', '--from', 'shop/client', '--to', 'shop/web', '--port', '80', ...extra], stdin)

describe('a deny-all policy with a JSON annotation closing at its key column', () => {
  it('is read, and check says DENIED (it said ALLOWED, exit 0, before)', async () => {
    const r = await check(`${pods}---\n${denyAll}`)
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^shop\/client -> shop\/web on 80\/TCP: DENIED/)
    expect(r.stdout).not.toContain('could not be read')
    expect(r.code).toBe(1)
  })
})

describe('the partial-input notice', () => {
  it('check: a document that could not be read is said on stdout next to the verdict', async () => {
    const r = await check(`${pods}---\n${broken}`)
    expect(r.code).toBe(0)
    expect(r.stdout).toContain(
      'note: 1 document could not be read: this verdict assumes the cluster holds only what was read (see the errors above)',
    )
    expect(r.stderr).toContain('[yaml.syntax]')
  })

  it('check: documents and objects are counted', async () => {
    const r = await check(`${pods}---\n${broken}---\n${broken}---\n${rejected}`)
    expect(r.stdout).toContain(
      'note: 2 documents could not be read and 1 object was left out: this verdict assumes',
    )
  })

  it('check -o json carries partial and the reasons; a complete input says partial: false', async () => {
    const r = await check(`${pods}---\n${broken}---\n${rejected}`, '-o', 'json')
    const j = JSON.parse(r.stdout)
    expect(j.allowed).toBe(true)
    expect(j.partial).toBe(true)
    expect(j.reasons).toEqual([
      {
        code: 'yaml.syntax',
        message: expect.stringContaining('document 4 skipped'),
        source: '<stdin>:20',
      },
      {
        code: 'load.rejected',
        message: expect.stringContaining('NetworkPolicy shop/bad was left out'),
        object: 'NetworkPolicy shop/bad',
        source: '<stdin>:21',
      },
    ])
    const complete = JSON.parse((await check(pods, '-o', 'json')).stdout)
    expect(complete.partial).toBe(false)
    expect(complete.reasons).toEqual([])
  })

  it('--strict still makes it fatal (exit 2, no verdict)', async () => {
    const r = await check(`${pods}---\n${broken}`, '--strict')
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
  })

  it('matrix: the notice follows the table; JSON carries partial; csv stays pure (notice on stderr)', async () => {
    const input = `${pods}---\n${broken}`
    const table = await runCli(['matrix', '-f', '-'], input)
    expect(table.stdout).toMatch(/note: 1 document could not be read: this matrix assumes/)
    const json = JSON.parse((await runCli(['matrix', '-f', '-', '-o', 'json'], input)).stdout)
    expect(json.partial).toBe(true)
    expect(json.reasons.map((x: { code: string }) => x.code)).toEqual(['yaml.syntax'])
    const csv = await runCli(['matrix', '-f', '-', '-o', 'csv'], input)
    expect(csv.stdout).not.toContain('note:')
    expect(csv.stderr).toContain('note: 1 document could not be read')
  })

  it('explain: the notice follows the explanations, and the JSON carries partial', async () => {
    const input = `${pods}---\n${rejected}`
    const text = await runCli(['explain', '-f', '-'], input)
    expect(text.stdout).toContain(
      'note: 1 object was left out: these explanations assume the cluster holds only what was read',
    )
    const json = JSON.parse((await runCli(['explain', '-f', '-', '-o', 'json'], input)).stdout)
    expect(json.partial).toBe(true)
  })

  it('lenient: an object analysed in spite of a warning makes no partial input', async () => {
    const trimmed =
      'apiVersion: v1\nkind: Pod\nmetadata: {name: web, namespace: shop, labels: {app: web}}\nspec:\n  containers: [{ports: [{containerPort: 80}]}]\n'
    const input = `${pods.split('---\n').slice(0, 1)[0]}---\n${trimmed}---\n${pods.split('---\n')[2]}`
    const strict = await check(input)
    expect(strict.code).toBe(2) // shop/web was left out: no such pod
    const lenient = await check(input, '--validate=lenient')
    expect(lenient.code).toBe(0)
    expect(lenient.stdout).not.toContain('note:')
    expect(lenient.stderr).toContain('warning')
  })
})
