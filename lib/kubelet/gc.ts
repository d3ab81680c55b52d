/**
 * Garbage collection of what pods leave on the node, with upstream's defaults:
 *
 *   containers  of pods that still exist, dead instances beyond the newest one of each
 *               container are removed (the newest stays for `kubectl logs --previous` and for
 *               the restart count); dead sandboxes that are not a pod's newest and hold no
 *               containers are removed. Every minute.
 *   orphans     runtime objects of pods the kubelet does not know are reported to the kubelet,
 *               which terminates and removes them through the pod's worker.
 *   images      when the image filesystem is fuller than --image-gc-high-threshold (85%),
 *               unused images are removed, least recently used first, until it is below
 *               --image-gc-low-threshold (80%). Images seen for less than 2 minutes, the
 *               pause image and images in use stay. Every 5 minutes.
 *
 * Ownership: `start(signal)` runs both loops on the Clock.
 */
import type { Logger } from 'pino';
import type { Clock } from '../base/index.js';
import { fsStats } from './node/machine-info.js';
import type { RelistSnapshot } from './pleg.js';
import type { ContainerRuntime, ImageInfo } from './runtime/index.js';

export const imageMinimumGCAgeMs = 2 * 60_000;

export interface GarbageCollectorOptions {
  runtime: ContainerRuntime;
  log: Logger;
  clock: Clock;
  /** The latest relist (from the PLEG). */
  snapshot(): RelistSnapshot | undefined;
  /** True for pods the kubelet knows (desired or being worked on). */
  knownPod(uid: string): boolean;
  /** A pod's objects are being changed by its worker right now: leave them alone this round. */
  busy(uid: string): boolean;
  /** Runtime objects of a pod nobody knows: the kubelet removes them. */
  onOrphan(uid: string): void;
  imageDir: string;
  imageGCHighThresholdPercent: number;
  imageGCLowThresholdPercent: number;
  podInfraContainerImage: string;
  containerPeriodMs?: number;
  imagePeriodMs?: number;
}

/** Dead container instances to remove from a snapshot: all but the newest of each (pod, container); running ones never. */
export function deadContainersToRemove(snapshot: RelistSnapshot, knownPod: (uid: string) => boolean): string[] {
  const byKey = new Map<string, RelistSnapshot['containers']>();
  for (const c of snapshot.containers) {
    if (!knownPod(c.podUID)) continue;
    const k = `${c.podUID}/${c.metadata.name}`;
    byKey.set(k, [...(byKey.get(k) ?? []), c]);
  }
  const out: string[] = [];
  for (const list of byKey.values()) {
    list.sort((a, b) => b.metadata.attempt - a.metadata.attempt || b.createdAt.getTime() - a.createdAt.getTime());
    // Older instances never run again: exited ones, and created ones (an instance whose start
    // failed stays "created" in Docker's list; the kubelet only ever starts the newest).
    for (const c of list.slice(1)) if (c.state === 'exited' || c.state === 'created') out.push(c.id);
  }
  return out;
}

/** Dead sandboxes that are not their pod's newest and no longer hold containers. */
export function deadSandboxesToRemove(snapshot: RelistSnapshot, knownPod: (uid: string) => boolean): string[] {
  const newest = new Map<string, RelistSnapshot['sandboxes'][number]>();
  for (const s of snapshot.sandboxes) {
    const cur = newest.get(s.metadata.uid);
    if (!cur || s.metadata.attempt > cur.metadata.attempt) newest.set(s.metadata.uid, s);
  }
  const used = new Set(snapshot.containers.map((c) => c.sandboxId));
  return snapshot.sandboxes.filter((s) => knownPod(s.metadata.uid) && s.state === 'notready' && newest.get(s.metadata.uid) !== s && !used.has(s.id)).map((s) => s.id);
}

/** Images to remove to free `bytesToFree`: unused, old enough, least recently used first. */
export function imagesToRemove(images: readonly ImageInfo[], inUse: ReadonlySet<string>, lastUsed: ReadonlyMap<string, number>, firstSeen: ReadonlyMap<string, number>, now: number, bytesToFree: number, keep: (img: ImageInfo) => boolean): ImageInfo[] {
  const candidates = images
    .filter((i) => !inUse.has(i.id) && !keep(i) && now - (firstSeen.get(i.id) ?? now) >= imageMinimumGCAgeMs)
    .sort((a, b) => (lastUsed.get(a.id) ?? 0) - (lastUsed.get(b.id) ?? 0));
  const out: ImageInfo[] = [];
  let freed = 0;
  for (const i of candidates) {
    if (freed >= bytesToFree) break;
    out.push(i);
    freed += i.sizeBytes;
  }
  return out;
}

export class GarbageCollector {
  private readonly lastUsed = new Map<string, number>();
  private readonly firstSeen = new Map<string, number>();

  constructor(private readonly o: GarbageCollectorOptions) {}

  /** One round of container and sandbox collection. */
  async collectContainers(): Promise<{ containers: number; sandboxes: number }> {
    const snap = this.o.snapshot();
    if (!snap) return { containers: 0, sandboxes: 0 };
    const known = (uid: string) => this.o.knownPod(uid) && !this.o.busy(uid);
    const orphans = new Set([...snap.sandboxes.map((s) => s.metadata.uid), ...snap.containers.map((c) => c.podUID)].filter((uid) => uid && !this.o.knownPod(uid)));
    for (const uid of orphans) this.o.onOrphan(uid);
    let containers = 0;
    for (const id of deadContainersToRemove(snap, known)) {
      await this.o.runtime.removeContainer(id).catch((err) => this.o.log.warn({ err: (err as Error).message, containerId: id.slice(0, 12) }, 'removing a dead container failed'));
      containers++;
    }
    let sandboxes = 0;
    for (const id of deadSandboxesToRemove(snap, known)) {
      await this.o.runtime.removeSandbox(id).catch((err) => this.o.log.warn({ err: (err as Error).message, sandboxId: id.slice(0, 12) }, 'removing a dead sandbox failed'));
      sandboxes++;
    }
    if (containers || sandboxes) this.o.log.info({ containers, sandboxes }, 'dead containers removed');
    return { containers, sandboxes };
  }

  /** One round of image collection; resolves with the images removed. */
  async collectImages(): Promise<ImageInfo[]> {
    const now = this.o.clock.now();
    const images = await this.o.runtime.listImages();
    const snap = this.o.snapshot();
    const inUse = new Set((snap?.containers ?? []).map((c) => c.imageId));
    for (const i of images) if (!this.firstSeen.has(i.id)) this.firstSeen.set(i.id, now);
    for (const id of inUse) this.lastUsed.set(id, now);
    const fs = await fsStats(this.o.imageDir);
    if (!fs || fs.capacityBytes === 0) return [];
    const usedPercent = ((fs.capacityBytes - fs.availableBytes) * 100) / fs.capacityBytes;
    if (usedPercent < this.o.imageGCHighThresholdPercent) return [];
    const bytesToFree = fs.capacityBytes - fs.availableBytes - (this.o.imageGCLowThresholdPercent / 100) * fs.capacityBytes;
    const pause = this.o.podInfraContainerImage;
    const victims = imagesToRemove(images, inUse, this.lastUsed, this.firstSeen, now, bytesToFree, (i) => i.repoTags.includes(pause));
    this.o.log.info({ usedPercent: Math.round(usedPercent), bytesToFree, images: victims.length }, 'image filesystem above the high threshold; removing unused images');
    const removed: ImageInfo[] = [];
    for (const i of victims) {
      try {
        await this.o.runtime.removeImage(i.id);
        removed.push(i);
        this.lastUsed.delete(i.id);
        this.firstSeen.delete(i.id);
      } catch (err) {
        // In use by a container outside this kubelet's view: keep it.
        this.o.log.debug({ err: (err as Error).message, image: i.repoTags[0] ?? i.id }, 'image not removed');
      }
    }
    return removed;
  }

  async start(signal: AbortSignal): Promise<void> {
    const cPeriod = this.o.containerPeriodMs ?? 60_000;
    const iPeriod = this.o.imagePeriodMs ?? 300_000;
    const loop = async (period: number, fn: () => Promise<unknown>, what: string) => {
      while (!signal.aborted) {
        await this.o.clock.sleep(period, signal);
        if (signal.aborted) return;
        await fn().catch((err) => this.o.log.warn({ err: (err as Error).message }, `${what} garbage collection failed`));
      }
    };
    await Promise.all([loop(cPeriod, () => this.collectContainers(), 'container'), loop(iPeriod, () => this.collectImages(), 'image')]);
  }
}
