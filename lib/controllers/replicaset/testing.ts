/**
 * For unit tests of the workload controllers: a recorder that keeps events in memory, and a
 * harness of FakeClient + SharedInformerFactory + FakeClock with a clean stop.
 */
import type { KubeObject, ObjectReference } from '../../api/index.js';
import { FakeClock, type Runnable } from '../../base/index.js';
import { FakeClient, SharedInformerFactory, formatMessage, type EventRecorder, type EventType } from '../../client/index.js';

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
