/**
 * The network-policy-api conformance suite (kubernetes-sigs/network-policy-api conformance/tests/*.go,
 * ClusterNetworkPolicy, standard and experimental), transcribed as table-driven cases, one file per
 * upstream ConformanceTest under cases/<ShortName>.yaml:
 *
 *   test       the upstream ShortName
 *   upstream   the Go file and the base manifests it applies
 *   objects    what those manifests create (HostNetworkPorts 34000..34007), in our transcription
 *   steps      its t.Run blocks in order (a block that patches between probes is split into parts); each
 *              step's `changes` are applied on top of every earlier step's, as the upstream patches
 *              accumulate on the live objects; `probes` are its PokeServer calls:
 *              [client house/pod, server house/pod, protocol, port, expected]
 *
 * A house is the namespace network-policy-conformance-<house>. The cluster is model.yaml; a file with
 * `model:` names its own (the docs' user stories: site-model.yaml, namespaces named as they are). A case is one
 * step: the objects after every change so far, and its probes. Runners: cnp-conformance.test.ts (the
 * engine: per pair and fast matrix); a dataplane runs the same cases through the `Implementation`
 * interface of ../implementations.ts (`prepare(cluster)` then `decide(from, to, port)`).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { parse, stringify } from 'yaml'
import type { PortQuery } from '../../../src/engine/index.js'
import type { InputText } from '../../../src/load/index.js'
import type { Protocol } from '../../../src/model/index.js'

/** The upstream revision the line numbers refer to. */
export const CNP_UPSTREAM = {
  repo: 'kubernetes-sigs/network-policy-api',
  commit: '0eec1b0e5fa92715b4c0f4c48d3c8d2913ed2159',
} as const

const ROOT = new URL('./', import.meta.url)
export const NAMESPACE_PREFIX = 'network-policy-conformance-'

type Json = Record<string, unknown>

/** One change an upstream test makes to the live objects (Go: mutate + Patch/Delete). */
export type Change =
  | { readonly swap: { policy: string; field: 'ingress' | 'egress'; a: number; b: number } }
  | { readonly action: { policy: string; field: 'ingress' | 'egress'; index: number; action: string } }
  | { readonly protocols: { policy: string; field: 'ingress' | 'egress'; index: number; protocols: Json[] } }
  | { readonly insert: { policy: string; field: 'ingress' | 'egress'; index: number; rule: Json } }
  | { readonly priority: { policy: string; priority: number } }
  | { readonly namespaceLabels: { namespace: string; labels: Record<string, string> } }
  | { readonly delete: { kind: string; namespace?: string; name: string } }

export interface Probe {
  readonly from: string
  readonly to: string
  readonly port: PortQuery
  readonly allowed: boolean
}

export interface CnpCase {
  /** 'CNPAdminTierIngressTCP #3 Should support ...' */
  readonly title: string
  readonly test: string
  readonly file: string
  readonly line: number
  /** The objects in force (ClusterNetworkPolicies, NetworkPolicies) and the namespace label overrides. */
  readonly objects: readonly Json[]
  readonly namespaceLabels: Readonly<Record<string, Record<string, string>>>
  readonly probes: readonly Probe[]
  /** The cluster file (model.yaml, or the file's own). */
  readonly model: string
  /** The namespace prefix of the probes' names ('' for the docs' examples). */
  readonly prefix: string
}

interface CaseFile {
  readonly test: string
  /** The cluster (default model.yaml). */
  readonly model?: string
  readonly upstream: { readonly file: string; readonly manifests: readonly string[] }
  readonly objects: Json[]
  readonly steps: readonly {
    readonly name: string
    readonly part?: number
    readonly line: number
    readonly changes?: readonly Change[]
    readonly probes: readonly [string, string, string, number, boolean][]
  }[]
}

const clone = <T>(v: T): T => structuredClone(v)

function policy(objects: Json[], name: string): Json {
  const p = objects.find(
    (o) => o.kind === 'ClusterNetworkPolicy' && (o.metadata as Json | undefined)?.name === name,
  )
  if (!p) throw new Error(`no ClusterNetworkPolicy ${name}`)
  return p
}

function rules(objects: Json[], name: string, field: 'ingress' | 'egress'): Json[] {
  const spec = policy(objects, name).spec as Json
  return spec[field] as Json[]
}

function rule(objects: Json[], name: string, field: 'ingress' | 'egress', index: number): Json {
  const r = rules(objects, name, field)[index]
  if (!r) throw new Error(`${name} has no ${field}[${index}]`)
  return r
}

/** Applies one change to the objects (in place) and the namespace labels. */
function applyChange(objects: Json[], labels: Record<string, Record<string, string>>, c: Change): void {
  if ('swap' in c) {
    const list = rules(objects, c.swap.policy, c.swap.field)
    const a = list[c.swap.a] as Json
    list[c.swap.a] = list[c.swap.b] as Json
    list[c.swap.b] = a
  } else if ('action' in c)
    rule(objects, c.action.policy, c.action.field, c.action.index).action = c.action.action
  else if ('protocols' in c)
    rule(objects, c.protocols.policy, c.protocols.field, c.protocols.index).protocols = clone(
      c.protocols.protocols,
    )
  else if ('insert' in c)
    rules(objects, c.insert.policy, c.insert.field).splice(c.insert.index, 0, clone(c.insert.rule))
  else if ('priority' in c) (policy(objects, c.priority.policy).spec as Json).priority = c.priority.priority
  else if ('namespaceLabels' in c) labels[c.namespaceLabels.namespace] = { ...c.namespaceLabels.labels }
  else {
    const i = objects.findIndex((o) => {
      const m = o.metadata as Json
      return (
        o.kind === c.delete.kind &&
        m.name === c.delete.name &&
        (m.namespace ?? undefined) === c.delete.namespace
      )
    })
    if (i < 0) throw new Error(`nothing to delete: ${c.delete.kind} ${c.delete.name}`)
    objects.splice(i, 1)
  }
}

/** Every case of every file, in file order then step order. */
export function listCnpCases(): CnpCase[] {
  const dir = new URL('./cases/', ROOT)
  const out: CnpCase[] = []
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const file = parse(readFileSync(new URL(name, dir), 'utf8')) as CaseFile
    const objects = clone(file.objects)
    const labels: Record<string, Record<string, string>> = {}
    file.steps.forEach((step, i) => {
      for (const c of step.changes ?? []) applyChange(objects, labels, c)
      out.push({
        title: `${file.test} #${i + 1} ${step.name}${step.part ? ` (part ${step.part})` : ''}`,
        test: file.test,
        file: file.upstream.file,
        line: step.line,
        objects: clone(objects),
        model: file.model ?? 'model.yaml',
        prefix: file.model ? '' : NAMESPACE_PREFIX,
        namespaceLabels: clone(labels),
        probes: step.probes.map(([from, to, protocol, port, allowed]) => ({
          from,
          to,
          port: { port, protocol: protocol as Protocol },
          allowed,
        })),
      })
    })
  }
  return out
}

/** The model with a case's namespace labels applied (labels replaced, as Go's SetLabels does). */
function modelText(c: CnpCase): string {
  const text = readFileSync(new URL(c.model, ROOT), 'utf8')
  if (Object.keys(c.namespaceLabels).length === 0) return text
  return text
    .split(/^---$/m)
    .map((doc) => {
      const o = parse(doc) as Json | null
      if (o === null || o.kind !== 'Namespace') return doc
      const m = o.metadata as Json
      const house = String(m.name).slice(c.prefix.length)
      const labels = c.namespaceLabels[house]
      return labels ? `\n${stringify({ ...o, metadata: { ...m, labels } })}` : doc
    })
    .join('---')
}

/** The inputs of a case: the model, then its objects (JSON documents, as kubectl reads them). */
export function cnpCaseInputs(c: CnpCase): InputText[] {
  return [
    { file: c.model, text: modelText(c) },
    { file: `${c.test}.yaml`, text: c.objects.map((o) => JSON.stringify(o)).join('\n---\n') },
  ]
}

/** 'ravenclaw/luna-lovegood-0' -> 'network-policy-conformance-ravenclaw/luna-lovegood-0'. */
export function podKeyOf(c: CnpCase, probeName: string): string {
  return `${c.prefix}${probeName}`
}
