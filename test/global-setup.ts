/**
 * Runs once before the test files: removes the throwaway network namespaces a killed earlier run left
 * (`pz-<pid>-...` of a process that no longer exists). Lab namespaces have their own state files and
 * `palisade lab down`; these have none.
 */
import { removeStaleTestNamespaces } from './compile/netns.js'

export default async function setup(): Promise<void> {
  const removed = await removeStaleTestNamespaces()
  if (removed.length > 0)
    process.stderr.write(
      `removed ${removed.length} namespaces left by a killed test run: ${removed.join(' ')}\n`,
    )
}
