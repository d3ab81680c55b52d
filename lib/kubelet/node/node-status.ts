/**
 * The Node object this kubelet registers and the status it reports (upstream's nodestatus
 * setters), from facts gathered elsewhere. Pure, so that each condition is unit-tested.
 *
 * Conditions:
 *   Ready               True (KubeletReady) once the runtime answers, the pod network is set up
 *                       and the pod lifecycle relist is healthy; else False (KubeletNotReady)
 *   MemoryPressure      memory.available < 100Mi
 *   DiskPressure        nodefs.available < 10% or imagefs.available < 15%
 *   PIDPressure         (no default threshold upstream: False)
 *   NetworkUnavailable  True until the node has its podCIDR and the bridge is set up
 */
import type { Node, NodeCondition, Taint } from '../../api/index.js';
import type { ImageInfo } from '../runtime/index.js';
import type { MachineInfo, PressureReport } from './machine-info.js';

type NodeStatus = NonNullable<Node['status']>;

/** Images listed in the node status, largest first (upstream's cap). */
export const maxImagesInNodeStatus = 50;

export interface NodeStatusInputs {
  machine: MachineInfo;
  maxPods: number;
  nodeIP: string;
  hostname: string;
  kubeletPort: number;
  kubeletVersion: string;
  /** docker://20.10.24 */
  containerRuntimeVersion: string;
  images: readonly ImageInfo[];
  pressure: PressureReport;
  runtimeReady: boolean;
  runtimeMessage?: string;
  networkReady: boolean;
  networkMessage?: string;
  plegHealthy: boolean;
  now: number;
  /** The status the API server holds, for transition times and conditions of other writers. */
  old?: NodeStatus;
}

function ki(bytes: number): string {
  return `${Math.floor(bytes / 1024)}Ki`;
}

export function nodeCapacity(i: Pick<NodeStatusInputs, 'machine' | 'maxPods' | 'pressure'>): { capacity: Record<string, string>; allocatable: Record<string, string> } {
  const capacity: Record<string, string> = { cpu: String(i.machine.cpus), memory: ki(i.machine.memoryBytes), pods: String(i.maxPods), 'hugepages-2Mi': '0', 'hugepages-1Gi': '0' };
  // Allocatable holds back what the hard eviction thresholds keep free.
  const allocatable: Record<string, string> = { ...capacity, memory: ki(Math.max(0, i.machine.memoryBytes - 100 * 1024 * 1024)) };
  if (i.pressure.nodefs) {
    capacity['ephemeral-storage'] = ki(i.pressure.nodefs.capacityBytes);
    allocatable['ephemeral-storage'] = String(Math.floor(i.pressure.nodefs.capacityBytes * 0.9));
  }
  return { capacity, allocatable };
}

function rfc3339(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

interface CondSpec {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
}

export function nodeConditionSpecs(i: NodeStatusInputs): CondSpec[] {
  const p = i.pressure;
  const problems: string[] = [];
  if (!i.runtimeReady) problems.push(`container runtime is down: ${i.runtimeMessage ?? 'no answer'}`);
  if (!i.networkReady) problems.push(`container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady message:${i.networkMessage ?? 'the pod network is not set up'}`);
  if (!i.plegHealthy) problems.push('PLEG is not healthy: the last relist of the container runtime is too old');
  return [
    p.memoryPressure
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    p.diskPressure
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    p.pidPressure
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    problems.length
      ? { type: 'Ready', status: 'False', reason: 'KubeletNotReady', message: problems.join(', ') }
      : { type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status' },
    i.networkReady
      ? { type: 'NetworkUnavailable', status: 'False', reason: 'RouteCreated', message: 'tkube-kubelet set up the pod network for the node podCIDR' }
      : { type: 'NetworkUnavailable', status: 'True', reason: 'NoRouteCreated', message: i.networkMessage ?? 'the node has no podCIDR yet' },
  ];
}

/** The node status to report. Heartbeat times are `now`; transition times carry over while a status holds. */
export function buildNodeStatus(i: NodeStatusInputs): NodeStatus {
  const now = rfc3339(i.now);
  const conditions: NodeCondition[] = nodeConditionSpecs(i).map((c) => {
    const o = i.old?.conditions?.find((x) => x.type === c.type);
    return { ...c, lastHeartbeatTime: now, lastTransitionTime: o && o.status === c.status && o.lastTransitionTime ? o.lastTransitionTime : now };
  });
  for (const o of i.old?.conditions ?? []) if (!conditions.some((c) => c.type === o.type)) conditions.push(o);
  const images = [...i.images]
    .sort((a, b) => b.sizeBytes - a.sizeBytes)
    .slice(0, maxImagesInNodeStatus)
    .map((img) => ({ names: [...img.repoDigests, ...img.repoTags], sizeBytes: img.sizeBytes }))
    .filter((img) => img.names.length > 0);
  const { capacity, allocatable } = nodeCapacity(i);
  return {
    capacity,
    allocatable,
    conditions,
    addresses: [
      { type: 'InternalIP', address: i.nodeIP },
      { type: 'Hostname', address: i.hostname },
    ],
    daemonEndpoints: { kubeletEndpoint: { Port: i.kubeletPort } },
    nodeInfo: {
      machineID: i.machine.machineID,
      systemUUID: i.machine.systemUUID,
      bootID: i.machine.bootID,
      kernelVersion: i.machine.kernelVersion,
      osImage: i.machine.osImage,
      containerRuntimeVersion: i.containerRuntimeVersion,
      kubeletVersion: i.kubeletVersion,
      kubeProxyVersion: '',
      operatingSystem: i.machine.operatingSystem,
      architecture: i.machine.architecture,
    },
    images,
  };
}

/** Two statuses are the same report when they differ only in heartbeat times. */
export function nodeStatusChanged(a: NodeStatus | undefined, b: NodeStatus): boolean {
  const strip = (s: NodeStatus | undefined) =>
    JSON.stringify({ ...(s ?? {}), conditions: (s?.conditions ?? []).map(({ lastHeartbeatTime: _h, ...c }) => c).sort((x, y) => x.type.localeCompare(y.type)) });
  return strip(a) !== strip(b);
}

/** `key=value:Effect` or `key:Effect` (--register-with-taints). */
export function parseTaint(s: string): Taint {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(s.trim());
  if (!m) throw new Error(`invalid taint "${s}": expected key=value:Effect or key:Effect, with Effect NoSchedule, PreferNoSchedule or NoExecute`);
  return { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] as Taint['effect'] };
}

/** The Node object a kubelet registers. */
export function initialNode(name: string, labels: Record<string, string>, taints: Taint[], arch: string): Node {
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': arch,
        'beta.kubernetes.io/os': 'linux',
        'beta.kubernetes.io/arch': arch,
        ...labels,
      },
      annotations: { 'node.alpha.kubernetes.io/ttl': '0', 'volumes.kubernetes.io/controller-managed-attach-detach': 'true' },
    },
    spec: taints.length ? { taints } : {},
  };
}
