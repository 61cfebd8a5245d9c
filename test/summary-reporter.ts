/**
 * Prints the one line CI reads at the very end of a run: "N passed, M failed[, K skipped]".
 * Unhandled errors and files that failed to load count as failures.
 */
import type { Reporter, TestModule } from 'vitest/node'

export default class SummaryReporter implements Reporter {
  onTestRunEnd(testModules: readonly TestModule[], unhandledErrors: readonly unknown[]): void {
    let passed = 0
    let failed = unhandledErrors.length
    let skipped = 0
    for (const mod of testModules) {
      let count = 0
      for (const test of mod.children.allTests()) {
        count++
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed') failed++
        else skipped++
      }
      // A file that could not even be collected (syntax error, import failure) has no tests: a failure.
      if (count === 0 && mod.state() === 'failed') failed++
    }
    process.stdout.write(`\n${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`)
  }
}
