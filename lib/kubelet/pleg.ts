/**
 * The pod lifecycle event generator (upstream's generic PLEG): relists every sandbox and
 * container of this node once a second and tells the kubelet which pods changed (a container
 * started, exited or vanished; a pause container died), so that their workers sync them.
 * Health: a relist older than 3 minutes makes the node NotReady, as upstream.
 *
 * Ownership: `start(signal)` runs the loop; its only timer is the Clock's sleep.
 */
import type { Logger } from 'pino';
import type { Clock } from '../base/index.js';
import type { ContainerRuntime, ContainerSummary, SandboxSummary } from './runtime/index.js';

export const plegRelistThresholdMs = 3 * 60_000;

export interface RelistSnapshot {
  sandboxes: SandboxSummary[];
  containers: ContainerSummary[];
  at: number;
}

export interface PLEGOptions {
  runtime: ContainerRuntime;
  /** Labels every object of this node carries. */
  labels: Record<string, string>;
  clock: Clock;
  log: Logger;
  periodMs?: number;
  /** A pod's runtime objects changed. */
  onPodChanged(uid: string): void;
  onRelist?(snapshot: RelistSnapshot, durationMs: number): void;
}

export class PLEG {
  /** State and pod of every object seen by the last relist, by id. */
  private states = new Map<string, string>();
  private podOfOld = new Map<string, string>();
  private lastOK = 0;
  private snapshot?: RelistSnapshot;
  private first = true;

  constructor(private readonly o: PLEGOptions) {}

  /** The last relist, if any. */
  get last(): RelistSnapshot | undefined {
    return this.snapshot;
  }

  healthy(): boolean {
    return this.lastOK > 0 && this.o.clock.now() - this.lastOK < plegRelistThresholdMs;
  }

  /** One relist; reports changed pods (on the first relist: every pod with objects). */
  async relist(): Promise<RelistSnapshot> {
    const start = this.o.clock.now();
    const { sandboxes, containers } = await this.o.runtime.listPodObjects({ labels: this.o.labels });
    const next = new Map<string, string>();
    const podOf = new Map<string, string>();
    for (const s of sandboxes) {
      next.set(s.id, s.state);
      podOf.set(s.id, s.metadata.uid);
    }
    for (const c of containers) {
      next.set(c.id, c.state);
      podOf.set(c.id, c.podUID);
    }
    const changed = new Set<string>();
    for (const [id, st] of next) if (this.first || this.states.get(id) !== st) changed.add(podOf.get(id)!);
    for (const id of this.states.keys()) if (!next.has(id)) changed.add(this.podOfOld.get(id) ?? '');
    this.states = next;
    this.podOfOld = podOf;
    this.first = false;
    this.lastOK = this.o.clock.now();
    this.snapshot = { sandboxes, containers, at: this.lastOK };
    this.o.onRelist?.(this.snapshot, this.lastOK - start);
    for (const uid of changed) if (uid) this.o.onPodChanged(uid);
    return this.snapshot;
  }

  async start(signal: AbortSignal): Promise<void> {
    const period = this.o.periodMs ?? 1000;
    while (!signal.aborted) {
      try {
        await this.relist();
      } catch (err) {
        this.o.log.warn({ err: (err as Error).message }, 'relisting the container runtime failed');
      }
      await this.o.clock.sleep(period, signal);
    }
  }
}
