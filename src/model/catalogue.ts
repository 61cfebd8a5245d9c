/**
 * The catalogue of codes: every diagnostic code Palisade reports, every lint check id and every finding
 * id of `palisade diff`, each with its default severity and one line of documentation (the user-facing
 * explanation). `Diagnostic.code` is typed with it, so a code that is not here does not compile.
 * docs/diagnostics.md is generated from it (`npm run docs:diagnostics`); `palisade lint --list-checks`
 * prints its lint part. Codes are stable: never rename one (users filter and suppress by them).
 */
/** One catalogue entry: the severity a code is reported with unless a mode says otherwise, and its doc line. */
export interface CodeEntry {
  /** As model/diagnostic.ts's Severity (spelt out here: the diagnostic module imports this one). */
  readonly severity: 'error' | 'warning' | 'info'
  /** One line: what happened and what it means for the analysis (shown to users as is). */
  readonly doc: string
}

/** The areas, in the order docs/diagnostics.md lists them, with what each covers. */
export const CODE_AREAS = {
  input: 'Reading the inputs: files, folders, stdin, git revisions, a live cluster.',
  load: 'Turning documents into the cluster Palisade analyses: limits, kinds, duplicates, objects left out, notes.',
  yaml: 'YAML syntax, read as kubectl reads it (go-yaml v2).',
  json: 'JSON syntax, for a stream kubectl reads as JSON (one that begins with `{`).',
  decode:
    "The API server's decoder: a value of the wrong type is refused before any validation, in every --validate mode.",
  schema:
    'Field validation (kubectl --validate): unknown and duplicate fields. Errors under --validate=strict, warnings under warn and lenient, dropped under ignore.',
  validate:
    "The API server's validation, in its words. An object with such an error is left out (load.rejected); --validate=lenient keeps those that decide no verdict, with a warning.",
  lint: 'Policy smells found by `palisade lint` (and shown by `palisade serve`): legal policies that probably do not do what was meant.',
  compile: 'Compiling a node ruleset (`palisade compile`, `apply`, the agent).',
  agent: 'The node agent.',
  migrate: 'Rewriting legacy policies (`palisade migrate`).',
  diff: 'Findings of `palisade diff -o sarif`: changes of reachability, not problems of the input.',
} as const

export type CodeArea = keyof typeof CODE_AREAS

/** Every code, grouped by area, sorted by code within an area. */
export const CATALOGUE = {
  // input
  'input.no-manifests': {
    severity: 'error',
    doc: 'A folder given as input holds no manifest (.yaml, .yml, .json): nothing is read from it.',
  },
  'input.not-found': {
    severity: 'error',
    doc: 'A path, or a git revision or path, does not exist: nothing of it is read.',
  },
  'input.unreadable': {
    severity: 'error',
    doc: 'An input could not be read (permissions, an I/O error, git or the cluster refused, a bad kubeconfig): nothing of it is read.',
  },

  // load
  'load.binary': {
    severity: 'error',
    doc: 'The input holds binary data (a NUL byte), not YAML or JSON text: it is not read.',
  },
  'load.duplicate-object': {
    severity: 'warning',
    doc: 'The same object is defined twice: the later definition is used, as kubectl apply would update the object.',
  },
  'load.duplicate-pod': {
    severity: 'warning',
    doc: 'Two workloads give representative pods of the same name: the first one is kept.',
  },
  'load.implied-namespace': {
    severity: 'warning',
    doc: 'A namespace is used but not declared: it is assumed to exist with only its kubernetes.io/metadata.name label (info for built-in namespaces).',
  },
  'load.invalid-field': {
    severity: 'error',
    doc: 'A field Palisade reads has a value of the wrong shape (an object, array, string or boolean expected): the object is left out.',
  },
  'load.invalid-isolation-annotation': {
    severity: 'warning',
    doc: 'The legacy net.beta.kubernetes.io/network-policy annotation is not the JSON it must be: it is ignored and isolates nothing.',
  },
  'load.invalid-pod-cidrs': {
    severity: 'warning',
    doc: "A Node's spec.podCIDRs (or spec.podCIDR) would be refused by the API server: its pod ranges are taken as unknown, so addresses of its pods that no agent has programmed yet are not dropped there.",
  },
  'load.not-an-object': {
    severity: 'error',
    doc: 'A document is not a Kubernetes object (a mapping with apiVersion and kind): it is skipped.',
  },
  'load.rejected': {
    severity: 'error',
    doc: 'An object was left out of the analysis because the API server would reject it; the diagnostics before it say why.',
  },
  'load.skipped-kind': {
    severity: 'info',
    doc: 'A kind that takes no part in network policy (a ConfigMap, a Service, a CRD): skipped.',
  },
  'load.terminal-pod': {
    severity: 'info',
    doc: 'A Succeeded or Failed pod has no network: it is left out.',
  },
  'load.too-deep': {
    severity: 'error',
    doc: 'A document nests mappings and sequences deeper than the limit (also once aliases are expanded): it is skipped.',
  },
  'load.too-large': {
    severity: 'error',
    doc: 'An input is larger than the limit (128 MiB by default; --max-input-size): it is not read.',
  },
  'load.unanalysed-policy': {
    severity: 'warning',
    doc: 'A policy kind another plugin enforces (AdminNetworkPolicy and BaselineAdminNetworkPolicy v1alpha1, Cilium, Calico, Antrea): not analysed, so verdicts ignore it and the answer is marked partial.',
  },
  'load.unknown-kind': {
    severity: 'error',
    doc: 'A kind the API server would not serve under that apiVersion (a typo in kind or apiVersion): the object is left out.',
  },
  'load.unknown-peer': {
    severity: 'warning',
    doc: 'A ClusterNetworkPolicy peer with none of the fields Palisade knows (a newer API version): its rule fails closed as the API requires (an Accept matches nothing, a Deny or Pass denies everything).',
  },
  'load.unsupported-peer': {
    severity: 'warning',
    doc: 'A ClusterNetworkPolicy domainNames peer: not supported (names resolve at run time); the peer matches no pod, node or address, and the answer is marked partial.',
  },
  'load.workload-has-pods': {
    severity: 'info',
    doc: 'A workload whose pods are in the input: its pods are used and no representative pod is made for it.',
  },
  'load.workload-idle': {
    severity: 'info',
    doc: 'A workload that runs no pod (replicas 0, a finished Job, a suspended CronJob): no representative pod is made for it.',
  },
  'load.workload-pod-shadowed': {
    severity: 'info',
    doc: "A workload's representative pod has the name of a real Pod of the input: the real Pod is used.",
  },

  // yaml
  'yaml.alias-limit': {
    severity: 'error',
    doc: 'Too many alias expansions: the document looks like an alias bomb and is skipped.',
  },
  'yaml.syntax': {
    severity: 'error',
    doc: 'A YAML syntax error: the document is skipped; the other documents of the file are read.',
  },
  'yaml.unknown-anchor': {
    severity: 'error',
    doc: 'An alias refers to an anchor not defined before it: the document is skipped.',
  },
  'yaml.warning': {
    severity: 'warning',
    doc: 'The YAML library warns about the text (an unusual but readable form): the document is read.',
  },

  // json
  'json.syntax': {
    severity: 'error',
    doc: "A stream that begins with `{` is JSON for kubectl: invalid JSON there (a trailing comma, say) is refused in encoding/json's words and the document skipped.",
  },

  // decode
  'decode.invalid-quantity': {
    severity: 'error',
    doc: "A resource quantity the API server's decoder cannot parse (`abc`, `1.5.3Gi`): the object is refused, whatever --validate says.",
  },
  'decode.invalid-time': {
    severity: 'error',
    doc: 'A time that is not RFC 3339 as Go parses it (`yesterday`, `2024-02-30T00:00:00Z`) in metadata or status: the decoder refuses the object, whatever --validate says.',
  },
  'decode.out-of-range': {
    severity: 'error',
    doc: 'An integer outside its Go type (int32 or int64: `replicas: 2147483648`): the decoder refuses the object, whatever --validate says.',
  },
  'decode.wrong-type': {
    severity: 'error',
    doc: "A value of the wrong type (a string where an integer is expected): the API server's decoder refuses the object, whatever --validate says.",
  },

  // schema
  'schema.duplicate-key': {
    severity: 'error',
    doc: 'A mapping key is written twice (the last value wins): kubectl --validate=strict refuses it.',
  },
  'schema.unknown-field': {
    severity: 'error',
    doc: 'A field the object kind does not have (a typo, or the wrong indentation): the API server drops it, kubectl --validate=strict refuses it.',
  },

  // validate
  'validate.duplicate': {
    severity: 'error',
    doc: 'A value that must be unique in its list is repeated (a container or port name).',
  },
  'validate.exactly-one-field': {
    severity: 'error',
    doc: 'A ClusterNetworkPolicy subject, peer, protocol or port sets no field or several: exactly one is required (minProperties/maxProperties 1).',
  },
  'validate.invalid-annotation': {
    severity: 'error',
    doc: 'An annotation key is not a qualified name, or the annotations are larger than 256 KiB.',
  },
  'validate.invalid-cidr': {
    severity: 'error',
    doc: 'An ipBlock cidr or except, or a ClusterNetworkPolicy networks entry, is not a valid CIDR.',
  },
  'validate.invalid-end-port': {
    severity: 'error',
    doc: 'endPort is set with a named port or without port, is below port, or is not a port number; a ClusterNetworkPolicy port range whose start is not below its end.',
  },
  'validate.invalid-except': {
    severity: 'error',
    doc: 'An ipBlock except entry is not a strict subset of the cidr.',
  },
  'validate.invalid-label': {
    severity: 'error',
    doc: 'A label key or value (also in a selector) is not valid.',
  },
  'validate.invalid-name': {
    severity: 'error',
    doc: 'A name, generateName, namespace or nodeName is not a valid DNS name for its kind.',
  },
  'validate.invalid-peer': {
    severity: 'error',
    doc: 'A peer specifies nothing, or ipBlock together with another peer field.',
  },
  'validate.invalid-policy-type': {
    severity: 'error',
    doc: 'policyTypes holds a value other than Ingress and Egress, or too many values.',
  },
  'validate.invalid-port': {
    severity: 'error',
    doc: 'A port number is outside 1-65535, or a port name is not an IANA service name.',
  },
  'validate.invalid-priority': {
    severity: 'error',
    doc: 'A ClusterNetworkPolicy spec.priority outside 0..1000.',
  },
  'validate.invalid-selector': {
    severity: 'error',
    doc: 'A label selector is malformed: an unknown operator, values where none are allowed or none where some are required, or empty where it may not be.',
  },
  'validate.invalid-value': {
    severity: 'error',
    doc: 'A value outside its range (a negative replicas or generation), or not one of the values the field takes (a ClusterNetworkPolicy tier or action).',
  },
  'validate.named-port-peer': {
    severity: 'error',
    doc: 'A ClusterNetworkPolicy egress rule uses destinationNamedPort with networks, nodes or domainNames peers, which have no named ports (the CRD rule).',
  },
  'validate.required': {
    severity: 'error',
    doc: 'A required field is missing.',
  },
  'validate.selector-mismatch': {
    severity: 'error',
    doc: "A workload's selector does not match its pod template's labels.",
  },
  'validate.too-many': {
    severity: 'error',
    doc: 'More than 25 rules per direction, peers, protocols, networks or domain names in a ClusterNetworkPolicy (the CRD maxItems).',
  },
  'validate.unknown-kind': {
    severity: 'error',
    doc: 'No API serves this kind under this apiVersion.',
  },
  'validate.unknown-version': {
    severity: 'error',
    doc: 'The apiVersion is not served for this kind.',
  },
  'validate.unsupported-protocol': {
    severity: 'error',
    doc: 'A protocol other than TCP, UDP or SCTP.',
  },

  // lint
  'lint.allow-all-beside-deny': {
    severity: 'warning',
    doc: 'A rule with no peers and no ports admits everything, so a deny-all policy selecting the same pods has no effect on them in that direction.',
  },
  'lint.cnp-baseline-unreachable': {
    severity: 'warning',
    doc: 'A Baseline ClusterNetworkPolicy rule no connection reaches: NetworkPolicies isolate every pod it selects in that direction, or an Admin Accept/Deny decides everything it matches first.',
  },
  'lint.cnp-pass-without-networkpolicy': {
    severity: 'warning',
    doc: 'An Admin Pass whose pods no NetworkPolicy of that direction selects (the traffic goes on to the Baseline tier or is allowed by default), or a Pass in the Baseline tier (nothing follows but the default allow).',
  },
  'lint.cnp-rule-shadowed': {
    severity: 'warning',
    doc: 'A ClusterNetworkPolicy rule never reached: an earlier rule of the policy, or of a policy of higher precedence in the tier selecting the same pods, matches every connection it matches.',
  },
  'lint.cnp-same-priority-overlap': {
    severity: 'warning',
    doc: 'Two ClusterNetworkPolicies of one tier with the same priority select common pods and have rules that match the same connection with different actions: the API lets an implementation apply either (Palisade orders them by name).',
  },
  'lint.duplicate-name-key': {
    severity: 'warning',
    doc: 'metadata.name is written twice and metadata.namespace is missing: the second name: was probably meant as namespace: (the last value wins).',
  },
  'lint.egress-blocks-dns': {
    severity: 'warning',
    doc: 'Egress isolation leaves the selected pods no way to reach DNS (UDP/TCP 53 to kube-system or anywhere): name lookups will time out.',
  },
  'lint.egress-rules-ignored': {
    severity: 'warning',
    doc: 'spec.egress has rules but policyTypes lists only Ingress: the egress rules are ignored and egress is not isolated.',
  },
  'lint.ingress-rules-ignored': {
    severity: 'warning',
    doc: 'spec.ingress has rules but policyTypes lists only Egress: the ingress rules are ignored and ingress is not isolated.',
  },
  'lint.ipblock-covers-pods': {
    severity: 'warning',
    doc: 'An ipBlock contains pod addresses: implementations differ on whether ipBlock matches pods (Cilium does not); select pods with podSelector/namespaceSelector.',
  },
  'lint.legacy-api': {
    severity: 'warning',
    doc: 'extensions/v1beta1 NetworkPolicy or the net.beta.kubernetes.io/network-policy DefaultDeny annotation: removed from Kubernetes; run `palisade migrate`.',
  },
  'lint.misspelled-rules-key': {
    severity: 'warning',
    doc: 'spec has Ingress:/Egress: (capitalised) instead of ingress:/egress:: the rules are not read, and with that policy type the direction is denied entirely.',
  },
  'lint.named-port-undeclared': {
    severity: 'warning',
    doc: 'A named port that no destination pod declares (with that protocol): the port entry matches nothing.',
  },
  'lint.namespace-selector-matches-nothing': {
    severity: 'warning',
    doc: 'A namespaceSelector that matches no namespace of the input: the peer matches no pod.',
  },
  'lint.no-pods-selected': {
    severity: 'warning',
    doc: 'The policy selects no pod of the input: it has no effect (check spec.podSelector and metadata.namespace).',
  },
  'lint.pod-selector-matches-nothing': {
    severity: 'warning',
    doc: 'A podSelector peer that matches no pod in the namespaces it looks at: the peer matches nothing.',
  },
  'lint.policy-in-undeclared-namespace': {
    severity: 'warning',
    doc: 'The policy lives in a namespace the input does not declare while it declares others: probably a misspelt or missing metadata.namespace.',
  },
  'lint.port-protocol-defaulted': {
    severity: 'info',
    doc: 'A port without protocol: the API server defaults it to TCP, so UDP is not covered. A note (text output shows it with -v); a warning where the port is usually UDP (53 DNS, 123 NTP, 514 syslog...).',
  },
  'lint.protocol-case': {
    severity: 'warning',
    doc: 'protocol must be upper case (TCP, UDP, SCTP): the API server rejects "tcp".',
  },
  'lint.rule-shadowed': {
    severity: 'warning',
    doc: 'A rule admits nothing that another rule of the same direction for the same pods does not already admit (identical rules, or one covering everything).',
  },

  // compile
  'compile.duplicate-policy': {
    severity: 'warning',
    doc: 'The compiler was given the same policy twice: only the first is compiled.',
  },
  'compile.invalid-cidr': {
    severity: 'error',
    doc: 'An ipBlock cidr the compiler cannot read (only when validation was skipped): the peer is left out and matches nothing.',
  },
  'compile.invalid-pod-interface': {
    severity: 'warning',
    doc: "A pod's host interface name is not a valid Linux interface name: ignored, so its source address is not checked (anti-spoofing).",
  },
  'compile.pod-outside-ranges': {
    severity: 'warning',
    doc: "A pod of the node has an address outside the node's pod ranges (the network plugin's IPAM does not follow Node.spec.podCIDRs): unknown addresses outside the ranges are not dropped; use --pod-cidr with the plugin's ranges, or --unknown-pods allow.",
  },
  'compile.pod-ranges-unknown': {
    severity: 'info',
    doc: "The node's pod ranges are unknown (no Node.spec.podCIDRs, no --pod-cidr): an address of the node's pods that is not programmed yet is forwarded unfiltered.",
  },
  'compile.pod-without-ip': {
    severity: 'info',
    doc: 'A pod of the node has no IP address yet: the dataplane cannot program it until it has one.',
  },
  'compile.unknown-pod-interface': {
    severity: 'warning',
    doc: 'No host interface is known for a pod of the node: its source address is not checked (anti-spoofing).',
  },

  // agent
  'agent.unreadable': {
    severity: 'error',
    doc: 'The agent could not read an object from the API server (a bug of ours): the object is left out and the agent keeps running.',
  },

  // migrate
  'migrate.annotation-kept': {
    severity: 'warning',
    doc: 'A legacy isolation annotation that is not DefaultDeny never isolated anything: it is left as it is.',
  },
  'migrate.cannot-rewrite': {
    severity: 'error',
    doc: 'An object cannot be rewritten in place (or the input cannot be read): nothing of the file is written; migrate it by hand.',
  },

  // diff
  'diff.connection-added': {
    severity: 'info',
    doc: 'A connection between workloads is allowed that was denied before.',
  },
  'diff.connection-removed': {
    severity: 'info',
    doc: 'A connection between workloads is denied that was allowed before.',
  },
  'diff.exposure-added': {
    severity: 'warning',
    doc: 'A workload may now be reached from addresses outside the cluster.',
  },
  'diff.isolation-changed': {
    severity: 'info',
    doc: 'A workload became isolated, or stopped being isolated, in one direction.',
  },
  'diff.outside-changed': {
    severity: 'info',
    doc: 'What a workload may reach outside the cluster, or be reached from, changed.',
  },
  'diff.workload-changed': {
    severity: 'info',
    doc: 'A workload was added or removed.',
  },
} as const satisfies Record<`${CodeArea}.${string}`, CodeEntry>

/** Every code of the catalogue. */
export type CatalogueCode = keyof typeof CATALOGUE
/** A code a Diagnostic may carry: everything but the findings of `palisade diff`. */
export type DiagnosticCode = Exclude<CatalogueCode, `diff.${string}`>
/** The id of a lint check. */
export type LintCode = Extract<CatalogueCode, `lint.${string}`>
/** The id of a finding of `palisade diff`. */
export type DiffCode = Extract<CatalogueCode, `diff.${string}`>

/** A catalogue entry with its code, area and the anchor of its line in docs/diagnostics.md. */
export interface CodeInfo extends CodeEntry {
  readonly code: CatalogueCode
  readonly area: CodeArea
  /** `lint-no-pods-selected`: docs/diagnostics.md#lint-no-pods-selected. */
  readonly anchor: string
}

/** The path of the generated list, from the repository's root. */
export const DIAGNOSTICS_DOC = 'docs/diagnostics.md'

/** Returns the anchor of a code in docs/diagnostics.md (the dot becomes a dash: stable, URL-safe). */
export function codeAnchor(code: CatalogueCode): string {
  return code.replace('.', '-')
}

/** Returns a code's catalogue entry with its area and docs anchor. */
export function describeCode(code: CatalogueCode): CodeInfo {
  const entry: CodeEntry = CATALOGUE[code]
  return {
    code,
    area: code.slice(0, code.indexOf('.')) as CodeArea,
    severity: entry.severity,
    doc: entry.doc,
    anchor: codeAnchor(code),
  }
}

/** Whether a string is a code of the catalogue (for codes read back from JSON or typed by a user). */
export function isCatalogueCode(code: string): code is CatalogueCode {
  return Object.hasOwn(CATALOGUE, code)
}

/** Every code with its entry, in catalogue order (by area, then by code). */
export function listCodes(): readonly CodeInfo[] {
  return (Object.keys(CATALOGUE) as CatalogueCode[]).map(describeCode)
}
