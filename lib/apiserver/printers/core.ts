/** Printers for core/v1 kinds, with upstream's column names. */
import type { KubeObject, Pod, ContainerStatus } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter, humanDuration } from './table.js';

/** The STATUS column of a pod, as kubectl computes it (reason of the most telling container). */
export function podStatusReason(pod: Pod): string {
  let reason: string = pod.status?.phase ?? 'Unknown';
  if (pod.status?.reason) reason = pod.status.reason;
  const initStatuses = pod.status?.initContainerStatuses ?? [];
  const nInit = pod.spec?.initContainers?.length ?? 0;
  let initializing = false;
  for (let i = 0; i < initStatuses.length; i++) {
    const s = initStatuses[i]!;
    const isSidecar = pod.spec?.initContainers?.[i]?.restartPolicy === 'Always';
    const t = s.state?.terminated;
    if (t && t.exitCode === 0) continue;
    if (isSidecar && s.started) continue;
    if (t) {
      reason = t.reason ? `Init:${t.reason}` : t.signal ? `Init:Signal:${t.signal}` : `Init:ExitCode:${t.exitCode}`;
    } else if (s.state?.waiting?.reason && s.state.waiting.reason !== 'PodInitializing') {
      reason = `Init:${s.state.waiting.reason}`;
    } else {
      reason = `Init:${i}/${nInit}`;
    }
    initializing = true;
    break;
  }
  if (!initializing) {
    let hasRunning = false;
    const statuses = pod.status?.containerStatuses ?? [];
    for (let i = statuses.length - 1; i >= 0; i--) {
      const s = statuses[i]!;
      if (s.state?.waiting?.reason) reason = s.state.waiting.reason;
      else if (s.state?.terminated) reason = s.state.terminated.reason ?? (s.state.terminated.signal ? `Signal:${s.state.terminated.signal}` : `ExitCode:${s.state.terminated.exitCode}`);
      else if (s.ready && s.state?.running) hasRunning = true;
    }
    if (reason === 'Completed' && hasRunning) reason = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ? 'Running' : 'NotReady';
  }
  if (pod.metadata.deletionTimestamp && pod.status?.reason === 'NodeLost') reason = 'Unknown';
  else if (pod.metadata.deletionTimestamp && reason !== 'Completed' && reason !== 'Error') reason = 'Terminating';
  return reason;
}

function restarts(statuses: ContainerStatus[] | undefined, now: number): string {
  let n = 0;
  let last: number | undefined;
  for (const s of statuses ?? []) {
    n += s.restartCount ?? 0;
    const t = s.lastState?.terminated?.finishedAt;
    if (t && (!last || Date.parse(t) > last)) last = Date.parse(t);
  }
  return last !== undefined && n > 0 ? `${n} (${humanDuration(now - last)} ago)` : String(n);
}

registerPrinter('', 'pods', {
  columns: [
    nameColumn,
    { name: 'Ready', type: 'string', description: 'The aggregate readiness state of this pod for accepting traffic.' },
    { name: 'Status', type: 'string', description: 'The aggregate status of the containers in this pod.' },
    { name: 'Restarts', type: 'string', description: 'The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.' },
    ageColumn,
    { name: 'IP', type: 'string', priority: 1, description: 'The IP address assigned to the pod.' },
    { name: 'Node', type: 'string', priority: 1, description: 'The node the pod is bound to.' },
    { name: 'Nominated Node', type: 'string', priority: 1, description: 'The node the pod is nominated to run on after preemption.' },
    { name: 'Readiness Gates', type: 'string', priority: 1, description: 'The readiness gates of the pod and how many of them pass.' },
  ],
  row(o: KubeObject, now) {
    const pod = o as Pod;
    const total = pod.spec?.containers?.length ?? 0;
    const ready = (pod.status?.containerStatuses ?? []).filter((s) => s.ready).length;
    const gates = pod.spec?.readinessGates ?? [];
    const gatesText = gates.length
      ? `${gates.filter((g) => pod.status?.conditions?.some((c) => c.type === g.conditionType && c.status === 'True')).length}/${gates.length}`
      : '<none>';
    return [
      pod.metadata.name,
      `${ready}/${total}`,
      podStatusReason(pod),
      restarts(pod.status?.containerStatuses, now),
      age(pod.metadata.creationTimestamp, now),
      pod.status?.podIP || '<none>',
      pod.spec?.nodeName || '<none>',
      pod.status?.nominatedNodeName || '<none>',
      gatesText,
    ];
  },
});
