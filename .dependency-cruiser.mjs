/**
 * Import rules for Palisade, checked by dependency-cruiser in `npm test` (test/imports.test.ts) and by
 * `npm run depcruise`. docs/architecture.md#import-rules says why each rule exists.
 *
 * The core is pure (values in, values out: no I/O, no clock, no processes): a core module imports only
 * core modules, libraries of the core and Node modules that do no I/O. Every rule is checked where the
 * import is written, so a violation is reported once, at the line to change. Paths are relative to the
 * folder the cruise starts in, so the test can run the same rules on a planted copy.
 */

/** Core folders (docs/architecture.md#module-map). */
const PURE_FOLDERS = 'model|load|validate|semantics|engine|explain|lint|migrate|compile|gen|diff'

/**
 * The pure files of src/backends: the interface, the trace explanation (trace.ts), and each backend's
 * structure, render, print, delta and trace parser (everything in a backend's folder but its apply.ts and
 * index.ts).
 */
const PURE_BACKEND = '^src/backends/((backend|trace)[.]ts$|[^/]+/(?!apply[.]ts$|index[.]ts$)[^/]+[.]ts$)'

/** The pure files of src/web: the page's data and its HTML shell (the server and the watcher are edges). */
const PURE_WEB = '^src/web/(page-data|html)[.]ts$'

const PURE = [`^src/(${PURE_FOLDERS})/`, PURE_BACKEND, PURE_WEB]

/**
 * Node modules that read or write the world (files, sockets, processes, the terminal, the clock).
 * node:module stays allowed: src/load loads its YAML libraries lazily with createRequire.
 */
const IO_MODULES = [
  '^(node:)?(fs|fs/promises|child_process|cluster|dgram|dns|dns/promises|http|http2|https|inspector|net',
  '|os|perf_hooks|process|readline|readline/promises|repl|tls|tty|worker_threads|timers|timers/promises)$',
].join('')

/** Libraries of the edges: the Kubernetes client, logs, metrics, the command line, the browser driver. */
const EDGE_LIBRARIES = '^node_modules/(@kubernetes/client-node|pino|prom-client|commander|playwright-core)/'

/** @type {import('dependency-cruiser').IConfiguration} */
export default {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle: modules that cannot be understood, tested or loaded one without the other (type-only imports count).',
      from: {},
      to: { circular: true },
    },
    {
      name: 'pure-no-io',
      severity: 'error',
      comment:
        'A core module imports a Node module that does I/O (files, sockets, processes, the clock) or a library of the edges: the core takes values and returns values; the edges read, write and wait.',
      from: { path: PURE },
      to: { path: [IO_MODULES, EDGE_LIBRARIES] },
    },
    {
      name: 'pure-imports-pure',
      severity: 'error',
      comment:
        'A core module imports a module outside the core (cli, agent, lab, the web server, a backend apply, the backend registry): the core is what the edges call, never the other way round.',
      from: { path: PURE },
      to: { path: '^src/', pathNot: PURE },
    },
    {
      name: 'no-concrete-backend',
      severity: 'error',
      comment:
        'Outside src/backends (the agent above all), a backend is chosen by name through the registry (src/backends/index.ts) and used through the Backend interface, never imported from its folder.',
      from: { path: '^src/', pathNot: '^src/backends/' },
      to: { path: '^src/backends/[^/]+/' },
    },
    {
      name: 'semantics-on-model',
      severity: 'error',
      comment:
        'src/semantics is the one reading of the spec that engine, compile, lint and explain ask: it stands on src/model alone.',
      from: { path: '^src/semantics/' },
      to: { path: '^src/', pathNot: '^src/(semantics|model)/' },
    },
    {
      name: 'model-alone',
      severity: 'error',
      comment: 'src/model (objects, diagnostics, the catalogue of codes) is the bottom layer: it imports no other folder.',
      from: { path: '^src/model/' },
      to: { path: '^src/', pathNot: '^src/model/' },
    },
    {
      name: 'engine-not-compile',
      severity: 'error',
      comment: 'The analyzer and the compiler both ask src/semantics; neither imports the other.',
      from: { path: '^src/engine/' },
      to: { path: '^src/compile/' },
    },
    {
      name: 'compile-not-engine',
      severity: 'error',
      comment: 'The analyzer and the compiler both ask src/semantics; neither imports the other.',
      from: { path: '^src/compile/' },
      to: { path: '^src/engine/' },
    },
    {
      name: 'bench-not-test',
      severity: 'error',
      comment:
        'Benchmarks build and run without the tests: a double both need (the fake API server) lives in harness/.',
      from: { path: '^(bench|harness)/' },
      to: { path: '^test/' },
    },
    {
      name: 'product-not-harness',
      severity: 'error',
      comment:
        'src/ is what the image and the package ship (tsconfig.image.json builds src alone): it never imports a test double from harness/, bench/ or test/.',
      from: { path: '^src/' },
      to: { path: '^(harness|bench|test)/' },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'An import that does not resolve: the rules above could not see where it leads.',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Type-only imports are edges too: a cycle of types is still a cycle of understanding.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    // src/load loads `yaml` and `js-yaml` lazily through createRequire: count those as imports.
    exoticRequireStrings: ['requireModule'],
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.tsx', '.js', '.mjs', '.cjs', '.json'],
    },
  },
}
