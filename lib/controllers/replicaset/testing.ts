/**
 * For unit tests of the workload controllers: a recorder that keeps events in memory, and a
 * harness of FakeClient + SharedInformerFactory + FakeClock with a clean stop.
 */
import type { KubeObject, ObjectReference, Pod } from '../../api/index.js';
import { FakeClock, rfc3339, type Runnable } from '../../base/index.js';
import { FakeClient, Resources, SharedInformerFactory, formatMessage, type EventRecorder, type EventType } from '../../client/index.js';

export interface RecordedEvent {
  kind: string;
  namespace?: string;
  name: string;
  type: EventType;
  reason: string;
  message: string;
}

/** An EventRecorder that remembers what it was told, in order. */
export class FakeRecorder implements EventRecorder {
  readonly events: RecordedEvent[] = [];

  event(obj: KubeObject | ObjectReference, type: EventType, reason: string, message: string): void {
    const o = obj as KubeObject & ObjectReference;
    const meta = (o.metadata ?? o) as { name?: string; namespace?: string };
    this.events.push({ kind: o.kind ?? '', namespace: meta.namespace, name: meta.name ?? '', type, reason, message });
  }

  eventf(obj: KubeObject | ObjectReference, type: EventType, reason: string, fmt: string, ...args: unknown[]): void {
    this.event(obj, type, reason, formatMessage(fmt, args));
  }

  /** `Reason: message` lines, for compact assertions. */
  lines(filter?: (e: RecordedEvent) => boolean): string[] {
    return this.events.filter(filter ?? (() => true)).map((e) => `${e.reason}: ${e.message}`);
  }
}

export interface Harness {
  client: FakeClient;
  factory: SharedInformerFactory;
  clock: FakeClock;
  recorder: FakeRecorder;
  /** Starts the factory (the first time) and the given controllers. */
  run(...controllers: Runnable[]): Promise<void>;
  stop(): Promise<void>;
}

export function newHarness(start = Date.UTC(2026, 0, 1, 12, 0, 0)): Harness {
  const clock = new FakeClock(start);
  const client = new FakeClient(clock);
  const factory = new SharedInformerFactory({ client, clock });
  const recorder = new FakeRecorder();
  const ctl = new AbortController();
  const running: Promise<void>[] = [];
  return {
    client,
    factory,
    clock,
    recorder,
    async run(...controllers) {
      if (running.length === 0) running.push(factory.start(ctl.signal));
      for (const c of controllers) running.push(c.start(ctl.signal));
      await factory.waitForCacheSync(ctl.signal);
      await clock.flush();
    },
    async stop() {
      ctl.abort();
      await Promise.all(running);
    },
  };
}

/** Polls `cond` (real time, the fake clock stands still) until it holds; throws with `what` after `timeoutMs`. */
export async function eventually(cond: () => boolean | Promise<boolean>, what = 'condition', timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

/** Waits until nothing changes for a few turns: the controllers have settled. */
export async function settle(h: Harness, rounds = 5): Promise<void> {
  let last = '';
  let stable = 0;
  for (let i = 0; i < 2000 && stable < rounds; i++) {
    await new Promise((r) => setTimeout(r, 2));
    await h.clock.flush();
    const rv = h.client.resourceVersion + '/' + h.recorder.events.length;
    stable = rv === last ? stable + 1 : 0;
    last = rv;
  }
}

/**
 * Plays the scheduler and kubelet for unit tests: binds the pods that match `filter` to
 * `node` and reports them Running and Ready (ready since the fake clock's now).
 */
export async function makePodsReady(h: Harness, namespace: string, filter: (p: Pod) => boolean = () => true, node = 'node-1'): Promise<number> {
  const pods = h.client.resource(Resources.pods, namespace);
  let n = 0;
  for (const p of (await pods.list()).items) {
    if (!filter(p) || p.metadata.deletionTimestamp) continue;
    if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const bound = p.spec?.nodeName ? p : await pods.update({ ...p, spec: { ...p.spec!, nodeName: node } });
    const now = rfc3339(h.clock.now());
    await pods.updateStatus({ ...bound, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: now }] } });
    n++;
  }
  return n;
}
