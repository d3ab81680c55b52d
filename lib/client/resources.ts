/**
 * Resource descriptors: where a kind lives in the URL space. The built-in ones are derived from
 * lib/api's `builtinResources`, so that the API server and its clients share one list; the
 * typed table below only attaches a TypeScript type to each.
 */
import {
  builtinResources,
  type CertificateSigningRequest,
  type ConfigMap,
  type ControllerRevision,
  type CronJob,
  type DaemonSet,
  type Deployment,
  type EndpointSlice,
  type Endpoints,
  type Event,
  type HorizontalPodAutoscaler,
  type Job,
  type KubeObject,
  type Lease,
  type Namespace,
  type Node,
  type PersistentVolume,
  type PersistentVolumeClaim,
  type Pod,
  type PodDisruptionBudget,
  type ReplicaSet,
  type ReplicationController,
  type RuntimeClass,
  type Secret,
  type Service,
  type ServiceAccount,
  type StatefulSet,
  type StorageClass,
} from '../api/index.js';

/** Enough to build URLs for a resource; `T` is the type of its objects. */
export interface ResourceDescriptor<T extends KubeObject = KubeObject> {
  readonly group: string;
  readonly version: string;
  /** Plural URL name, e.g. `pods`. */
  readonly resource: string;
  readonly kind: string;
  readonly listKind: string;
  readonly namespaced: boolean;
  /** Phantom field carrying `T`; never set. */
  readonly __type?: T;
}

/** `apps/v1`, or `v1` for the core group. */
export function apiVersionOfDescriptor(d: ResourceDescriptor<any>): string {
  return d.group ? `${d.group}/${d.version}` : d.version;
}

/** `deployments.apps`, or `pods` for the core group: the name used in messages and keys. */
export function groupResourceName(d: ResourceDescriptor<any>): string {
  return d.group ? `${d.resource}.${d.group}` : d.resource;
}

/** A descriptor for a kind the client has no built-in entry for (a CRD, say). */
export function defineResourceDescriptor<T extends KubeObject = KubeObject>(d: {
  group: string;
  version: string;
  resource: string;
  kind: string;
  namespaced: boolean;
  listKind?: string;
}): ResourceDescriptor<T> {
  return Object.freeze({ ...d, listKind: d.listKind ?? `${d.kind}List` });
}

/** Every served built-in resource, in lib/api's order. */
export const builtinDescriptors: readonly ResourceDescriptor[] = Object.freeze(
  builtinResources.map((rt) =>
    defineResourceDescriptor({ group: rt.group, version: rt.version, resource: rt.resource, kind: rt.kind, namespaced: rt.namespaced, listKind: rt.listKind }),
  ),
);

function builtin<T extends KubeObject>(group: string, resource: string): ResourceDescriptor<T> {
  const d = builtinDescriptors.find((x) => x.group === group && x.resource === resource);
  if (!d) throw new Error(`lib/client: ${resource}${group ? `.${group}` : ''} is not among lib/api's builtinResources`);
  return d as ResourceDescriptor<T>;
}

/** The built-in resources, typed. */
export const Resources = Object.freeze({
  namespaces: builtin<Namespace>('', 'namespaces'),
  pods: builtin<Pod>('', 'pods'),
  services: builtin<Service>('', 'services'),
  endpoints: builtin<Endpoints>('', 'endpoints'),
  configMaps: builtin<ConfigMap>('', 'configmaps'),
  secrets: builtin<Secret>('', 'secrets'),
  serviceAccounts: builtin<ServiceAccount>('', 'serviceaccounts'),
  events: builtin<Event>('', 'events'),
  nodes: builtin<Node>('', 'nodes'),
  replicationControllers: builtin<ReplicationController>('', 'replicationcontrollers'),
  podTemplates: builtin<KubeObject>('', 'podtemplates'),
  persistentVolumes: builtin<PersistentVolume>('', 'persistentvolumes'),
  persistentVolumeClaims: builtin<PersistentVolumeClaim>('', 'persistentvolumeclaims'),
  deployments: builtin<Deployment>('apps', 'deployments'),
  replicaSets: builtin<ReplicaSet>('apps', 'replicasets'),
  daemonSets: builtin<DaemonSet>('apps', 'daemonsets'),
  statefulSets: builtin<StatefulSet>('apps', 'statefulsets'),
  controllerRevisions: builtin<ControllerRevision>('apps', 'controllerrevisions'),
  jobs: builtin<Job>('batch', 'jobs'),
  cronJobs: builtin<CronJob>('batch', 'cronjobs'),
  leases: builtin<Lease>('coordination.k8s.io', 'leases'),
  endpointSlices: builtin<EndpointSlice>('discovery.k8s.io', 'endpointslices'),
  storageClasses: builtin<StorageClass>('storage.k8s.io', 'storageclasses'),
  runtimeClasses: builtin<RuntimeClass>('node.k8s.io', 'runtimeclasses'),
  podDisruptionBudgets: builtin<PodDisruptionBudget>('policy', 'poddisruptionbudgets'),
  certificateSigningRequests: builtin<CertificateSigningRequest>('certificates.k8s.io', 'certificatesigningrequests'),
  /** autoscaling/v2, the preferred version (lib/api lists it before v1). */
  horizontalPodAutoscalers: builtin<HorizontalPodAutoscaler>('autoscaling', 'horizontalpodautoscalers'),
});

/**
 * Finds a built-in descriptor by kind (`Pod`), plural (`pods`), `resource.group`
 * (`deployments.apps`) or apiVersion and kind (`apps/v1`, `Deployment`).
 */
export function findDescriptor(nameOrKind: string, apiVersion?: string): ResourceDescriptor | undefined {
  if (apiVersion !== undefined) {
    return builtinDescriptors.find((d) => d.kind === nameOrKind && apiVersionOfDescriptor(d) === apiVersion);
  }
  const lower = nameOrKind.toLowerCase();
  return builtinDescriptors.find((d) => d.kind === nameOrKind || d.resource === lower || groupResourceName(d) === lower);
}
