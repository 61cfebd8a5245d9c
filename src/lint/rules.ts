/** The lint checks: stable ids, default severity and one line of documentation (also shown to users). */
import type { Severity } from '../model/index.js'

export interface LintRule {
  readonly id: string
  readonly severity: Severity
  /** One line: what the check finds and why it matters. */
  readonly doc: string
}

/** Every lint check, sorted by id. */
export const LINT_RULES: readonly LintRule[] = [
  {
    id: 'lint.allow-all-beside-deny',
    severity: 'warning',
    doc: 'A rule with no peers and no ports admits everything, so a deny-all policy selecting the same pods has no effect on them in that direction.',
  },
  {
    id: 'lint.duplicate-name-key',
    severity: 'warning',
    doc: 'metadata.name is written twice and metadata.namespace is missing: the second name: was probably meant as namespace: (the last value wins).',
  },
  {
    id: 'lint.egress-blocks-dns',
    severity: 'warning',
    doc: 'Egress isolation leaves the selected pods no way to reach DNS (UDP/TCP 53 to kube-system or anywhere): name lookups will time out.',
  },
  {
    id: 'lint.egress-rules-ignored',
    severity: 'warning',
    doc: 'spec.egress has rules but policyTypes lists only Ingress: the egress rules are ignored and egress is not isolated.',
  },
  {
    id: 'lint.ingress-rules-ignored',
    severity: 'warning',
    doc: 'spec.ingress has rules but policyTypes lists only Egress: the ingress rules are ignored and ingress is not isolated.',
  },
  {
    id: 'lint.ipblock-covers-pods',
    severity: 'warning',
    doc: 'An ipBlock contains pod addresses: implementations differ on whether ipBlock matches pods (Cilium does not); select pods with podSelector/namespaceSelector.',
  },
  {
    id: 'lint.legacy-api',
    severity: 'warning',
    doc: 'extensions/v1beta1 NetworkPolicy or the net.beta.kubernetes.io/network-policy DefaultDeny annotation: removed from Kubernetes; run `palisade migrate`.',
  },
  {
    id: 'lint.misspelled-rules-key',
    severity: 'warning',
    doc: 'spec has Ingress:/Egress: (capitalised) instead of ingress:/egress:: the rules are not read, and with that policy type the direction is denied entirely.',
  },
  {
    id: 'lint.named-port-undeclared',
    severity: 'warning',
    doc: 'A named port that no destination pod declares (with that protocol): the port entry matches nothing.',
  },
  {
    id: 'lint.namespace-selector-matches-nothing',
    severity: 'warning',
    doc: 'A namespaceSelector that matches no namespace of the input: the peer matches no pod.',
  },
  {
    id: 'lint.no-pods-selected',
    severity: 'warning',
    doc: 'The policy selects no pod of the input: it has no effect (check spec.podSelector and metadata.namespace).',
  },
  {
    id: 'lint.pod-selector-matches-nothing',
    severity: 'warning',
    doc: 'A podSelector peer that matches no pod in the namespaces it looks at: the peer matches nothing.',
  },
  {
    id: 'lint.policy-in-undeclared-namespace',
    severity: 'warning',
    doc: 'The policy lives in a namespace the input does not declare while it declares others: probably a misspelt or missing metadata.namespace.',
  },
  {
    id: 'lint.port-protocol-defaulted',
    severity: 'info',
    doc: 'A port without protocol: the API server defaults it to TCP, so UDP is not covered. A note (text output shows it with -v); a warning where the port is usually UDP (53 DNS, 123 NTP, 514 syslog...).',
  },
  {
    id: 'lint.protocol-case',
    severity: 'warning',
    doc: 'protocol must be upper case (TCP, UDP, SCTP): the API server rejects "tcp".',
  },
  {
    id: 'lint.rule-shadowed',
    severity: 'warning',
    doc: 'A rule admits nothing that another rule of the same direction for the same pods does not already admit (identical rules, or one covering everything).',
  },
]

/** Returns the documentation of a lint rule by id. */
export function lintRule(id: string): LintRule | undefined {
  return LINT_RULES.find((r) => r.id === id)
}
