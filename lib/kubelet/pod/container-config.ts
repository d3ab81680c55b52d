/**
 * From a container of the pod spec to the ContainerConfig the runtime takes (upstream's
 * generateContainerConfig): environment, mounts (with subPath resolved safely inside its
 * volume), the pod's hosts and resolv.conf files, the termination message file, resources,
 * security settings and the annotations a restarted kubelet reads back.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Container, Pod } from '../../api/index.js';
import { stableStringify } from '../../machinery/index.js';
import { type EnvResolveContext, resolveContainerEnv } from '../env.js';
import type { ContainerConfig, Mount } from '../runtime/index.js';
import { commandFor, containerSecurityFor, expandEnvReferences, linuxResourcesFor, oomScoreAdjFor, bytesOf, type SeccompSettings } from '../runtime-config.js';
import { resolveSubPath, SubPathError } from '../volumes/subpath.js';
import type { MountedVolume } from '../volumes/volume-manager.js';
import { podQOSClass } from './pod-status.js';

/** Annotations the kubelet keeps on each container (upstream's names). */
export const containerHashAnnotation = 'io.kubernetes.container.hash';
export const terminationMessagePathAnnotation = 'io.kubernetes.container.terminationMessagePath';
export const terminationMessagePolicyAnnotation = 'io.kubernetes.container.terminationMessagePolicy';
export const terminationGracePeriodAnnotation = 'io.kubernetes.pod.terminationGracePeriod';

/** Why a container cannot be configured: becomes CreateContainerConfigError (and FailedMount for subPath problems). */
export class ContainerConfigFailure extends Error {
  override readonly name = 'ContainerConfigFailure';
  constructor(
    message: string,
    readonly mountProblem = false,
  ) {
    super(message);
  }
}

/** A hash of the container's spec: a running container whose spec changed (a new image) is restarted. */
export function containerHash(c: Container): string {
  return createHash('sha256').update(stableStringify(c)).digest('hex').slice(0, 16);
}

const propagation: Record<string, Mount['propagation']> = { None: 'private', HostToContainer: 'rslave', Bidirectional: 'rshared' };

export interface ContainerConfigInputs {
  pod: Pod;
  container: Container;
  attempt: number;
  podDir: string;
  volumes: ReadonlyMap<string, MountedVolume>;
  env: EnvResolveContext;
  /** The pod's hosts and resolv.conf files, when the kubelet manages them. */
  hostsPath?: string;
  resolvConfPath?: string;
  hostnamePath?: string;
  nodeMemoryBytes: number;
  /** The lowest OOM score adjustment the kernel takes (default: no limit). */
  oomScoreAdjFloor?: number;
  /** Labels every runtime object of this node carries. */
  labels: Record<string, string>;
  /** How seccomp profiles are chosen; unset: the runtime's default for every container. */
  seccomp?: SeccompSettings;
}

export interface GeneratedConfig {
  config: ContainerConfig;
  warnings: string[];
}

export async function generateContainerConfig(i: ContainerConfigInputs): Promise<GeneratedConfig> {
  const { pod, container: c } = i;
  let resolved;
  try {
    resolved = await resolveContainerEnv(pod, c, i.env);
  } catch (err) {
    throw new ContainerConfigFailure((err as Error).message);
  }
  const envMap = new Map(resolved.env.map((e) => [e.name, e.value]));
  const mounts: Mount[] = [];
  for (const vm of c.volumeMounts ?? []) {
    const vol = i.volumes.get(vm.name);
    if (!vol) throw new ContainerConfigFailure(`cannot find volume "${vm.name}" to mount into container "${c.name}"`);
    let hostPath = vol.hostPath;
    const sub = vm.subPath || (vm.subPathExpr ? expandEnvReferences(vm.subPathExpr, envMap) : '');
    if (sub) {
      try {
        hostPath = await resolveSubPath(vol.hostPath, sub);
      } catch (err) {
        if (err instanceof SubPathError) throw new ContainerConfigFailure(`failed to prepare subPath for volumeMount "${vm.name}" of container "${c.name}": ${err.message}`, true);
        throw new ContainerConfigFailure(`failed to prepare subPath for volumeMount "${vm.name}" of container "${c.name}": ${(err as Error).message}`, true);
      }
    }
    const m: Mount = { hostPath, containerPath: vm.mountPath, readOnly: !!vm.readOnly || vol.readOnly };
    const prop = propagation[vm.mountPropagation ?? 'None'];
    if (prop && prop !== 'private') m.propagation = prop;
    mounts.push(m);
  }

  // The termination message: a file of its own per container instance, mounted where the spec says.
  const tmPath = c.terminationMessagePath ?? '/dev/termination-log';
  if (tmPath && !mounts.some((m) => m.containerPath === tmPath)) {
    const dir = path.join(i.podDir, 'containers', c.name);
    await fs.mkdir(dir, { recursive: true });
    const file = path.join(dir, `${i.attempt}-${Date.now().toString(36)}`);
    await fs.writeFile(file, '', { mode: 0o666 });
    await fs.chmod(file, 0o666);
    mounts.push({ hostPath: file, containerPath: tmPath });
  }

  const resources = linuxResourcesFor(c);
  const qos = pod.status?.qosClass ?? podQOSClass(pod.spec);
  resources.oomScoreAdj = oomScoreAdjFor(qos, bytesOf(c.resources?.requests?.memory), i.nodeMemoryBytes, i.oomScoreAdjFloor);
  const cmd = commandFor(c, envMap);
  const config: ContainerConfig = {
    metadata: { name: c.name, attempt: i.attempt },
    image: c.image ?? '',
    ...cmd,
    env: resolved.env,
    mounts,
    resources,
    security: containerSecurityFor(pod.spec!, c, i.seccomp),
    labels: { ...i.labels },
    annotations: {
      [containerHashAnnotation]: containerHash(c),
      [terminationMessagePathAnnotation]: tmPath,
      [terminationMessagePolicyAnnotation]: c.terminationMessagePolicy ?? 'File',
      [terminationGracePeriodAnnotation]: String(pod.spec?.terminationGracePeriodSeconds ?? 30),
    },
  };
  if (c.workingDir) config.workingDir = c.workingDir;
  if (i.hostsPath) config.hostsPath = i.hostsPath;
  if (i.resolvConfPath) config.resolvConfPath = i.resolvConfPath;
  if (i.hostnamePath) config.hostnamePath = i.hostnamePath;
  if (c.stdin) config.stdin = true;
  if (c.stdinOnce) config.stdinOnce = true;
  if (c.tty) config.tty = true;
  return { config, warnings: resolved.warnings };
}

/** Reads what an exited container left as its termination message (at most 4 KiB, as upstream). */
export async function readTerminationMessage(hostPath: string): Promise<string> {
  const fh = await fs.open(hostPath, 'r').catch(() => undefined);
  if (!fh) return '';
  try {
    const buf = Buffer.alloc(4096);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    return buf.subarray(0, bytesRead).toString();
  } finally {
    await fh.close();
  }
}
