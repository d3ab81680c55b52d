/**
 * How pods are written onto runtime objects, with upstream's names (kubelet's
 * kuberuntime labels and dockershim's naming), so that `docker ps` reads the same as on a
 * Kubernetes node and a restarted kubelet can adopt what runs:
 *
 *   name    k8s_POD_<pod>_<namespace>_<uid>_<attempt>              (sandbox)
 *           k8s_<container>_<pod>_<namespace>_<uid>_<restartCount>  (container)
 *   labels  io.kubernetes.pod.uid / .namespace / .name
 *           io.kubernetes.container.name   (POD for the sandbox)
 *           io.kubernetes.docker.type      podsandbox | container
 *           io.kubernetes.sandbox.id       (containers)
 *           annotation.<key>               annotations, e.g. annotation.io.kubernetes.container.restartCount
 */
import type { ContainerConfig, ContainerMetadata, PodSandboxMetadata, SandboxConfig } from './runtime.js';

export const podUIDLabel = 'io.kubernetes.pod.uid';
export const podNamespaceLabel = 'io.kubernetes.pod.namespace';
export const podNameLabel = 'io.kubernetes.pod.name';
export const containerNameLabel = 'io.kubernetes.container.name';
export const containerTypeLabel = 'io.kubernetes.docker.type';
export const sandboxIdLabel = 'io.kubernetes.sandbox.id';
export const containerTypeSandbox = 'podsandbox';
export const containerTypeContainer = 'container';
/** The container name a sandbox carries. */
export const sandboxContainerName = 'POD';
/** Annotations live in labels under this prefix (as dockershim kept them). */
export const annotationLabelPrefix = 'annotation.';
export const restartCountAnnotation = 'io.kubernetes.container.restartCount';
export const sandboxAttemptAnnotation = 'io.kubernetes.pod.sandboxAttempt';

const namePrefix = 'k8s';

/** Docker container name of a sandbox. */
export function sandboxRuntimeName(m: PodSandboxMetadata): string {
  return [namePrefix, sandboxContainerName, m.name, m.namespace, m.uid, String(m.attempt)].join('_');
}

/** Docker container name of an app container. */
export function containerRuntimeName(pod: PodSandboxMetadata, c: ContainerMetadata): string {
  return [namePrefix, c.name, pod.name, pod.namespace, pod.uid, String(c.attempt)].join('_');
}

/**
 * Reads a name written by the functions above; undefined for names that are not ours. Pod,
 * namespace and container names cannot contain '_' (they are DNS labels/subdomains), which is
 * what makes the split safe.
 */
export function parseRuntimeName(name: string): { container: string; pod: string; namespace: string; uid: string; attempt: number } | undefined {
  const parts = name.replace(/^\//, '').split('_');
  if (parts.length !== 6 || parts[0] !== namePrefix || !/^\d+$/.test(parts[5]!)) return undefined;
  return { container: parts[1]!, pod: parts[2]!, namespace: parts[3]!, uid: parts[4]!, attempt: Number(parts[5]) };
}

function annotationLabels(annotations: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(annotations ?? {})) out[annotationLabelPrefix + k] = v;
  return out;
}

/** Labels of a sandbox: the pod's labels, its annotations, then ours (ours win). */
export function sandboxLabels(config: SandboxConfig): Record<string, string> {
  const m = config.metadata;
  return {
    ...(config.labels ?? {}),
    ...annotationLabels({ ...(config.annotations ?? {}), [sandboxAttemptAnnotation]: String(m.attempt) }),
    [podUIDLabel]: m.uid,
    [podNamespaceLabel]: m.namespace,
    [podNameLabel]: m.name,
    [containerNameLabel]: sandboxContainerName,
    [containerTypeLabel]: containerTypeSandbox,
  };
}

/** Labels of an app container in `sandboxId`. */
export function containerLabels(pod: PodSandboxMetadata, sandboxId: string, config: ContainerConfig): Record<string, string> {
  return {
    ...(config.labels ?? {}),
    ...annotationLabels({ ...(config.annotations ?? {}), [restartCountAnnotation]: String(config.metadata.attempt) }),
    [podUIDLabel]: pod.uid,
    [podNamespaceLabel]: pod.namespace,
    [podNameLabel]: pod.name,
    [containerNameLabel]: config.metadata.name,
    [containerTypeLabel]: containerTypeContainer,
    [sandboxIdLabel]: sandboxId,
  };
}

/** Splits runtime labels into labels and annotations (the `annotation.` ones, prefix removed). */
export function splitLabels(raw: Record<string, string> | undefined): { labels: Record<string, string>; annotations: Record<string, string> } {
  const labels: Record<string, string> = {};
  const annotations: Record<string, string> = {};
  for (const [k, v] of Object.entries(raw ?? {})) {
    if (k.startsWith(annotationLabelPrefix)) annotations[k.slice(annotationLabelPrefix.length)] = v;
    else labels[k] = v;
  }
  return { labels, annotations };
}

/** Pod metadata of a sandbox from its labels (and name, for the attempt). */
export function sandboxMetadataFrom(raw: Record<string, string>, runtimeName?: string): PodSandboxMetadata {
  const attempt = raw[annotationLabelPrefix + sandboxAttemptAnnotation] ?? (runtimeName ? String(parseRuntimeName(runtimeName)?.attempt ?? 0) : '0');
  return { uid: raw[podUIDLabel] ?? '', namespace: raw[podNamespaceLabel] ?? '', name: raw[podNameLabel] ?? '', attempt: Number(attempt) || 0 };
}

/** Container metadata (name in the pod, restart count) from its labels. */
export function containerMetadataFrom(raw: Record<string, string>, runtimeName?: string): ContainerMetadata {
  const attempt = raw[annotationLabelPrefix + restartCountAnnotation] ?? (runtimeName ? String(parseRuntimeName(runtimeName)?.attempt ?? 0) : '0');
  return { name: raw[containerNameLabel] ?? '', attempt: Number(attempt) || 0 };
}
