/**
 * From a Pod to what the ContainerRuntime takes: the parts of the kubelet's "generate
 * container config" that only read the pod spec. Resolving env sources (ConfigMaps, Secrets,
 * downward API) and volumes to host paths needs the API and the volume manager, so the caller
 * passes their results in.
 */
import { quantityToNumber, type Container, type Pod, type PodSpec } from '../api/index.js';
import path from 'node:path';
import type { ContainerSecurity, LinuxResources, SandboxConfig, SeccompProfile } from './runtime/index.js';
import { oomScoreAdjMin } from './oom.js';

/** How the kubelet picks seccomp profiles (upstream's --seccomp-default and <root-dir>/seccomp). */
export interface SeccompSettings {
  /** A container that names no profile gets RuntimeDefault instead of Unconfined. */
  defaultToRuntimeDefault: boolean;
  /** Where Localhost profiles are looked up: <root-dir>/seccomp. */
  profileRoot: string;
}

/**
 * The profile of a container (or, without one, of the pod's sandbox), as upstream decides it:
 * the container's securityContext.seccompProfile, else the pod's, else Unconfined, or
 * RuntimeDefault when the kubelet runs with --seccomp-default. A Localhost profile is a file
 * under the kubelet's seccomp folder.
 */
export function seccompProfileFor(spec: PodSpec | undefined, container: Container | undefined, s: SeccompSettings): SeccompProfile {
  const p = container?.securityContext?.seccompProfile ?? spec?.securityContext?.seccompProfile;
  if (!p) return { type: s.defaultToRuntimeDefault ? 'RuntimeDefault' : 'Unconfined' };
  if (p.type === 'Localhost') return { type: 'Localhost', path: path.join(s.profileRoot, p.localhostProfile ?? '') };
  return { type: p.type };
}

/** Millicores of a cpu quantity, rounded up like upstream's MilliValue ("0.1" → 100, "1m" → 1). */
export function milliCPU(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  const n = quantityToNumber(q);
  return Number.isFinite(n) ? Math.ceil(n * 1000 - 1e-9) : undefined;
}

/** Bytes of a memory quantity ("64Mi" → 67108864). */
export function bytesOf(q: string | number | undefined): number | undefined {
  if (q === undefined) return undefined;
  const n = quantityToNumber(q);
  return Number.isFinite(n) ? Math.ceil(n) : undefined;
}

/**
 * The kernel's OOM score adjustment for a container, from the pod's QoS class (upstream's
 * policy), never below `floor`: the lowest value this node's kernel takes (see ./oom.ts).
 */
export function oomScoreAdjFor(qosClass: 'Guaranteed' | 'Burstable' | 'BestEffort', memoryRequestBytes: number | undefined, nodeMemoryBytes: number, floor = oomScoreAdjMin): number {
  if (qosClass === 'Guaranteed') return Math.max(floor, -997);
  if (qosClass === 'BestEffort') return 1000;
  // Burstable: the more memory a container asked for, the less likely it is killed first.
  const adj = 1000 - Math.floor((1000 * (memoryRequestBytes ?? 0)) / nodeMemoryBytes);
  return Math.max(floor, Math.min(999, Math.max(2, adj)));
}

/** CPU and memory settings of a container (requests default to limits, as API defaulting does). */
export function linuxResourcesFor(container: Container): LinuxResources {
  const lim = container.resources?.limits ?? {};
  const req = container.resources?.requests ?? {};
  const out: LinuxResources = {};
  const cpuReq = milliCPU(req.cpu ?? lim.cpu);
  const cpuLim = milliCPU(lim.cpu);
  const mem = bytesOf(lim.memory);
  if (cpuReq !== undefined) out.cpuRequestMilli = cpuReq;
  if (cpuLim !== undefined) out.cpuLimitMilli = cpuLim;
  if (mem !== undefined) out.memoryLimitBytes = mem;
  return out;
}

/** Merges the pod's and the container's security context; the container's fields win. */
export function containerSecurityFor(spec: PodSpec, container: Container, seccomp?: SeccompSettings): ContainerSecurity {
  const psc = spec.securityContext ?? {};
  const csc = container.securityContext ?? {};
  const out: ContainerSecurity = {};
  const user = csc.runAsUser ?? psc.runAsUser;
  const group = csc.runAsGroup ?? psc.runAsGroup;
  if (user !== undefined) out.runAsUser = Number(user);
  if (group !== undefined) out.runAsGroup = Number(group);
  const groups = [...(psc.supplementalGroups ?? []), ...(psc.fsGroup !== undefined ? [psc.fsGroup] : [])].map(Number);
  if (groups.length) out.supplementalGroups = [...new Set(groups)];
  if (csc.readOnlyRootFilesystem) out.readOnlyRootFilesystem = true;
  if (csc.privileged) out.privileged = true;
  if (csc.capabilities?.add?.length || csc.capabilities?.drop?.length) {
    out.capabilities = { ...(csc.capabilities.add?.length ? { add: [...csc.capabilities.add] } : {}), ...(csc.capabilities.drop?.length ? { drop: [...csc.capabilities.drop] } : {}) };
  }
  if (csc.allowPrivilegeEscalation === false) out.noNewPrivileges = true;
  if (seccomp) out.seccomp = seccompProfileFor(spec, container, seccomp);
  return out;
}

/**
 * Expands $(VAR) references from `env` the way Kubernetes does in command, args and env values:
 * $$ is a literal $, and a reference to an unknown variable is left as written.
 */
export function expandEnvReferences(s: string, env: ReadonlyMap<string, string>): string {
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!;
    if (ch !== '$' || i + 1 >= s.length) {
      out += ch;
      continue;
    }
    const next = s[i + 1]!;
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = s.indexOf(')', i + 2);
      if (close < 0) {
        out += s.slice(i);
        break;
      }
      const name = s.slice(i + 2, close);
      out += env.has(name) ? env.get(name)! : `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

/** The runtime's command and args: the container's, with $(VAR) expanded. */
export function commandFor(container: Container, env: ReadonlyMap<string, string>): { command?: string[]; args?: string[] } {
  const out: { command?: string[]; args?: string[] } = {};
  if (container.command?.length) out.command = container.command.map((c) => expandEnvReferences(c, env));
  if (container.args?.length) out.args = container.args.map((a) => expandEnvReferences(a, env));
  return out;
}

/** The sandbox of a pod for its `attempt`-th try (0 first). */
export function sandboxConfigFor(pod: Pod, attempt: number, seccomp?: SeccompSettings): SandboxConfig {
  const spec = pod.spec;
  const m = pod.metadata;
  const config: SandboxConfig = {
    metadata: { uid: m.uid ?? '', namespace: m.namespace ?? 'default', name: m.name ?? '', attempt },
    hostname: spec?.hostname || m.name || undefined,
    labels: { ...(m.labels ?? {}) },
    annotations: { ...(m.annotations ?? {}) },
  };
  if (spec?.hostNetwork) config.hostNetwork = true;
  if (spec?.hostPID) config.hostPID = true;
  if (spec?.hostIPC) config.hostIPC = true;
  if (spec?.shareProcessNamespace) config.shareProcessNamespace = true;
  const sysctls = spec?.securityContext?.sysctls ?? [];
  if (sysctls.length) config.sysctls = Object.fromEntries(sysctls.map((s) => [s.name, s.value]));
  if (seccomp) config.seccomp = seccompProfileFor(spec, undefined, seccomp);
  return config;
}
