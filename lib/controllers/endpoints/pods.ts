/**
 * What a Service's selector makes of a pod, shared by the Endpoints and EndpointSlice
 * controllers: whether the pod belongs in the endpoints at all, whether it is ready, which
 * port a service port lands on in this pod, and the DNS host name it publishes.
 */
import type { Pod, Service, ServicePort } from '../../api/index.js';
import { selectorFromSet } from '../../machinery/index.js';
import type { Lister } from '../../client/index.js';

/** True when the pod's Ready condition is True. */
export function isPodReady(pod: Pod): boolean {
  return (pod.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Succeeded or Failed: the pod will never run again. */
export function isPodTerminal(pod: Pod): boolean {
  return pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';
}

/**
 * Upstream's ShouldPodBeInEndpoints: a pod is a backend once it has an IP and until it is
 * terminal; a pod being deleted only when `includeTerminating` (EndpointSlices report such
 * pods with `terminating: true`; Endpoints keep them only for publishNotReadyAddresses).
 */
export function shouldPodBeInEndpoints(pod: Pod, includeTerminating: boolean): boolean {
  if (isPodTerminal(pod)) return false;
  if (!pod.status?.podIP && !(pod.status?.podIPs ?? []).length) return false;
  if (!includeTerminating && pod.metadata.deletionTimestamp) return false;
  return true;
}

/** The pod's IPv4 address (the only family tkube services use). */
export function podIPv4(pod: Pod): string | undefined {
  const all = [pod.status?.podIP, ...(pod.status?.podIPs ?? []).map((p) => p.ip)].filter((x): x is string => !!x);
  return all.find((ip) => !ip.includes(':'));
}

/**
 * The port a service port reaches on this pod: a number as is, a name looked up among the
 * containers' ports with the service port's protocol. Undefined when the pod has no such
 * named port (the pod is then left out for that port, as upstream).
 */
export function findPort(pod: Pod, sp: ServicePort): number | undefined {
  const target = sp.targetPort ?? sp.port;
  if (typeof target === 'number') return target;
  if (/^\d+$/.test(target)) return Number(target);
  const protocol = sp.protocol ?? 'TCP';
  for (const c of pod.spec?.containers ?? []) {
    for (const p of c.ports ?? []) {
      if (p.name === target && (p.protocol ?? 'TCP') === protocol) return p.containerPort;
    }
  }
  return undefined;
}

/** The host name a pod publishes for a service: its spec.hostname when its subdomain is the service. */
export function hostnameFor(pod: Pod, svc: Service): string | undefined {
  const h = pod.spec?.hostname;
  if (h && pod.spec?.subdomain === svc.metadata.name && pod.metadata.namespace === svc.metadata.namespace) return h;
  return undefined;
}

/** A service whose endpoints the controllers manage: it has a selector and is not the API server's own. */
export function isManagedService(svc: Service): boolean {
  const sel = svc.spec?.selector;
  if (!sel || Object.keys(sel).length === 0) return false;
  if (svc.spec?.type === 'ExternalName') return false;
  if (svc.metadata.namespace === 'default' && svc.metadata.name === 'kubernetes') return false;
  return true;
}

export function isHeadless(svc: Service): boolean {
  return svc.spec?.clusterIP === 'None';
}

/** The pods a service selects, from the pod cache. */
export function podsForService(pods: Lister<Pod>, svc: Service): Pod[] {
  return pods.namespace(svc.metadata.namespace!).list(selectorFromSet(svc.spec?.selector));
}

/** `namespace/name` of every service (in the pod's namespace) whose selector matches these labels. */
export function servicesSelecting(services: Lister<Service>, namespace: string, labels: Record<string, string> | undefined): string[] {
  const out: string[] = [];
  for (const svc of services.namespace(namespace).list()) {
    const sel = svc.spec?.selector;
    if (!sel || Object.keys(sel).length === 0) continue;
    if (selectorFromSet(sel).matches(labels)) out.push(`${namespace}/${svc.metadata.name}`);
  }
  return out;
}

/**
 * Whether a pod change can change the endpoints: its labels, IP, readiness, phase, deletion,
 * node, host name or container ports.
 */
export function podChangeMatters(oldPod: Pod, newPod: Pod): boolean {
  if (oldPod.metadata.resourceVersion === newPod.metadata.resourceVersion) return false;
  const view = (p: Pod) =>
    JSON.stringify([
      p.metadata.labels,
      p.metadata.deletionTimestamp,
      p.status?.podIP,
      p.status?.podIPs,
      p.status?.phase,
      isPodReady(p),
      p.spec?.nodeName,
      p.spec?.hostname,
      p.spec?.subdomain,
      (p.spec?.containers ?? []).map((c) => c.ports),
    ]);
  return view(oldPod) !== view(newPod);
}
