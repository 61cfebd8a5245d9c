/**
 * Field sets of the kinds we validate, from the Kubernetes API reference (k8s.io/api types.go).
 * NetworkPolicy is exact. Pods and workloads check every PodSpec / Container / ContainerPort key;
 * deeper structures we do not need (probes, volumes, affinity, security contexts) are accepted as
 * opaque objects so that real manifests and `kubectl get -o yaml` dumps never false-positive.
 */
import type { Schema } from './schema.js'
import {
  arr,
  bool,
  int,
  intOrString,
  map,
  obj,
  opaque,
  opaqueList,
  openObj,
  quantity,
  str,
} from './schema.js'

const stringMap = map(str)

export const objectMetaSchema: Schema = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int,
  creationTimestamp: str,
  deletionTimestamp: str,
  deletionGracePeriodSeconds: int,
  labels: stringMap,
  annotations: stringMap,
  ownerReferences: opaqueList,
  finalizers: arr(str),
  managedFields: opaqueList,
  // Removed from ObjectMeta (clusterName in 1.25, initializers in 1.14) but present in old dumps.
  clusterName: str,
  initializers: opaque,
})

export const labelSelectorSchema: Schema = obj({
  matchLabels: stringMap,
  matchExpressions: arr(obj({ key: str, operator: str, values: arr(str) })),
})

// --- NetworkPolicy (networking.k8s.io/v1 and extensions/v1beta1 share the same fields) ---

const networkPolicyPortSchema = obj({ protocol: str, port: intOrString, endPort: int })
const networkPolicyPeerSchema = obj({
  podSelector: labelSelectorSchema,
  namespaceSelector: labelSelectorSchema,
  ipBlock: obj({ cidr: str, except: arr(str) }),
})

/** metav1.Condition: NetworkPolicyStatus existed in 1.24-1.26 (dumps of those clusters carry `status: {}`). */
const conditionSchema = obj({
  type: str,
  status: str,
  observedGeneration: int,
  lastTransitionTime: str,
  reason: str,
  message: str,
})

export const networkPolicySchema: Schema = obj({
  apiVersion: str,
  kind: str,
  metadata: objectMetaSchema,
  spec: obj({
    podSelector: labelSelectorSchema,
    ingress: arr(obj({ ports: arr(networkPolicyPortSchema), from: arr(networkPolicyPeerSchema) })),
    egress: arr(obj({ ports: arr(networkPolicyPortSchema), to: arr(networkPolicyPeerSchema) })),
    policyTypes: arr(str),
  }),
  status: obj({ conditions: arr(conditionSchema) }),
})

// --- Pods ---

const containerPortSchema = obj({ name: str, hostPort: int, containerPort: int, protocol: str, hostIP: str })

const envVarSchema = obj({ name: str, value: str, valueFrom: opaque })

const volumeMountSchema = obj({
  name: str,
  readOnly: bool,
  recursiveReadOnly: str,
  mountPath: str,
  subPath: str,
  mountPropagation: str,
  subPathExpr: str,
})

const resourcesSchema = obj({ limits: map(quantity), requests: map(quantity), claims: opaqueList })

const containerFields: Record<string, Schema> = {
  name: str,
  image: str,
  command: arr(str),
  args: arr(str),
  workingDir: str,
  ports: arr(containerPortSchema),
  envFrom: opaqueList,
  env: arr(envVarSchema),
  resources: resourcesSchema,
  resizePolicy: opaqueList,
  restartPolicy: str,
  restartPolicyRules: opaqueList,
  volumeMounts: arr(volumeMountSchema),
  volumeDevices: opaqueList,
  livenessProbe: opaque,
  readinessProbe: opaque,
  startupProbe: opaque,
  lifecycle: opaque,
  terminationMessagePath: str,
  terminationMessagePolicy: str,
  imagePullPolicy: str,
  securityContext: opaque,
  stdin: bool,
  stdinOnce: bool,
  tty: bool,
}

const containerSchema = obj(containerFields)
const ephemeralContainerSchema = obj({ ...containerFields, targetContainerName: str })

export const podSpecSchema: Schema = obj({
  volumes: opaqueList,
  initContainers: arr(containerSchema),
  containers: arr(containerSchema),
  ephemeralContainers: arr(ephemeralContainerSchema),
  restartPolicy: str,
  terminationGracePeriodSeconds: int,
  activeDeadlineSeconds: int,
  dnsPolicy: str,
  nodeSelector: stringMap,
  serviceAccountName: str,
  serviceAccount: str,
  automountServiceAccountToken: bool,
  nodeName: str,
  hostNetwork: bool,
  hostPID: bool,
  hostIPC: bool,
  shareProcessNamespace: bool,
  securityContext: opaque,
  imagePullSecrets: opaqueList,
  hostname: str,
  hostnameOverride: str,
  subdomain: str,
  affinity: opaque,
  schedulerName: str,
  tolerations: opaqueList,
  hostAliases: opaqueList,
  priorityClassName: str,
  priority: int,
  dnsConfig: opaque,
  readinessGates: opaqueList,
  runtimeClassName: str,
  enableServiceLinks: bool,
  preemptionPolicy: str,
  overhead: map(quantity),
  topologySpreadConstraints: opaqueList,
  setHostnameAsFQDN: bool,
  os: opaque,
  hostUsers: bool,
  schedulingGates: opaqueList,
  resourceClaims: opaqueList,
  resources: resourcesSchema,
  workloadRef: opaque,
})

export const podTemplateSpecSchema: Schema = obj({ metadata: objectMetaSchema, spec: podSpecSchema })

/**
 * Top-level fields every kind has. status is an object whatever the kind (a string or number there cannot
 * be decoded); its content is accepted as kubectl dumps carry it, unless a kind lists its fields.
 */
function topLevel(spec: Schema, status: Schema = opaque): Schema {
  return obj({ apiVersion: str, kind: str, metadata: objectMetaSchema, spec, status })
}

/**
 * PodStatus: the fields Palisade reads (phase, podIP, podIPs) and the other scalars are type-checked, since
 * a value of the wrong type cannot be decoded (a pod would silently lose its address); fields that newer API
 * servers add are accepted.
 */
const podIPSchema = openObj({ ip: str })
export const podStatusSchema: Schema = openObj({
  observedGeneration: int,
  phase: str,
  conditions: opaqueList,
  message: str,
  reason: str,
  nominatedNodeName: str,
  hostIP: str,
  hostIPs: arr(podIPSchema),
  podIP: str,
  podIPs: arr(podIPSchema),
  startTime: str,
  initContainerStatuses: opaqueList,
  containerStatuses: opaqueList,
  ephemeralContainerStatuses: opaqueList,
  qosClass: str,
  resize: str,
  resourceClaimStatuses: opaqueList,
})

export const podSchema: Schema = topLevel(podSpecSchema, podStatusSchema)

export const namespaceSchema: Schema = topLevel(obj({ finalizers: arr(str) }))

// --- Workloads (fields of apps/v1, plus the few that only the beta versions had) ---

const deploymentSpec = obj({
  replicas: int,
  selector: labelSelectorSchema,
  template: podTemplateSpecSchema,
  strategy: opaque,
  minReadySeconds: int,
  revisionHistoryLimit: int,
  paused: bool,
  progressDeadlineSeconds: int,
  rollbackTo: opaque,
})

const statefulSetSpec = obj({
  replicas: int,
  selector: labelSelectorSchema,
  template: podTemplateSpecSchema,
  volumeClaimTemplates: opaqueList,
  serviceName: str,
  podManagementPolicy: str,
  updateStrategy: opaque,
  revisionHistoryLimit: int,
  minReadySeconds: int,
  persistentVolumeClaimRetentionPolicy: opaque,
  ordinals: opaque,
})

const daemonSetSpec = obj({
  selector: labelSelectorSchema,
  template: podTemplateSpecSchema,
  updateStrategy: opaque,
  minReadySeconds: int,
  revisionHistoryLimit: int,
  templateGeneration: int,
})

const replicaSetSpec = obj({
  replicas: int,
  minReadySeconds: int,
  selector: labelSelectorSchema,
  template: podTemplateSpecSchema,
})

/** ReplicationController's selector is a plain map, not a LabelSelector. */
const replicationControllerSpec = obj({
  replicas: int,
  minReadySeconds: int,
  selector: stringMap,
  template: podTemplateSpecSchema,
})

const jobSpecFields: Record<string, Schema> = {
  parallelism: int,
  completions: int,
  activeDeadlineSeconds: int,
  podFailurePolicy: opaque,
  successPolicy: opaque,
  backoffLimit: int,
  backoffLimitPerIndex: int,
  maxFailedIndexes: int,
  selector: labelSelectorSchema,
  manualSelector: bool,
  template: podTemplateSpecSchema,
  ttlSecondsAfterFinished: int,
  completionMode: str,
  suspend: bool,
  podReplacementPolicy: str,
  managedBy: str,
}
const jobSpec = obj(jobSpecFields)

const cronJobSpec = obj({
  schedule: str,
  timeZone: str,
  startingDeadlineSeconds: int,
  concurrencyPolicy: str,
  suspend: bool,
  jobTemplate: obj({ metadata: objectMetaSchema, spec: jobSpec }),
  successfulJobsHistoryLimit: int,
  failedJobsHistoryLimit: int,
})

export const workloadSchemas: Readonly<Record<string, Schema>> = {
  Deployment: topLevel(deploymentSpec),
  StatefulSet: topLevel(statefulSetSpec),
  DaemonSet: topLevel(daemonSetSpec),
  ReplicaSet: topLevel(replicaSetSpec),
  ReplicationController: topLevel(replicationControllerSpec),
  Job: topLevel(jobSpec),
  CronJob: topLevel(cronJobSpec),
}
