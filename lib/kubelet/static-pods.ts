/**
 * Static pods: pods the kubelet runs from manifest files in --pod-manifest-path, without the
 * API server (how control planes bootstrap themselves). Each file holds one Pod (YAML or JSON).
 * The kubelet names it `<name>-<node>`, gives it a uid derived from its content (a changed file
 * is a new pod), and mirrors it into the API server as a *mirror pod* (annotation
 * kubernetes.io/config.mirror) so that kubectl sees it; the status goes to the mirror pod.
 *
 * Ownership: FileSource.start(signal) reads the folder now, on changes (fs.watch) and every
 * 20 seconds (upstream's file check frequency); the watcher and timer end with the signal.
 */
import { createHash } from 'node:crypto';
import fsSync from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { parse as parseYAML } from 'yaml';
import { defaultPodSpec, type Node, type Pod } from '../api/index.js';
import type { Clock } from '../base/index.js';
import { stableStringify } from '../machinery/index.js';

export const configSourceAnnotation = 'kubernetes.io/config.source';
export const configHashAnnotation = 'kubernetes.io/config.hash';
export const configSeenAnnotation = 'kubernetes.io/config.seen';
export const configMirrorAnnotation = 'kubernetes.io/config.mirror';

export const isMirrorPod = (pod: Pod) => !!pod.metadata.annotations?.[configMirrorAnnotation];
export const isStaticPod = (pod: Pod) => (pod.metadata.annotations?.[configSourceAnnotation] ?? 'api') === 'file';

/** Turns a parsed manifest into the static pod the kubelet runs; throws with what is wrong. */
export function staticPodFromManifest(obj: unknown, nodeName: string, file: string): Pod {
  const o = obj as Partial<Pod> | null;
  if (!o || typeof o !== 'object' || (o.kind !== undefined && o.kind !== 'Pod')) throw new Error(`${file}: not a Pod manifest (kind ${o?.kind ?? 'missing'})`);
  if (!o.metadata?.name) throw new Error(`${file}: metadata.name is required`);
  if (!o.spec?.containers?.length) throw new Error(`${file}: spec.containers must name at least one container`);
  for (const c of o.spec.containers) if (!c.name || !c.image) throw new Error(`${file}: every container needs a name and an image`);
  const pod = structuredClone(o) as Pod;
  pod.apiVersion = 'v1';
  pod.kind = 'Pod';
  const ns = pod.metadata.namespace || 'default';
  const hash = createHash('md5').update(nodeName).update('\0file\0').update(stableStringify(o)).digest('hex');
  pod.metadata = {
    ...pod.metadata,
    name: `${o.metadata.name}-${nodeName}`,
    namespace: ns,
    uid: hash,
    annotations: { ...(pod.metadata.annotations ?? {}), [configSourceAnnotation]: 'file', [configHashAnnotation]: hash },
  };
  delete pod.status;
  defaultPodSpec(pod.spec!);
  pod.spec!.nodeName = nodeName;
  // Static pods tolerate every NoExecute taint, as upstream makes them.
  pod.spec!.tolerations = [...(pod.spec!.tolerations ?? []), { operator: 'Exists', effect: 'NoExecute' }];
  return pod;
}

/** The mirror pod of a static pod: the same spec, owned by the Node, marked with the config hash. */
export function mirrorPodFor(staticPod: Pod, node: Pick<Node, 'metadata'>): Pod {
  const m = staticPod.metadata;
  const annotations = { ...(m.annotations ?? {}), [configMirrorAnnotation]: m.annotations?.[configHashAnnotation] ?? m.uid ?? '' };
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: m.name,
      namespace: m.namespace,
      labels: { ...(m.labels ?? {}) },
      annotations,
      ...(node.metadata.uid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.metadata.name ?? '', uid: node.metadata.uid, controller: true }] } : {}),
    },
    spec: structuredClone(staticPod.spec),
  };
}

export interface FileSourceOptions {
  dir: string;
  nodeName: string;
  log: Logger;
  clock: Clock;
  periodMs?: number;
  /** The set of static pods changed (called with all of them). */
  onChange(pods: Pod[]): void;
}

export class FileSource {
  private current = new Map<string, Pod>();
  private syncedResolve?: () => void;
  /** Resolves after the first read of the folder. */
  readonly synced: Promise<void>;

  constructor(private readonly o: FileSourceOptions) {
    this.synced = new Promise((r) => (this.syncedResolve = r));
  }

  pods(): Pod[] {
    return [...this.current.values()];
  }

  /** Reads the folder once; files that cannot be read or parsed are logged and skipped. */
  async read(): Promise<void> {
    const pods = new Map<string, Pod>();
    let names: string[] = [];
    try {
      names = (await fs.readdir(this.o.dir)).filter((n) => !n.startsWith('.')).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.o.log.warn({ err: (err as Error).message, dir: this.o.dir }, 'reading the static pod folder failed');
    }
    for (const name of names) {
      const file = path.join(this.o.dir, name);
      try {
        const st = await fs.stat(file);
        if (!st.isFile()) continue;
        const text = await fs.readFile(file, 'utf8');
        const pod = staticPodFromManifest(parseYAML(text), this.o.nodeName, file);
        pods.set(pod.metadata.uid!, pod);
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message, file }, 'static pod manifest skipped');
      }
    }
    const changed = pods.size !== this.current.size || [...pods.keys()].some((k) => !this.current.has(k));
    if (changed) {
      // Keep the first-seen time of pods that stay.
      for (const [uid, p] of pods) {
        const seen = this.current.get(uid)?.metadata.annotations?.[configSeenAnnotation] ?? new Date(this.o.clock.now()).toISOString();
        p.metadata.annotations![configSeenAnnotation] = seen;
      }
      this.current = pods;
      this.o.onChange(this.pods());
    }
    this.syncedResolve?.();
  }

  async start(signal: AbortSignal): Promise<void> {
    let watcher: fsSync.FSWatcher | undefined;
    let pending = false;
    const reread = () => {
      if (pending) return;
      pending = true;
      setTimeout(() => {
        pending = false;
        if (!signal.aborted) void this.read();
      }, 100);
    };
    try {
      watcher = fsSync.watch(this.o.dir, reread);
      watcher.on('error', () => undefined);
    } catch {
      // The folder may not exist yet; the periodic read notices it later.
    }
    try {
      while (!signal.aborted) {
        await this.read();
        await this.o.clock.sleep(this.o.periodMs ?? 20_000, signal);
      }
    } finally {
      watcher?.close();
    }
  }
}
