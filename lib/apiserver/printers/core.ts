/** Printers for core/v1 kinds, with upstream's columns and cell formatting. */
import { isIP } from 'node:net';
import type {
  KubeObject,
  Pod,
  Container,
  Namespace,
  Node,
  Service,
  Endpoints,
  ConfigMap,
  Secret,
  ServiceAccount,
  Event,
  ReplicationController,
  PodTemplate,
  ComponentStatus,
  ResourceQuota,
  LimitRange,
  PersistentVolume,
  PersistentVolumeClaim,
} from '../../api/index.js';
import { replicaPrinter } from './apps.js';
import { age, ageColumn, nameColumn, registerPrinter, humanDuration, formatLabels, containerCells, listWithMore, quantityText, type Column } from './table.js';

const containersColumn: Column = { name: 'Containers', type: 'string', priority: 1, description: 'Names of the containers of the pod template.' };
const imagesColumn: Column = { name: 'Images', type: 'string', priority: 1, description: 'Images of the containers of the pod template.' };

// ---- Pods ---------------------------------------------------------------------------------

function isSidecar(c: Container | undefined): boolean {
  return c?.restartPolicy === 'Always';
}

/** When a time string is later than `last` (ms), the later one. */
function later(last: number | undefined, t: string | undefined): number | undefined {
  if (!t) return last;
  const ms = Date.parse(t);
  if (Number.isNaN(ms)) return last;
  return last === undefined || ms > last ? ms : last;
}

export interface PodSummary {
  ready: number;
  total: number;
  reason: string;
  restarts: number;
  /** When the last restarted container last terminated (ms), if known. */
  lastRestart?: number;
}

/**
 * What `kubectl get pods` shows of a pod, computed as upstream's printer does:
 *
 *   phase (or status.reason) ── SchedulingGated condition ──▶ init containers, in order:
 *     finished or started sidecar → next; failed → Init:<reason>|Init:Signal:N|Init:ExitCode:N;
 *     waiting with a reason → Init:<reason>; otherwise → Init:<i>/<n>
 *   ──▶ (once initialised) app containers, last to first: waiting or terminated reason wins;
 *     "Completed" with a container still running → Running (or NotReady)
 *   ──▶ deletionTimestamp: Unknown for lost nodes, Terminating unless the phase is final.
 */
export function summarizePod(pod: Pod): PodSummary {
  const status = pod.status ?? {};
  const initSpecs = new Map((pod.spec?.initContainers ?? []).map((c) => [c.name, c]));
  let total = pod.spec?.containers?.length ?? 0;
  for (const c of initSpecs.values()) if (isSidecar(c)) total++;
  let ready = 0;
  let restarts = 0;
  let sidecarRestarts = 0;
  let lastRestart: number | undefined;
  let lastSidecarRestart: number | undefined;
  let reason: string = status.reason || status.phase || '';
  if ((status.conditions ?? []).some((c) => c.type === 'PodScheduled' && c.reason === 'SchedulingGated')) reason = 'SchedulingGated';

  let initializing = false;
  const initStatuses = status.initContainerStatuses ?? [];
  for (let i = 0; i < initStatuses.length; i++) {
    const s = initStatuses[i]!;
    restarts += s.restartCount ?? 0;
    lastRestart = later(lastRestart, s.lastState?.terminated?.finishedAt);
    const sidecar = isSidecar(initSpecs.get(s.name));
    if (sidecar) {
      sidecarRestarts += s.restartCount ?? 0;
      lastSidecarRestart = later(lastSidecarRestart, s.lastState?.terminated?.finishedAt);
    }
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (sidecar && s.started) {
      if (s.ready) ready++;
      continue;
    }
    if (t) reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    else if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing') reason = `Init:${s.state.waiting.reason}`;
    else reason = `Init:${i}/${initSpecs.size}`;
    initializing = true;
    break;
  }

  const initialized = (status.conditions ?? []).some((c) => c.type === 'Initialized' && c.status === 'True');
  if (!initializing || initialized) {
    restarts = sidecarRestarts;
    lastRestart = lastSidecarRestart;
    let hasRunning = false;
    const statuses = status.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const s = statuses[i]!;
      restarts += s.restartCount ?? 0;
      lastRestart = later(lastRestart, s.lastState?.terminated?.finishedAt);
      const t = s.state?.terminated;
      if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
      else if (t?.reason) reason = t.reason;
      else if (t) reason = t.signal ? `Signal:${t.signal}` : `ExitCode:${t.exitCode}`;
      else if (s.ready && s.state?.running) {
        hasRunning = true;
        ready++;
      }
    }
    if (reason === 'Completed' && hasRunning) reason = (status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }

  if (pod.metadata.deletionTimestamp && status.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && status.phase !== 'Succeeded' && status.phase !== 'Failed') reason = 'Terminating';
  return { ready, total, reason, restarts, lastRestart };
}

/** The STATUS column of a pod. */
export function podStatusReason(pod: Pod): string {
  return summarizePod(pod).reason;
}

registerPrinter('', 'pods', {
  columns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: 'Ready containers out of all containers (sidecars included).' },
    { name: 'Status', type: 'string', description: 'Phase of the pod, or the most telling reason of its containers.' },
    { name: 'Restarts', type: 'string', description: 'Container restarts, and how long ago the last one happened.' },
    ageColumn,
    { name: 'IP', type: 'string', priority: 1, description: 'Primary IP address of the pod.' },
    { name: 'Node', type: 'string', priority: 1, description: 'Node the pod is bound to.' },
    { name: 'Nominated Node', type: 'string', priority: 1, description: 'Node the pod is expected to run on after preemption.' },
    { name: 'Readiness Gates', type: 'string', priority: 1, description: 'Readiness gates that pass, out of all of them.' },
  ],
  row(o: KubeObject, now) {
    const pod = o as Pod;
    const sum = summarizePod(pod);
    const restarts = sum.restarts !== 0 && sum.lastRestart !== undefined ? `${sum.restarts} (${humanDuration(now - sum.lastRestart)} ago)` : String(sum.restarts);
    const gates = pod.spec?.readinessGates ?? [];
    let gatesText = '<none>';
    if (gates.length) {
      const passing = gates.filter((g) => pod.status?.conditions?.find((c) => c.type === g.conditionType)?.status === 'True').length;
      gatesText = `${passing}/${gates.length}`;
    }
    return [
      pod.metadata.name,
      `${sum.ready}/${sum.total}`,
      sum.reason,
      restarts,
      age(pod.metadata.creationTimestamp, now),
      pod.status?.podIPs?.[0]?.ip || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      gatesText,
    ];
  },
});

registerPrinter('', 'podtemplates', {
  columns: [
    nameColumn,
    { name: 'Containers', type: 'string', description: 'Names of the containers of the template.' },
    { name: 'Images', type: 'string', description: 'Images of the containers of the template.' },
    { name: 'Pod Labels', type: 'string', description: 'Labels of the pods made from the template.' },
  ],
  row(o) {
    const t = o as PodTemplate;
    const [names, images] = containerCells(t.template?.spec);
    return [t.metadata.name, names, images, formatLabels(t.template?.metadata?.labels)];
  },
});

// ---- Namespaces, nodes ------------------------------------------------------------------------
registerPrinter('', 'namespaces', {
  columns: [nameColumn, { name: 'Status', type: 'string', description: 'Phase of the namespace: Active or Terminating.' }, ageColumn],
  row(o, now) {
    const ns = o as Namespace;
    return [ns.metadata.name, ns.status?.phase ?? '', age(ns.metadata.creationTimestamp, now)];
  },
});

/** Roles of a node, from node-role.kubernetes.io/<role> labels and the kubernetes.io/role label. */
export function nodeRoles(node: Node): string[] {
  const roles = new Set<string>();
  for (const [k, v] of Object.entries(node.metadata.labels ?? {})) {
    if (k.startsWith('node-role.kubernetes.io/')) {
      const role = k.slice('node-role.kubernetes.io/'.length);
      if (role) roles.add(role);
    } else if (k === 'kubernetes.io/role' && v) roles.add(v);
  }
  return [...roles].sort();
}

/** The STATUS of a node: Ready, NotReady or Unknown, then SchedulingDisabled when cordoned. */
export function nodeStatus(node: Node): string {
  const out: string[] = [];
  const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
  if (ready) out.push(ready.status === 'True' ? 'Ready' : 'NotReady');
  else out.push('Unknown');
  if (node.spec?.unschedulable) out.push('SchedulingDisabled');
  return out.join(',');
}

function nodeAddress(node: Node, type: string): string {
  return node.status?.addresses?.find((a) => a.type === type)?.address ?? '<none>';
}

registerPrinter('', 'nodes', {
  columns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'Readiness of the node, and SchedulingDisabled when it is cordoned.' },
    { name: 'Roles', type: 'string', description: 'Roles of the node, from its node-role.kubernetes.io/<role> labels.' },
    ageColumn,
    { name: 'Version', type: 'string', description: 'Kubelet version of the node.' },
    { name: 'Internal-IP', type: 'string', priority: 1, description: 'First internal IP address of the node.' },
    { name: 'External-IP', type: 'string', priority: 1, description: 'First external IP address of the node.' },
    { name: 'OS-Image', type: 'string', priority: 1, description: 'Operating system image of the node.' },
    { name: 'Kernel-Version', type: 'string', priority: 1, description: 'Kernel version of the node.' },
    { name: 'Container-Runtime', type: 'string', priority: 1, description: 'Container runtime and its version.' },
  ],
  row(o, now) {
    const node = o as Node;
    const info = node.status?.nodeInfo ?? {};
    const roles = nodeRoles(node);
    return [
      node.metadata.name,
      nodeStatus(node),
      roles.length ? roles.join(',') : '<none>',
      age(node.metadata.creationTimestamp, now),
      info.kubeletVersion ?? '',
      nodeAddress(node, 'InternalIP'),
      nodeAddress(node, 'ExternalIP'),
      info.osImage || '<unknown>',
      info.kernelVersion || '<unknown>',
      info.containerRuntimeVersion || '<unknown>',
    ];
  },
});

// ---- Services and endpoints ---------------------------------------------------------------------
/** Load balancer addresses (IPs or host names), comma separated. */
export function loadBalancerAddresses(ingress: { ip?: string; hostname?: string }[] | undefined): string {
  return (ingress ?? []).map((i) => i.ip || i.hostname || '').filter(Boolean).join(',');
}

/** The EXTERNAL-IP of a service, by type. */
export function serviceExternalIP(svc: Service): string {
  const spec = svc.spec ?? {};
  const external = spec.externalIPs ?? [];
  switch (spec.type ?? 'ClusterIP') {
    case 'ClusterIP':
    case 'NodePort':
      return external.length ? external.join(',') : '<none>';
    case 'LoadBalancer': {
      const lb = loadBalancerAddresses(svc.status?.loadBalancer?.ingress);
      const all = [...(lb ? lb.split(',') : []), ...external];
      if (all.length) return all.join(',');
      return '<pending>';
    }
    case 'ExternalName':
      return spec.externalName ?? '';
    default:
      return '<unknown>';
  }
}

/** PORT(S) of a service: `80/TCP`, `80:30080/TCP` with a node port. */
export function servicePorts(svc: Service): string {
  const parts = (svc.spec?.ports ?? []).map((p) => (p.nodePort ? `${p.port}:${p.nodePort}/${p.protocol ?? 'TCP'}` : `${p.port}/${p.protocol ?? 'TCP'}`));
  return parts.length ? parts.join(',') : '<none>';
}

registerPrinter('', 'services', {
  columns: [
    nameColumn,
    { name: 'Type', type: 'string', description: 'How the service is exposed: ClusterIP, NodePort, LoadBalancer or ExternalName.' },
    { name: 'Cluster-IP', type: 'string', description: 'Virtual IP of the service inside the cluster.' },
    { name: 'External-IP', type: 'string', description: 'Addresses the service is reachable at from outside the cluster.' },
    { name: 'Port(s)', type: 'string', description: 'Ports of the service, with node ports.' },
    ageColumn,
    { name: 'Selector', type: 'string', priority: 1, description: 'Labels of the pods behind the service.' },
  ],
  row(o, now) {
    const svc = o as Service;
    return [
      svc.metadata.name,
      svc.spec?.type ?? '',
      svc.spec?.clusterIP || '<none>',
      serviceExternalIP(svc),
      servicePorts(svc),
      age(svc.metadata.creationTimestamp, now),
      formatLabels(svc.spec?.selector),
    ];
  },
});

function hostPort(ip: string, port: number): string {
  return isIP(ip) === 6 ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** ENDPOINTS of an Endpoints object: up to three ip:port pairs, then `+ N more...`. */
export function formatEndpoints(ep: Endpoints): string {
  const subsets = ep.subsets ?? [];
  if (subsets.length === 0) return '<none>';
  const list: string[] = [];
  let count = 0;
  for (const ss of subsets) {
    const addrs = ss.addresses ?? [];
    if (!ss.ports?.length) {
      count += addrs.length;
      for (const a of addrs) list.push(a.ip);
      continue;
    }
    for (const port of ss.ports) {
      count += addrs.length;
      for (const a of addrs) list.push(hostPort(a.ip, port.port));
    }
  }
  return listWithMore(list, count, 3, '<none>');
}

registerPrinter('', 'endpoints', {
  columns: [nameColumn, { name: 'Endpoints', type: 'string', description: 'Ready addresses and ports of the backends.' }, ageColumn],
  row(o, now) {
    const ep = o as Endpoints;
    return [ep.metadata.name, formatEndpoints(ep), age(ep.metadata.creationTimestamp, now)];
  },
});

// ---- Configuration ------------------------------------------------------------------------------
registerPrinter('', 'configmaps', {
  columns: [nameColumn, { name: 'Data', type: 'integer', description: 'Number of keys (text and binary).' }, ageColumn],
  row(o, now) {
    const cm = o as ConfigMap;
    return [cm.metadata.name, Object.keys(cm.data ?? {}).length + Object.keys(cm.binaryData ?? {}).length, age(cm.metadata.creationTimestamp, now)];
  },
});

registerPrinter('', 'secrets', {
  columns: [nameColumn, { name: 'Type', type: 'string', description: 'Type of the secret.' }, { name: 'Data', type: 'integer', description: 'Number of keys.' }, ageColumn],
  row(o, now) {
    const s = o as Secret;
    return [s.metadata.name, s.type ?? '', Object.keys(s.data ?? {}).length, age(s.metadata.creationTimestamp, now)];
  },
});

registerPrinter('', 'serviceaccounts', {
  columns: [nameColumn, { name: 'Secrets', type: 'integer', description: 'Number of secrets listed by the service account.' }, ageColumn],
  row(o, now) {
    const sa = o as ServiceAccount;
    return [sa.metadata.name, (sa.secrets ?? []).length, age(sa.metadata.creationTimestamp, now)];
  },
});

// ---- Events ---------------------------------------------------------------------------------------
export const eventColumns: Column[] = [
  { name: 'Last Seen', type: 'string', description: 'Time since the event last happened.' },
  { name: 'Type', type: 'string', description: 'Normal or Warning.' },
  { name: 'Reason', type: 'string', description: 'Short reason of the event.' },
  { name: 'Object', type: 'string', description: 'The object the event is about, as kind/name.' },
  { name: 'Subobject', type: 'string', priority: 1, description: 'The part of the object, e.g. a container of a pod.' },
  { name: 'Source', type: 'string', priority: 1, description: 'Component (and host) that reported the event.' },
  { name: 'Message', type: 'string', description: 'What happened.' },
  { name: 'First Seen', type: 'string', priority: 1, description: 'Time since the event first happened.' },
  { name: 'Count', type: 'integer', priority: 1, description: 'Times the event happened.' },
  { name: 'Name', type: 'string', format: 'name', priority: 1, description: 'Name of the event object.' },
];

function since(ts: string | null | undefined, now: number): string {
  return age(ts, now);
}

/** A row of the events table for a core/v1 Event (events.k8s.io events are converted first). */
export function eventRow(e: Event, now: number): unknown[] {
  const first = e.firstTimestamp ? since(e.firstTimestamp, now) : since(e.eventTime, now);
  let last = e.lastTimestamp ? since(e.lastTimestamp, now) : first;
  let count = e.count ?? 0;
  if (e.series) {
    last = since(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    count = 1; // new-style single events carry no count
  }
  const obj = e.involvedObject ?? {};
  const target = obj.name ? `${(obj.kind ?? '').toLowerCase()}/${obj.name}` : (obj.kind ?? '').toLowerCase();
  const component = e.source?.component || e.reportingComponent || '';
  const instance = e.source?.host || e.reportingInstance || '';
  const source = instance ? `${component}, ${instance}` : component;
  return [last, e.type ?? '', e.reason ?? '', target, obj.fieldPath ?? '', source, (e.message ?? '').trim(), first, count, e.metadata.name];
}

registerPrinter('', 'events', { columns: eventColumns, row: (o, now) => eventRow(o as Event, now) });

// ---- Replication controllers ----------------------------------------------------------------------
registerPrinter('', 'replicationcontrollers', replicaPrinter((r) => formatLabels((r as ReplicationController).spec?.selector)));

// ---- Component statuses --------------------------------------------------------------------------
registerPrinter('', 'componentstatuses', {
  columns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'Healthy, Unhealthy or Unknown.' },
    { name: 'Message', type: 'string', description: 'Message of the health check.' },
    { name: 'Error', type: 'string', description: 'Error of the health check.' },
  ],
  row(o) {
    const cs = o as ComponentStatus;
    const healthy = (cs.conditions ?? []).find((c) => c.type === 'Healthy');
    const status = !healthy ? 'Unknown' : healthy.status === 'True' ? 'Healthy' : 'Unhealthy';
    return [cs.metadata.name, status, healthy?.message ?? '', healthy?.error ?? ''];
  },
});

// ---- Quotas and limits ------------------------------------------------------------------------------
/** Resource names in the order upstream sorts them: plain string order. */
function sortedKeys(m: Record<string, unknown> | undefined): string[] {
  return Object.keys(m ?? {}).sort();
}

registerPrinter('', 'resourcequotas', {
  columns: [
    nameColumn,
    ageColumn,
    { name: 'Request', type: 'string', description: 'Usage and limit of each resource that is not a limits.* resource.' },
    { name: 'Limit', type: 'string', description: 'Usage and limit of each limits.* resource.' },
  ],
  row(o, now) {
    const q = o as ResourceQuota;
    const request: string[] = [];
    const limit: string[] = [];
    for (const r of sortedKeys(q.spec?.hard)) {
      const text = `${r}: ${quantityText(q.status?.used?.[r])}/${quantityText(q.status?.hard?.[r])}`;
      (r.split('.')[0] === 'limits' && r.includes('.') ? limit : request).push(text);
    }
    return [q.metadata.name, age(q.metadata.creationTimestamp, now), request.join(', '), limit.join(', ')];
  },
});

registerPrinter('', 'limitranges', {
  columns: [nameColumn, { name: 'Created At', type: 'date', description: 'When the object was created.' }],
  row(o) {
    const lr = o as LimitRange;
    const ts = lr.metadata.creationTimestamp;
    return [lr.metadata.name, ts ? new Date(ts).toISOString().replace(/\.\d+Z$/, 'Z') : '0001-01-01T00:00:00Z'];
  },
});

// ---- Persistent volumes -------------------------------------------------------------------------------
const accessModeShort: [string, string][] = [
  ['ReadWriteOnce', 'RWO'],
  ['ReadOnlyMany', 'ROX'],
  ['ReadWriteMany', 'RWX'],
  ['ReadWriteOncePod', 'RWOP'],
];

/** Access modes as kubectl abbreviates them, in a fixed order: RWO,ROX,RWX,RWOP. */
export function accessModesText(modes: string[] | undefined): string {
  return accessModeShort.filter(([m]) => (modes ?? []).includes(m)).map(([, s]) => s).join(',');
}

const betaStorageClassAnnotation = 'volume.beta.kubernetes.io/storage-class';

registerPrinter('', 'persistentvolumes', {
  columns: [
    nameColumn,
    { name: 'Capacity', type: 'string', description: 'Size of the volume.' },
    { name: 'Access Modes', type: 'string', description: 'How the volume can be mounted (RWO, ROX, RWX, RWOP).' },
    { name: 'Reclaim Policy', type: 'string', description: 'What happens to the volume when its claim is released.' },
    { name: 'Status', type: 'string', description: 'Phase of the volume.' },
    { name: 'Claim', type: 'string', description: 'The claim bound to the volume, as namespace/name.' },
    { name: 'StorageClass', type: 'string', description: 'StorageClass of the volume.' },
    { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the volume.' },
    { name: 'Reason', type: 'string', description: 'Why the volume is in its phase.' },
    ageColumn,
    { name: 'VolumeMode', type: 'string', priority: 1, description: 'Filesystem or Block.' },
  ],
  row(o, now) {
    const pv = o as PersistentVolume;
    const spec = pv.spec ?? {};
    const claim = spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '';
    const phase = pv.metadata.deletionTimestamp ? 'Terminating' : (pv.status?.phase ?? '');
    return [
      pv.metadata.name,
      quantityText(spec.capacity?.storage),
      accessModesText(spec.accessModes),
      spec.persistentVolumeReclaimPolicy ?? '',
      phase,
      claim,
      pv.metadata.annotations?.[betaStorageClassAnnotation] ?? spec.storageClassName ?? '',
      spec.volumeAttributesClassName || '<unset>',
      pv.status?.reason ?? '',
      age(pv.metadata.creationTimestamp, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
});

registerPrinter('', 'persistentvolumeclaims', {
  columns: [
    nameColumn,
    { name: 'Status', type: 'string', description: 'Phase of the claim.' },
    { name: 'Volume', type: 'string', description: 'The volume bound to the claim.' },
    { name: 'Capacity', type: 'string', description: 'Size of the bound volume.' },
    { name: 'Access Modes', type: 'string', description: 'How the bound volume can be mounted (RWO, ROX, RWX, RWOP).' },
    { name: 'StorageClass', type: 'string', description: 'StorageClass of the claim.' },
    { name: 'VolumeAttributesClass', type: 'string', description: 'VolumeAttributesClass of the claim.' },
    ageColumn,
    { name: 'VolumeMode', type: 'string', priority: 1, description: 'Filesystem or Block.' },
  ],
  row(o, now) {
    const pvc = o as PersistentVolumeClaim;
    const spec = pvc.spec ?? {};
    const phase = pvc.metadata.deletionTimestamp ? 'Terminating' : (pvc.status?.phase ?? '');
    const bound = !!spec.volumeName;
    return [
      pvc.metadata.name,
      phase,
      spec.volumeName ?? '',
      bound ? quantityText(pvc.status?.capacity?.storage) : '',
      bound ? accessModesText(pvc.status?.accessModes) : '',
      pvc.metadata.annotations?.[betaStorageClassAnnotation] ?? spec.storageClassName ?? '',
      spec.volumeAttributesClassName || '<unset>',
      age(pvc.metadata.creationTimestamp, now),
      spec.volumeMode ?? '<unset>',
    ];
  },
});
