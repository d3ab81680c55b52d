/**
 * Pod volumes on the node. Each volume of a pod becomes a folder (or, for hostPath, a path of
 * the host) that the containers bind-mount:
 *
 *   <root-dir>/pods/<uid>/volumes/kubernetes.io~empty-dir/<name>     emptyDir (Memory: a tmpfs)
 *                                 kubernetes.io~configmap/<name>     atomic writer folders
 *                                 kubernetes.io~secret/<name>
 *                                 kubernetes.io~downward-api/<name>
 *                                 kubernetes.io~projected/<name>
 *
 * A persistentVolumeClaim volume is the path of the PersistentVolume its claim is bound to
 * (hostPath and local volumes: tkube has no attachable storage); an ephemeral volume is the
 * same through the claim `<pod>-<volume>` made for the pod.
 *
 * `setUpPod` is called on every sync of a running pod: it is idempotent, and it rewrites the
 * contents of configMap, secret, downwardAPI and projected volumes when their sources changed
 * (the atomic writer writes nothing when they did not). `tearDownPod` unmounts and removes the
 * pod's folder once the pod is gone. The pod worker serialises calls for one pod.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { ConfigMap, PersistentVolume, PersistentVolumeClaim, Pod, Secret, Volume } from '../../api/index.js';
import type { KeyToPath, ServiceAccountTokenProjection } from '../api-types.js';
import { ephemeralClaimMismatch, ephemeralClaimName, quantityToNumber } from '../../api/index.js';
import { containerResourceValue, podFieldValue } from '../env.js';
import { writeAtomically, WrittenVersions, type Payload } from './atomic-writer.js';
import type { Mounter } from './mounter.js';

/** What a volume is on the node, ready to be bind-mounted. */
export interface MountedVolume {
  name: string;
  /** emptyDir, hostPath, configMap, ... (the API's field name). */
  kind: string;
  hostPath: string;
  /** Volumes whose contents the kubelet writes are mounted read-only. */
  readOnly: boolean;
}

/** A volume that could not be set up; the message is the FailedMount event text. */
export class VolumeMountError extends Error {
  override readonly name = 'VolumeMountError';
  constructor(
    readonly volume: string,
    readonly detail: string,
    options?: { cause?: unknown },
  ) {
    super(`MountVolume.SetUp failed for volume "${volume}" : ${detail}`, options);
  }
}

/**
 * The hook for projected serviceAccountToken sources (bound service account tokens). The
 * default one asks the API server's TokenRequest API (serviceaccounts/<name>/token).
 */
export interface ServiceAccountTokenProvider {
  token(pod: Pod, serviceAccountName: string, projection: ServiceAccountTokenProjection): Promise<string>;
}

export interface VolumeManagerOptions {
  rootDir: string;
  mounter: Mounter;
  log: Logger;
  getConfigMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  getSecret(namespace: string, name: string): Promise<Secret | undefined>;
  /** For persistentVolumeClaim volumes: the claim, then the volume it is bound to (read afresh). */
  getPersistentVolumeClaim?(namespace: string, name: string): Promise<PersistentVolumeClaim | undefined>;
  getPersistentVolume?(name: string): Promise<PersistentVolume | undefined>;
  tokenProvider?: ServiceAccountTokenProvider;
  /** Node allocatable, for downward API resource values of containers without limits. */
  nodeAllocatable(): Record<string, string>;
  nodeName: string;
}

const pluginDirs: Record<string, string> = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
};

/** The volume source a volume uses (its one set field other than name). */
export function volumeKind(v: Volume): string {
  return Object.keys(v).find((k) => k !== 'name' && (v as Record<string, unknown>)[k] !== undefined) ?? 'emptyDir';
}

/** The ConfigMaps and Secrets (`namespace/name`) a pod's volumes, env and pull secrets read. */
export function podObjectReferences(pod: Pod): { configMaps: Set<string>; secrets: Set<string> } {
  const ns = pod.metadata.namespace ?? 'default';
  const configMaps = new Set<string>();
  const secrets = new Set<string>();
  const cm = (n?: string) => n && configMaps.add(`${ns}/${n}`);
  const sec = (n?: string) => n && secrets.add(`${ns}/${n}`);
  for (const v of pod.spec?.volumes ?? []) {
    cm(v.configMap?.name);
    sec(v.secret?.secretName);
    for (const s of v.projected?.sources ?? []) {
      cm(s.configMap?.name);
      sec(s.secret?.name);
    }
  }
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? []), ...(pod.spec?.ephemeralContainers ?? [])]) {
    for (const e of c.envFrom ?? []) {
      cm(e.configMapRef?.name);
      sec(e.secretRef?.name);
    }
    for (const e of c.env ?? []) {
      cm(e.valueFrom?.configMapKeyRef?.name);
      sec(e.valueFrom?.secretKeyRef?.name);
    }
  }
  for (const s of pod.spec?.imagePullSecrets ?? []) sec(s.name);
  return { configMaps, secrets };
}

function b64(s: string): Buffer {
  return Buffer.from(s, 'base64');
}

export class VolumeManager {
  private readonly written = new WrittenVersions();
  /**
   * The host path of each claim volume set up (`<pod uid>/<volume>`): a binding does not move
   * while the pod runs, so later syncs of the pod do not read the claim and volume again.
   */
  private readonly claimPaths = new Map<string, string>();

  constructor(private readonly o: VolumeManagerOptions) {}

  podDir(uid: string): string {
    return path.join(this.o.rootDir, 'pods', uid);
  }

  volumeDir(uid: string, kind: string, name: string): string {
    return path.join(this.podDir(uid), 'volumes', pluginDirs[kind] ?? kind, name);
  }

  /** Sets up (or refreshes) every volume of the pod; rejects with the first VolumeMountError. */
  async setUpPod(pod: Pod): Promise<Map<string, MountedVolume>> {
    const uid = pod.metadata.uid ?? '';
    await fs.mkdir(path.join(this.podDir(uid), 'volumes'), { recursive: true, mode: 0o750 });
    const out = new Map<string, MountedVolume>();
    for (const v of pod.spec?.volumes ?? []) {
      const kind = volumeKind(v);
      try {
        out.set(v.name, await this.setUpVolume(pod, v, kind));
      } catch (err) {
        if (err instanceof VolumeMountError) throw err;
        throw new VolumeMountError(v.name, (err as Error).message, { cause: err });
      }
    }
    return out;
  }

  private async setUpVolume(pod: Pod, v: Volume, kind: string): Promise<MountedVolume> {
    const uid = pod.metadata.uid ?? '';
    const ns = pod.metadata.namespace ?? 'default';
    const dir = this.volumeDir(uid, kind, v.name);
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    const gid = fsGroup !== undefined ? Number(fsGroup) : undefined;
    switch (kind) {
      case 'emptyDir': {
        await fs.mkdir(dir, { recursive: true });
        // World-writable as upstream makes it, so that containers running as any user can use it.
        await fs.chmod(dir, 0o777);
        if (v.emptyDir?.medium === 'Memory') {
          const limit = v.emptyDir.sizeLimit !== undefined ? Math.floor(quantityToNumber(v.emptyDir.sizeLimit)) : undefined;
          await this.o.mounter.mountTmpfs(dir, limit && limit > 0 ? limit : undefined);
        } else if (v.emptyDir?.medium && v.emptyDir.medium !== '') {
          throw new VolumeMountError(v.name, `emptyDir medium ${v.emptyDir.medium} is not supported on this node (use "" or Memory)`);
        }
        if (gid !== undefined) await fs.chown(dir, 0, gid);
        return { name: v.name, kind, hostPath: dir, readOnly: false };
      }
      case 'hostPath':
        return { name: v.name, kind, hostPath: await checkHostPath(v.hostPath!.path, v.hostPath!.type ?? ''), readOnly: false };
      case 'persistentVolumeClaim':
      case 'ephemeral': {
        const key = `${uid}/${v.name}`;
        let hostPath = this.claimPaths.get(key);
        if (hostPath === undefined) {
          // An ephemeral volume's claim is the one the ephemeral volume controller made for the pod.
          hostPath = v.persistentVolumeClaim ? await this.claimPath(ns, v.name, v.persistentVolumeClaim.claimName) : await this.claimPath(ns, v.name, ephemeralClaimName(pod, v.name), pod);
          this.claimPaths.set(key, hostPath);
        }
        return { name: v.name, kind, hostPath, readOnly: !!v.persistentVolumeClaim?.readOnly };
      }
      case 'configMap': {
        const src = v.configMap!;
        const cm = await this.o.getConfigMap(ns, src.name ?? '');
        if (!cm && !src.optional) throw new VolumeMountError(v.name, `configmap "${src.name}" not found`);
        const payload = keysPayload(cmData(cm), src.items, src.defaultMode ?? 0o644, !!src.optional, (k) => `configmap references non-existent config key: ${k}`);
        await writeAtomically(dir, payload, { gid, written: this.written });
        return { name: v.name, kind, hostPath: dir, readOnly: true };
      }
      case 'secret': {
        const src = v.secret!;
        const s = await this.o.getSecret(ns, src.secretName ?? '');
        if (!s && !src.optional) throw new VolumeMountError(v.name, `secret "${src.secretName}" not found`);
        const payload = keysPayload(secretData(s), src.items, src.defaultMode ?? 0o644, !!src.optional, (k) => `references non-existent secret key: ${k}`);
        await writeAtomically(dir, payload, { gid, written: this.written });
        return { name: v.name, kind, hostPath: dir, readOnly: true };
      }
      case 'downwardAPI': {
        const payload: Payload = new Map();
        this.addDownward(pod, v.downwardAPI!.items ?? [], v.downwardAPI!.defaultMode ?? 0o644, payload);
        await writeAtomically(dir, payload, { gid, written: this.written });
        return { name: v.name, kind, hostPath: dir, readOnly: true };
      }
      case 'projected': {
        const src = v.projected!;
        const mode = src.defaultMode ?? 0o644;
        const payload: Payload = new Map();
        for (const s of src.sources ?? []) {
          if (s.configMap) {
            const cm = await this.o.getConfigMap(ns, s.configMap.name ?? '');
            if (!cm && !s.configMap.optional) throw new VolumeMountError(v.name, `configmap "${s.configMap.name}" not found`);
            for (const [k, f] of keysPayload(cmData(cm), s.configMap.items, mode, !!s.configMap.optional, (k) => `configmap references non-existent config key: ${k}`)) payload.set(k, f);
          } else if (s.secret) {
            const sec = await this.o.getSecret(ns, s.secret.name ?? '');
            if (!sec && !s.secret.optional) throw new VolumeMountError(v.name, `secret "${s.secret.name}" not found`);
            for (const [k, f] of keysPayload(secretData(sec), s.secret.items, mode, !!s.secret.optional, (k) => `references non-existent secret key: ${k}`)) payload.set(k, f);
          } else if (s.downwardAPI) {
            this.addDownward(pod, s.downwardAPI.items ?? [], mode, payload);
          } else if (s.serviceAccountToken) {
            if (!this.o.tokenProvider) throw new VolumeMountError(v.name, 'serviceAccountToken projections need a token provider, and none is configured');
            const sa = pod.spec?.serviceAccountName || pod.spec?.serviceAccount || 'default';
            const token = await this.o.tokenProvider.token(pod, sa, s.serviceAccountToken);
            payload.set(s.serviceAccountToken.path, { data: Buffer.from(token), mode });
          } else if (s.clusterTrustBundle) {
            throw new VolumeMountError(v.name, 'clusterTrustBundle projections are not supported on this node');
          }
        }
        await writeAtomically(dir, payload, { gid, written: this.written });
        return { name: v.name, kind, hostPath: dir, readOnly: true };
      }
      default:
        throw new VolumeMountError(v.name, `volume type ${kind} is not supported by tkube-kubelet (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected, persistentVolumeClaim, ephemeral)`);
    }
  }

  /** The host path behind a claim: its bound PersistentVolume's hostPath or local path. */
  private async claimPath(ns: string, volume: string, claimName: string, owner?: Pod): Promise<string> {
    const pvc = await this.o.getPersistentVolumeClaim?.(ns, claimName);
    if (!pvc) throw new VolumeMountError(volume, `persistentvolumeclaim "${claimName}" not found`);
    const notOwned = owner && ephemeralClaimMismatch(owner, pvc);
    if (notOwned) throw new VolumeMountError(volume, notOwned);
    if (pvc.metadata.deletionTimestamp) throw new VolumeMountError(volume, `persistentvolumeclaim "${claimName}" is being deleted`);
    const pvName = pvc.spec?.volumeName ?? '';
    if (!pvName || pvc.status?.phase !== 'Bound') {
      throw new VolumeMountError(volume, `PVC ${ns}/${claimName} has non-bound phase (${JSON.stringify(pvc.status?.phase ?? '')}) or empty pvc.Spec.VolumeName (${JSON.stringify(pvName)})`);
    }
    const pv = await this.o.getPersistentVolume?.(pvName);
    if (!pv) throw new VolumeMountError(volume, `persistentvolume "${pvName}" not found`);
    if (pv.spec?.claimRef?.uid !== pvc.metadata.uid) throw new VolumeMountError(volume, `persistentvolume "${pvName}" is not bound to claim ${ns}/${claimName}`);
    if (pv.spec?.hostPath) return checkHostPath(pv.spec.hostPath.path, pv.spec.hostPath.type ?? '');
    if (pv.spec?.local) {
      const st = await fs.stat(pv.spec.local.path).catch(() => undefined);
      if (!st) throw new VolumeMountError(volume, `local volume path ${pv.spec.local.path} of persistentvolume "${pvName}" does not exist on this node`);
      return pv.spec.local.path;
    }
    const source = Object.keys(pv.spec ?? {}).find((k) => !['capacity', 'accessModes', 'claimRef', 'persistentVolumeReclaimPolicy', 'storageClassName', 'mountOptions', 'volumeMode', 'nodeAffinity', 'volumeAttributesClassName'].includes(k));
    throw new VolumeMountError(volume, `persistentvolume "${pvName}" is a ${source ?? 'sourceless'} volume; tkube-kubelet mounts hostPath and local volumes only`);
  }

  private addDownward(pod: Pod, items: NonNullable<NonNullable<Volume['downwardAPI']>['items']>, defaultMode: number, payload: Payload): void {
    const containers = [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])];
    for (const item of items) {
      let value = '';
      if (item.fieldRef) value = podFieldValue(pod, item.fieldRef.fieldPath ?? '', { podIPs: [], hostIPs: [], nodeName: this.o.nodeName });
      else if (item.resourceFieldRef) {
        const c = containers.find((x) => x.name === item.resourceFieldRef!.containerName);
        if (!c) throw new Error(`downwardAPI item ${item.path}: container "${item.resourceFieldRef.containerName ?? ''}" is not in the pod`);
        value = containerResourceValue(c, item.resourceFieldRef.resource ?? '', item.resourceFieldRef.divisor, this.o.nodeAllocatable());
      }
      payload.set(item.path, { data: Buffer.from(value), mode: item.mode ?? defaultMode });
    }
  }

  /** Unmounts what the pod's volumes mounted and removes the pod's folder. Idempotent. */
  async tearDownPod(uid: string): Promise<void> {
    this.written.forgetUnder(this.podDir(uid));
    for (const key of this.claimPaths.keys()) if (key.startsWith(`${uid}/`)) this.claimPaths.delete(key);
    const emptyDirs = path.join(this.podDir(uid), 'volumes', pluginDirs.emptyDir!);
    for (const name of await fs.readdir(emptyDirs).catch(() => [] as string[])) await this.o.mounter.unmount(path.join(emptyDirs, name));
    await fs.rm(this.podDir(uid), { recursive: true, force: true });
  }

  /** Pod uids that have a folder on this node (to find what is left of pods that are gone). */
  async podsOnDisk(): Promise<string[]> {
    return fs.readdir(path.join(this.o.rootDir, 'pods')).catch(() => [] as string[]);
  }
}

function cmData(cm: ConfigMap | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(cm?.data ?? {})) out.set(k, Buffer.from(v));
  for (const [k, v] of Object.entries(cm?.binaryData ?? {})) out.set(k, b64(v));
  return out;
}

function secretData(s: Secret | undefined): Map<string, Buffer> {
  return new Map(Object.entries(s?.data ?? {}).map(([k, v]) => [k, b64(v)]));
}

/** Files from the keys of a ConfigMap or Secret: every key, or the listed items at their paths. */
function keysPayload(data: Map<string, Buffer>, items: KeyToPath[] | undefined, defaultMode: number, optional: boolean, missing: (k: string) => string): Payload {
  const payload: Payload = new Map();
  if (!items?.length) {
    for (const [k, v] of data) payload.set(k, { data: v, mode: defaultMode });
    return payload;
  }
  for (const it of items) {
    const v = data.get(it.key);
    if (v === undefined) {
      if (optional) continue;
      throw new Error(missing(it.key));
    }
    payload.set(it.path, { data: v, mode: it.mode ?? defaultMode });
  }
  return payload;
}

/** Checks (and for the *OrCreate types, creates) a hostPath as its type asks; returns the path. */
export async function checkHostPath(p: string, type: string): Promise<string> {
  const st = await fs.stat(p).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  const fail = (what: string) => new Error(`hostPath type check failed: ${p} is not ${what}`);
  switch (type) {
    case '':
      return p;
    case 'DirectoryOrCreate':
      if (!st) {
        await fs.mkdir(p, { recursive: true, mode: 0o755 });
        return p;
      }
      if (!st.isDirectory()) throw fail('a directory');
      return p;
    case 'Directory':
      if (!st?.isDirectory()) throw fail('a directory');
      return p;
    case 'FileOrCreate':
      if (!st) {
        const fh = await fs.open(p, 'a', 0o644);
        await fh.close();
        return p;
      }
      if (!st.isFile()) throw fail('a file');
      return p;
    case 'File':
      if (!st?.isFile()) throw fail('a file');
      return p;
    case 'Socket':
      if (!st?.isSocket()) throw fail('a socket file');
      return p;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw fail('a character device');
      return p;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw fail('a block device');
      return p;
    default:
      throw new Error(`hostPath type ${type} is not known`);
  }
}
