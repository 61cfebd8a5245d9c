import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Kernel tests share netns/nft state per file under unique prefixes; files run in parallel.
    fileParallelism: true,
    reporters: ['default', './test/summary-reporter.ts'],
  },
})
