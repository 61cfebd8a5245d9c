/** The Examples section of every command's --help (kubectl prints one for each command), and the version. */
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from 'commander'

/** Examples per command path ('check', 'lab up'); each is a line a user can paste. */
export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  '': [
    'palisade check examples/seed-001-testing --from default/debug --to testing/nginx --port 81/TCP',
    'palisade connlist examples/seed-004-linuxea --exposure',
    'palisade completion bash > /etc/bash_completion.d/palisade',
  ],
  check: [
    '# may default/debug reach testing/nginx on TCP 81? (exit 0 allowed, 1 denied)',
    'palisade check examples/seed-001-testing --from default/debug --to testing/nginx --port 81/TCP',
    '# a named port of the destination pod, an outside address, JSON',
    'palisade check examples/seed-004-linuxea --from 172.16.4.1 --to dev-linuxea/pod-linuxea-1 --port http -o json',
  ],
  matrix: [
    'palisade matrix examples/seed-003-kind-calico',
    'palisade matrix examples/seed-001-testing --ports 80/TCP,53/UDP -n testing -o csv',
  ],
  explain: [
    'palisade explain examples/seed-001-testing',
    'palisade explain examples/seed-001-testing --pod testing/nginx -o yaml',
  ],
  connlist: [
    'palisade connlist examples/seed-004-linuxea',
    '# who may reach each workload (entire cluster? a namespace? the internet?)',
    'palisade connlist examples/seed-001-testing --exposure',
    'palisade connlist examples/seed-002-kube-router/cluster.yaml examples/seed-002-kube-router/case-4-egress-cidr -o dot | dot -Tsvg > connections.svg',
  ],
  lint: [
    'palisade lint examples/seed-001-typos',
    'palisade lint deploy/ -o sarif > lint.sarif',
    'palisade lint --list-rules',
  ],
  migrate: [
    '# print the migrated manifests (nothing is printed unless the matrix is proven unchanged)',
    'palisade migrate examples/seed-000-calico-defaultdeny',
    '# write them in place',
    'palisade migrate deploy/ -o deploy/',
  ],
  compile: [
    'palisade compile examples/seed-001-testing --node node-1 --backend nftables -o out/',
    'palisade compile examples/seed-001-testing --backend iptables --all-nodes out/',
  ],
  apply: ['sudo palisade apply examples/seed-001-testing --node node-1 --backend nftables'],
  cleanup: ['sudo palisade cleanup --backend nftables'],
  diff: [
    'palisade diff old/ new/',
    'palisade diff --git main:deploy/ deploy/ -o md',
    'palisade diff --kubeconfig ~/.kube/config deploy/',
  ],
  serve: [
    'palisade serve examples/seed-001-testing',
    'palisade serve deploy/ --git main:deploy/ --addr 127.0.0.1:8080',
  ],
  report: ['palisade report examples/seed-001-testing -o report.html'],
  agent: [
    'palisade agent --node-name "$NODE_NAME" --backend nftables',
    'palisade agent --node-name node-1 --from-dir manifests/ --kubeconfig ~/.kube/config',
  ],
  lab: [
    'sudo palisade lab verify examples/seed-001-testing',
    'sudo palisade lab up examples/seed-001-testing',
  ],
  'lab up': ['sudo palisade lab up examples/seed-001-testing'],
  'lab probe': ['sudo palisade lab probe -o table'],
  'lab verify': ['sudo palisade lab verify examples/seed-002-kube-router'],
  'lab down': ['sudo palisade lab down'],
  'lab trace': [
    '# send one TCP connect from testing/nginx to testing/myapp:80 and print the kernel trace on both nodes',
    'sudo palisade lab trace --from testing/nginx --to testing/myapp --port 80',
    'sudo palisade lab trace --lab pl1a2b --from default/debug --to kube-system/coredns --port 53/UDP -o json',
  ],
  'lab fuzz': ['sudo palisade lab fuzz --seed 1'],
  'lab reload-test': ['sudo palisade lab reload-test --reloads 100'],
  trace: [
    '# on node-1: wait for the next new connection testing/nginx -> testing/myapp:80, print its trace (exit 3 on a mismatch)',
    'sudo palisade trace --kubeconfig --node node-1 --from testing/nginx --to testing/myapp --port 80',
    'sudo palisade trace deploy/ --node node-1 --netns cni-1234 --backend iptables-nft --from shop/web-0 --to 10.0.0.7 --port 5432 --timeout 60',
    '# in a lab: the probe sends the packet, both nodes are traced',
    'sudo palisade trace --lab pl1a2b --from default/debug --to testing/myapp --port 80',
  ],
  completion: [
    'palisade completion bash > /etc/bash_completion.d/palisade',
    'palisade completion zsh > ~/.zfunc/_palisade  # with fpath+=(~/.zfunc) in ~/.zshrc',
    'palisade completion fish > ~/.config/fish/completions/palisade.fish',
  ],
}

/** Adds the Examples section to a command and, recursively, its subcommands. */
export function addExamples(cmd: Command, path = ''): void {
  const lines = EXAMPLES[path]
  if (lines)
    cmd.addHelpText(
      'after',
      `\nExamples:\n${lines.map((l) => (l.startsWith('#') ? `  ${l}` : `  $ ${l}`)).join('\n')}\n`,
    )
  for (const sub of cmd.commands) addExamples(sub, path === '' ? sub.name() : `${path} ${sub.name()}`)
}

/** Reads the version from Palisade's package.json (the nearest one above this module named palisade). */
export function packageVersion(): string {
  let dir = dirname(fileURLToPath(import.meta.url))
  for (;;) {
    const file = join(dir, 'package.json')
    if (existsSync(file)) {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown }
      if (pkg.name === 'palisade' && typeof pkg.version === 'string') return pkg.version
    }
    const up = dirname(dir)
    if (up === dir) return '0.0.0'
    dir = up
  }
}
