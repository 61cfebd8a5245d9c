/**
 * One side of a comparison (edge): manifest paths (files, folders, `-`), a git revision of a folder, or a
 * live cluster. `diff`, `serve` and `report` read their inputs through it.
 */
import { KubeConfig } from '@kubernetes/client-node'
import { type InputText, type LoadedCluster, loadCluster, type ValidationMode } from '../load/index.js'
import type { Diagnostic } from '../model/index.js'
import { readGitInputs } from './git-inputs.js'
import { readInputs } from './inputs.js'
import { readClusterInputs } from './kube-inputs.js'

export type SideSpec =
  | { readonly kind: 'paths'; readonly paths: readonly string[] }
  | { readonly kind: 'git'; readonly spec: string }
  | { readonly kind: 'cluster'; readonly kubeconfig: string; readonly context?: string }

/** Names a side for people: the paths, `main:deploy/`, or `cluster <context>`. */
export function describeSide(side: SideSpec): string {
  switch (side.kind) {
    case 'paths':
      return side.paths.join(' ')
    case 'git':
      return side.spec
    case 'cluster':
      return `cluster${side.context ? ` ${side.context}` : ''}`
  }
}

export interface ReadSide {
  readonly inputs: InputText[]
  readonly diagnostics: Diagnostic[]
}

/** Reads a side's inputs; a kubeconfig that cannot be loaded is a diagnostic, not an exception. */
export async function readSide(side: SideSpec): Promise<ReadSide> {
  switch (side.kind) {
    case 'paths':
      return readInputs(side.paths)
    case 'git':
      return readGitInputs(side.spec)
    case 'cluster': {
      const kc = new KubeConfig()
      try {
        kc.loadFromFile(side.kubeconfig)
        if (side.context) kc.setCurrentContext(side.context)
        if (!kc.getCurrentCluster()) throw new Error('the kubeconfig names no current cluster')
      } catch (err) {
        return {
          inputs: [],
          diagnostics: [
            {
              code: 'input.unreadable',
              severity: 'error',
              message: `kubeconfig: ${err instanceof Error ? err.message : String(err)}`,
              path: [],
              source: { file: side.kubeconfig },
            },
          ],
        }
      }
      return readClusterInputs({ kubeconfig: kc })
    }
  }
}

export interface LoadedSide extends LoadedCluster {
  readonly inputs: readonly InputText[]
  readonly label: string
}

/** Reads and loads a side; diagnostics of reading and loading together. */
export async function loadSide(side: SideSpec, validate: ValidationMode): Promise<LoadedSide> {
  const read = await readSide(side)
  const loaded = loadCluster(read.inputs, { validate })
  return {
    ...loaded,
    diagnostics: [...read.diagnostics, ...loaded.diagnostics],
    inputs: read.inputs,
    label: describeSide(side),
  }
}
