/** Defaulting for core/v1, as upstream's pkg/apis/core/v1/defaults.go. Mutates in place; idempotent. */
import type { Container, PodSpec, Pod, Service, Secret, ReplicationController, Namespace, Node, Volume, Endpoints, PersistentVolume, PersistentVolumeClaim, LimitRange } from './v1.js';
import type { PersistentVolumeClaimSpec } from './v1-volume.js';
import { volumeSourceNames } from './v1-volume.js';

function defaultProbe(p: NonNullable<Container['livenessProbe']>) {
  p.timeoutSeconds ??= 1;
  p.periodSeconds ??= 10;
  p.successThreshold ??= 1;
  p.failureThreshold ??= 3;
  if (p.httpGet) {
    p.httpGet.path ??= '/';
    p.httpGet.scheme ??= 'HTTP';
  }
}

/** `:latest` or no tag means Always; a tag or digest means IfNotPresent. */
export function defaultPullPolicy(image: string | undefined): 'Always' | 'IfNotPresent' {
  if (!image) return 'IfNotPresent';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSlash = image.lastIndexOf('/');
  const colon = image.indexOf(':', lastSlash + 1);
  if (colon < 0) return 'Always';
  return image.slice(colon + 1) === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Container) {
  c.imagePullPolicy ??= defaultPullPolicy(c.image);
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  for (const p of c.ports ?? []) p.protocol ??= 'TCP';
  if (c.livenessProbe) defaultProbe(c.livenessProbe);
  if (c.readinessProbe) defaultProbe(c.readinessProbe);
  if (c.startupProbe) defaultProbe(c.startupProbe);
  for (const h of [c.lifecycle?.postStart, c.lifecycle?.preStop]) {
    if (h?.httpGet) {
      h.httpGet.path ??= '/';
      h.httpGet.scheme ??= 'HTTP';
    }
  }
  for (const e of c.env ?? []) {
    if (e.valueFrom?.fieldRef) e.valueFrom.fieldRef.apiVersion ??= 'v1';
  }
  c.resources ??= {};
  // Upstream copies limits into requests when requests are unset.
  if (c.resources.limits) {
    c.resources.requests ??= {};
    for (const [k, v] of Object.entries(c.resources.limits)) c.resources.requests[k] ??= v;
  }
}

/** Defaults shared by the volume sources a pod and a PersistentVolume can both use. */
type SharedSources = Pick<Volume, 'hostPath' | 'iscsi' | 'rbd' | 'azureDisk'>;
function defaultSharedSources(v: SharedSources) {
  if (v.hostPath) v.hostPath.type ??= '';
  if (v.iscsi) v.iscsi.iscsiInterface ??= 'default';
  if (v.rbd) {
    v.rbd.pool ??= 'rbd';
    v.rbd.user ??= 'admin';
    v.rbd.keyring ??= '/etc/ceph/keyring';
  }
  if (v.azureDisk) {
    v.azureDisk.cachingMode ??= 'ReadWrite';
    v.azureDisk.kind ??= 'Shared';
    v.azureDisk.fsType ??= 'ext4';
    v.azureDisk.readOnly ??= false;
  }
}

export function defaultPersistentVolumeClaimSpec(spec: PersistentVolumeClaimSpec) {
  spec.volumeMode ??= 'Filesystem';
}

function defaultVolume(v: Volume) {
  if (!volumeSourceNames.some((s) => v[s] !== undefined)) v.emptyDir = {};
  defaultSharedSources(v);
  if (v.configMap) v.configMap.defaultMode ??= 0o644;
  if (v.secret) v.secret.defaultMode ??= 0o644;
  if (v.downwardAPI) {
    v.downwardAPI.defaultMode ??= 0o644;
    for (const item of v.downwardAPI.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ??= 'v1';
  }
  if (v.projected) {
    v.projected.defaultMode ??= 0o644;
    for (const src of v.projected.sources ?? []) {
      if (src.serviceAccountToken) src.serviceAccountToken.expirationSeconds ??= 3600;
      for (const item of src.downwardAPI?.items ?? []) if (item.fieldRef) item.fieldRef.apiVersion ??= 'v1';
    }
  }
  if (v.scaleIO) {
    v.scaleIO.storageMode ??= 'ThinProvisioned';
    v.scaleIO.fsType ??= 'xfs';
  }
  if (v.ephemeral?.volumeClaimTemplate?.spec) defaultPersistentVolumeClaimSpec(v.ephemeral.volumeClaimTemplate.spec);
}

export function defaultPodSpec(spec: PodSpec) {
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.securityContext ??= {};
  spec.schedulerName ??= 'default-scheduler';
  spec.enableServiceLinks ??= true;
  if (spec.hostNetwork) {
    for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])])
      for (const p of c.ports ?? []) if (p.hostPort === undefined) p.hostPort = p.containerPort;
  }
  for (const c of spec.initContainers ?? []) defaultContainer(c);
  for (const c of spec.containers ?? []) defaultContainer(c);
  for (const c of spec.ephemeralContainers ?? []) defaultContainer(c as Container);
  for (const v of spec.volumes ?? []) defaultVolume(v);
  for (const t of spec.topologySpreadConstraints ?? []) {
    t.nodeAffinityPolicy ??= undefined;
  }
}

export function defaultPod(pod: Pod) {
  if (pod.spec) {
    defaultPodSpec(pod.spec);
    // serviceAccount is the deprecated alias of serviceAccountName.
    if (pod.spec.serviceAccountName && !pod.spec.serviceAccount) pod.spec.serviceAccount = pod.spec.serviceAccountName;
  }
}

export function defaultService(svc: Service) {
  const spec = (svc.spec ??= {});
  spec.type ??= 'ClusterIP';
  spec.sessionAffinity ??= 'None';
  if (spec.sessionAffinity === 'ClientIP') {
    spec.sessionAffinityConfig ??= {};
    spec.sessionAffinityConfig.clientIP ??= {};
    spec.sessionAffinityConfig.clientIP.timeoutSeconds ??= 10800;
  }
  for (const p of spec.ports ?? []) {
    p.protocol ??= 'TCP';
    if (p.targetPort === undefined || p.targetPort === 0 || p.targetPort === '') p.targetPort = p.port;
  }
  if (spec.type !== 'ExternalName') {
    spec.internalTrafficPolicy ??= 'Cluster';
    spec.ipFamilies ??= ['IPv4'];
    spec.ipFamilyPolicy ??= 'SingleStack';
  }
  if (spec.type === 'NodePort' || spec.type === 'LoadBalancer') spec.externalTrafficPolicy ??= 'Cluster';
  if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
}

export function defaultSecret(s: Secret) {
  s.type ??= 'Opaque';
  if (s.stringData) {
    s.data ??= {};
    for (const [k, v] of Object.entries(s.stringData)) s.data[k] = Buffer.from(v, 'utf8').toString('base64');
    delete s.stringData;
  }
}

export function defaultReplicationController(rc: ReplicationController) {
  const spec = (rc.spec ??= {});
  spec.replicas ??= 1;
  const labels = spec.template?.metadata?.labels;
  if (labels) {
    if (!spec.selector || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    if (!rc.metadata.labels || Object.keys(rc.metadata.labels).length === 0) rc.metadata.labels = { ...labels };
  }
  if (spec.template?.spec) defaultPodSpec(spec.template.spec);
}

export function defaultNamespace(ns: Namespace) {
  ns.spec ??= {};
  ns.spec.finalizers ??= ['kubernetes'];
  ns.status ??= {};
  ns.status.phase ??= 'Active';
  if (ns.metadata.name) {
    ns.metadata.labels ??= {};
    ns.metadata.labels['kubernetes.io/metadata.name'] = ns.metadata.name;
  }
}

export function defaultNode(node: Node) {
  if (node.spec?.podCIDR && !node.spec.podCIDRs?.length) node.spec.podCIDRs = [node.spec.podCIDR];
  if (node.status) {
    if (node.status.capacity && !node.status.allocatable) node.status.allocatable = { ...node.status.capacity };
  }
}

export function defaultEndpoints(ep: Endpoints) {
  for (const ss of ep.subsets ?? []) for (const p of ss.ports ?? []) p.protocol ??= 'TCP';
}

export function defaultPersistentVolume(pv: PersistentVolume) {
  const spec = (pv.spec ??= {});
  spec.persistentVolumeReclaimPolicy ??= 'Retain';
  spec.volumeMode ??= 'Filesystem';
  defaultSharedSources(spec);
  if (spec.scaleIO) {
    spec.scaleIO.storageMode ??= 'ThinProvisioned';
    spec.scaleIO.fsType ??= 'xfs';
  }
}

export function defaultPersistentVolumeClaim(pvc: PersistentVolumeClaim) {
  defaultPersistentVolumeClaimSpec((pvc.spec ??= {}));
}

/**
 * For containers, a LimitRange fills its gaps: the default limit falls back to max, the default
 * request to the default limit, then to min.
 */
export function defaultLimitRange(lr: LimitRange) {
  for (const item of lr.spec?.limits ?? []) {
    if (item.type !== 'Container') continue;
    const def = (item.default ??= {});
    const defReq = (item.defaultRequest ??= {});
    for (const [k, v] of Object.entries(item.max ?? {})) def[k] ??= v;
    for (const [k, v] of Object.entries(def)) defReq[k] ??= v;
    for (const [k, v] of Object.entries(item.min ?? {})) defReq[k] ??= v;
  }
}
