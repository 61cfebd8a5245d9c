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
  int32,
  int64,
  intOrString,
  map,
  obj,
  opaque,
  opaqueList,
  openObj,
  quantity,
  str,
  time,
} from './schema.js'

const stringMap = map(str)

/** metav1.OwnerReference. */
const ownerReferenceSchema = obj({
  apiVersion: str,
  kind: str,
  name: str,
  uid: str,
  controller: bool,
  blockOwnerDeletion: bool,
})

/** metav1.ManagedFieldsEntry (fieldsV1 is raw JSON). */
const managedFieldsEntrySchema = obj({
  manager: str,
  operation: str,
  apiVersion: str,
  time,
  fieldsType: str,
  fieldsV1: opaque,
  subresource: str,
})

export const objectMetaSchema: Schema = obj({
  name: str,
  generateName: str,
  namespace: str,
  selfLink: str,
  uid: str,
  resourceVersion: str,
  generation: int64,
  creationTimestamp: time,
  deletionTimestamp: time,
  deletionGracePeriodSeconds: int64,
  labels: stringMap,
  annotations: stringMap,
  ownerReferences: arr(ownerReferenceSchema),
  finalizers: arr(str),
  managedFields: arr(managedFieldsEntrySchema),
  // Removed from ObjectMeta (clusterName in 1.25, initializers in 1.14) but present in old dumps.
  clusterName: str,
  initializers: opaque,
})

export const labelSelectorSchema: Schema = obj({
  matchLabels: stringMap,
  matchExpressions: arr(obj({ key: str, operator: str, values: arr(str) })),
})

// --- NetworkPolicy (networking.k8s.io/v1 and extensions/v1beta1 share the same fields) ---

const networkPolicyPortSchema = obj({ protocol: str, port: intOrString, endPort: int32 })
const networkPolicyPeerSchema = obj({
  podSelector: labelSelectorSchema,
  namespaceSelector: labelSelectorSchema,
  ipBlock: obj({ cidr: str, except: arr(str) }),
})

/**
 * metav1.Condition: NetworkPolicyStatus existed in 1.24-1.26 (dumps of those clusters carry `status: {}`).
 * Today's API server drops the field unread, so its time is not decoded.
 */
const conditionSchema = obj({
  type: str,
  status: str,
  observedGeneration: int64,
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

const containerPortSchema = obj({
  name: str,
  hostPort: int32,
  containerPort: int32,
  protocol: str,
  hostIP: str,
})

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
  terminationGracePeriodSeconds: int64,
  activeDeadlineSeconds: int64,
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
  priority: int32,
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
 * PodStatus: the fields Palisade reads (phase, podIP, podIPs) and every other field core/v1 gives a type
 * are decoded, since a value of the wrong type cannot be (and a pod would silently lose its address);
 * fields that newer API servers add are accepted, here and in the structures below.
 */
const podIPSchema = openObj({ ip: str })
const containerStateSchema = openObj({
  waiting: openObj({ reason: str, message: str }),
  running: openObj({ startedAt: time }),
  terminated: openObj({
    exitCode: int32,
    signal: int32,
    reason: str,
    message: str,
    startedAt: time,
    finishedAt: time,
    containerID: str,
  }),
})
const containerStatusSchema = openObj({
  name: str,
  state: containerStateSchema,
  lastState: containerStateSchema,
  ready: bool,
  restartCount: int32,
  image: str,
  imageID: str,
  containerID: str,
  started: bool,
  allocatedResources: map(quantity),
  resources: openObj({ limits: map(quantity), requests: map(quantity), claims: opaqueList }),
  volumeMounts: opaqueList,
  user: opaque,
  allocatedResourcesStatus: opaqueList,
  stopSignal: str,
})
export const podStatusSchema: Schema = openObj({
  observedGeneration: int64,
  phase: str,
  conditions: arr(
    openObj({
      type: str,
      observedGeneration: int64,
      status: str,
      lastProbeTime: time,
      lastTransitionTime: time,
      reason: str,
      message: str,
    }),
  ),
  message: str,
  reason: str,
  nominatedNodeName: str,
  hostIP: str,
  hostIPs: arr(podIPSchema),
  podIP: str,
  podIPs: arr(podIPSchema),
  startTime: time,
  initContainerStatuses: arr(containerStatusSchema),
  containerStatuses: arr(containerStatusSchema),
  ephemeralContainerStatuses: arr(containerStatusSchema),
  qosClass: str,
  resize: str,
  resourceClaimStatuses: opaqueList,
  allocatedResources: map(quantity),
  resources: openObj({ limits: map(quantity), requests: map(quantity), claims: opaqueList }),
})

export const podSchema: Schema = topLevel(podSpecSchema, podStatusSchema)

/** NamespaceStatus: phase and conditions (NamespaceCondition), open to fields newer servers add. */
const namespaceStatusSchema = openObj({
  phase: str,
  conditions: arr(openObj({ type: str, status: str, lastTransitionTime: time, reason: str, message: str })),
})

export const namespaceSchema: Schema = topLevel(obj({ finalizers: arr(str) }), namespaceStatusSchema)

// --- Workloads (fields of apps/v1, plus the few that only the beta versions had) ---

const deploymentSpec = obj({
  replicas: int32,
  selector: labelSelectorSchema,
  template: podTemplateSpecSchema,
  strategy: obj({ type: str, rollingUpdate: obj({ maxUnavailable: intOrString, maxSurge: intOrString }) }),
  minReadySeconds: int32,
  revisionHistoryLimit: int32,
  paused: bool,
  progressDeadlineSeconds: int32,
  rollbackTo: obj({ revision: int64 }),
})

/** DeploymentStatus, open to fields newer API servers add. */
const deploymentStatus = openObj({
  observedGeneration: int64,
  replicas: int32,
  updatedReplicas: int32,
  readyReplicas: int32,
  availableReplicas: int32,
  unavailableReplicas: int32,
  terminatingReplicas: int32,
  conditions: arr(
    openObj({
      type: str,
      status: str,
      lastUpdateTime: time,
      lastTransitionTime: time,
      reason: str,
      message: str,
    }),
  ),
  collisionCount: int32,
})

const statefulSetSpec = obj({
  replicas: int32,
  selector: labelSelectorSchema,
  template: podTemplateSpecSchema,
  volumeClaimTemplates: opaqueList,
  serviceName: str,
  podManagementPolicy: str,
  updateStrategy: opaque,
  revisionHistoryLimit: int32,
  minReadySeconds: int32,
  persistentVolumeClaimRetentionPolicy: opaque,
  ordinals: opaque,
})

const daemonSetSpec = obj({
  selector: labelSelectorSchema,
  template: podTemplateSpecSchema,
  updateStrategy: opaque,
  minReadySeconds: int32,
  revisionHistoryLimit: int32,
  templateGeneration: int64,
})

const replicaSetSpec = obj({
  replicas: int32,
  minReadySeconds: int32,
  selector: labelSelectorSchema,
  template: podTemplateSpecSchema,
})

/** ReplicationController's selector is a plain map, not a LabelSelector. */
const replicationControllerSpec = obj({
  replicas: int32,
  minReadySeconds: int32,
  selector: stringMap,
  template: podTemplateSpecSchema,
})

const jobSpecFields: Record<string, Schema> = {
  parallelism: int32,
  completions: int32,
  activeDeadlineSeconds: int64,
  podFailurePolicy: opaque,
  successPolicy: opaque,
  backoffLimit: int32,
  backoffLimitPerIndex: int32,
  maxFailedIndexes: int32,
  selector: labelSelectorSchema,
  manualSelector: bool,
  template: podTemplateSpecSchema,
  ttlSecondsAfterFinished: int32,
  completionMode: str,
  suspend: bool,
  podReplacementPolicy: str,
  managedBy: str,
}
const jobSpec = obj(jobSpecFields)

const cronJobSpec = obj({
  schedule: str,
  timeZone: str,
  startingDeadlineSeconds: int64,
  concurrencyPolicy: str,
  suspend: bool,
  jobTemplate: obj({ metadata: objectMetaSchema, spec: jobSpec }),
  successfulJobsHistoryLimit: int32,
  failedJobsHistoryLimit: int32,
})

export const workloadSchemas: Readonly<Record<string, Schema>> = {
  Deployment: topLevel(deploymentSpec, deploymentStatus),
  StatefulSet: topLevel(statefulSetSpec),
  DaemonSet: topLevel(daemonSetSpec),
  ReplicaSet: topLevel(replicaSetSpec),
  ReplicationController: topLevel(replicationControllerSpec),
  Job: topLevel(jobSpec),
  CronJob: topLevel(cronJobSpec),
}

// --- ClusterNetworkPolicy (policy.networking.k8s.io v1beta1 and v1alpha2 share the same fields) ---

const cnpNamespacedPodSchema = obj({
  namespaceSelector: labelSelectorSchema,
  podSelector: labelSelectorSchema,
})
const cnpPortSchema = obj({ number: int32, range: obj({ start: int32, end: int32 }) })
const cnpProtocolSchema = obj({
  tcp: obj({ destinationPort: cnpPortSchema }),
  udp: obj({ destinationPort: cnpPortSchema }),
  sctp: obj({ destinationPort: cnpPortSchema }),
  destinationNamedPort: str,
})

export const clusterNetworkPolicySchema: Schema = obj({
  apiVersion: str,
  kind: str,
  metadata: objectMetaSchema,
  spec: obj({
    tier: str,
    priority: int32,
    subject: obj({ namespaces: labelSelectorSchema, pods: cnpNamespacedPodSchema }),
    ingress: arr(
      obj({
        name: str,
        action: str,
        from: arr(obj({ namespaces: labelSelectorSchema, pods: cnpNamespacedPodSchema })),
        protocols: arr(cnpProtocolSchema),
      }),
    ),
    egress: arr(
      obj({
        name: str,
        action: str,
        to: arr(
          obj({
            namespaces: labelSelectorSchema,
            pods: cnpNamespacedPodSchema,
            nodes: labelSelectorSchema,
            networks: arr(str),
            domainNames: arr(str),
          }),
        ),
        protocols: arr(cnpProtocolSchema),
      }),
    ),
  }),
  status: openObj({ conditions: arr(conditionSchema) }),
})
