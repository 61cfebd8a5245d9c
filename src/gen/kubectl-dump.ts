/**
 * A `kubectl get pods -A -o yaml` dump of a big cluster, as text, written piece by piece (the load
 * benchmark streams it to a file: a 100k-pod dump is several hundred MiB). Pods as kubectl prints them:
 * Deployment replicas with ownerReferences and pod-template-hash, containers with ports, probes, env and
 * volume mounts, full status with conditions. Deterministic: pod i of a seed is always the same text.
 */

/** Replicas per Deployment in the dump. */
const REPLICAS = 5
/** Deployments per namespace. */
const APPS_PER_NAMESPACE = 20

const hex = (n: number, width: number): string => (n >>> 0).toString(16).padStart(width, '0').slice(-width)
const alnum = (n: number): string => (n >>> 0).toString(36).padStart(5, 'x').slice(-5)

/** The header of the List. */
export const KUBECTL_DUMP_HEAD = 'apiVersion: v1\nitems:\n'
/** The end of the List. */
export const KUBECTL_DUMP_TAIL = 'kind: List\nmetadata:\n  resourceVersion: ""\n'

/** Returns the YAML of pod i (an item of the List, indented as kubectl prints it). */
export function kubectlDumpPod(i: number, seed = 1): string {
  const app = Math.floor(i / REPLICAS)
  const ns = `team-${Math.floor(app / APPS_PER_NAMESPACE)}`
  const name = `app-${app % APPS_PER_NAMESPACE}`
  const hash = hex(Math.imul(app + 1, 2654435761) ^ seed, 10)
  const pod = `${name}-${hash}-${alnum(Math.imul(i + 1, 40503) ^ seed)}`
  const node = `node-${i % 500}`
  const ip = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`
  const hostIP = `192.168.${Math.floor((i % 500) / 250)}.${(i % 250) + 1}`
  const uid = `${hex(i, 8)}-${hex(seed, 4)}-4${hex(app, 3)}-8${hex(i * 7, 3)}-${hex(i * 13, 12)}`
  const tier = ['web', 'api', 'db', 'cache'][app % 4] as string
  const port = 8080 + (app % 4)
  return `- apiVersion: v1
  kind: Pod
  metadata:
    annotations:
      kubectl.kubernetes.io/restartedAt: "2026-11-01T10:00:00Z"
      prometheus.io/port: "9090"
      prometheus.io/scrape: "true"
    creationTimestamp: "2026-11-20T08:00:00Z"
    generateName: ${name}-${hash}-
    labels:
      app: ${name}
      app.kubernetes.io/name: ${name}
      app.kubernetes.io/part-of: ${ns}
      pod-template-hash: "${hash}"
      tier: ${tier}
    name: ${pod}
    namespace: ${ns}
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: ReplicaSet
      name: ${name}-${hash}
      uid: ${uid.replace(/^.{8}/, hex(app, 8))}
    resourceVersion: "${1000000 + i}"
    uid: ${uid}
  spec:
    containers:
    - env:
      - name: POD_NAME
        valueFrom:
          fieldRef:
            apiVersion: v1
            fieldPath: metadata.name
      - name: LOG_LEVEL
        value: info
      image: registry.example.com/${ns}/${name}:1.${app % 10}.${i % 7}
      imagePullPolicy: IfNotPresent
      livenessProbe:
        failureThreshold: 3
        httpGet:
          path: /healthz
          port: http
          scheme: HTTP
        periodSeconds: 10
        successThreshold: 1
        timeoutSeconds: 1
      name: ${name}
      ports:
      - containerPort: ${port}
        name: http
        protocol: TCP
      - containerPort: 9090
        name: metrics
        protocol: TCP
      resources:
        limits:
          memory: 256Mi
        requests:
          cpu: 100m
          memory: 128Mi
      terminationMessagePath: /dev/termination-log
      terminationMessagePolicy: File
      volumeMounts:
      - mountPath: /var/run/secrets/kubernetes.io/serviceaccount
        name: kube-api-access-${alnum(i)}
        readOnly: true
    dnsPolicy: ClusterFirst
    enableServiceLinks: true
    nodeName: ${node}
    preemptionPolicy: PreemptLowerPriority
    priority: 0
    restartPolicy: Always
    schedulerName: default-scheduler
    securityContext: {}
    serviceAccount: default
    serviceAccountName: default
    terminationGracePeriodSeconds: 30
    tolerations:
    - effect: NoExecute
      key: node.kubernetes.io/not-ready
      operator: Exists
      tolerationSeconds: 300
    volumes:
    - name: kube-api-access-${alnum(i)}
      projected:
        defaultMode: 420
        sources:
        - serviceAccountToken:
            expirationSeconds: 3607
            path: token
  status:
    conditions:
    - lastProbeTime: null
      lastTransitionTime: "2026-11-20T08:00:02Z"
      status: "True"
      type: Initialized
    - lastProbeTime: null
      lastTransitionTime: "2026-11-20T08:00:09Z"
      status: "True"
      type: Ready
    - lastProbeTime: null
      lastTransitionTime: "2026-11-20T08:00:00Z"
      status: "True"
      type: PodScheduled
    containerStatuses:
    - containerID: containerd://${hex(i, 16)}${hex(seed, 16)}
      image: registry.example.com/${ns}/${name}:1.${app % 10}.${i % 7}
      imageID: registry.example.com/${ns}/${name}@sha256:${hex(app, 16)}${hex(seed, 16)}
      lastState: {}
      name: ${name}
      ready: true
      restartCount: 0
      started: true
      state:
        running:
          startedAt: "2026-11-20T08:00:05Z"
    hostIP: ${hostIP}
    hostIPs:
    - ip: ${hostIP}
    phase: Running
    podIP: ${ip}
    podIPs:
    - ip: ${ip}
    qosClass: Burstable
    startTime: "2026-11-20T08:00:00Z"
`
}
