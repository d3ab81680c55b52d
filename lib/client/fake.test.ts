import { describe, expect, test } from 'vitest';
import type { ConfigMap, Deployment } from '../api/index.js';
import { isAlreadyExists, isConflict, isGone, isNotFound } from '../machinery/index.js';
import { FakeClient } from './fake.js';
import type { WatchEvent } from './interface.js';
import { Resources } from './resources.js';

async function failure(p: Promise<unknown>): Promise<unknown> {
  try {
    await p;
  } catch (e) {
    return e;
  }
  throw new Error('expected a failure');
}

async function take<T>(w: AsyncIterable<WatchEvent<T>>, n: number): Promise<WatchEvent<T>[]> {
  const out: WatchEvent<T>[] = [];
  for await (const ev of w) {
    out.push(ev);
    if (out.length === n) break;
  }
  return out;
}

describe('FakeClient behaves as the API server where controllers depend on it', () => {
  test('metadata, AlreadyExists, optimistic locking, NotFound', async () => {
    const f = new FakeClient();
    const cms = f.resource(Resources.configMaps, 'ns');
    const a = await cms.create({ metadata: { name: 'a' }, data: { v: '1' } });
    expect(a.metadata).toMatchObject({ namespace: 'ns', generation: 1 });
    expect(a.metadata.uid).toBeTruthy();
    expect(isAlreadyExists(await failure(cms.create({ metadata: { name: 'a' } })))).toBe(true);
    const b = await cms.update({ ...a, data: { v: '2' } });
    expect(Number(b.metadata.resourceVersion)).toBeGreaterThan(Number(a.metadata.resourceVersion));
    expect(isConflict(await failure(cms.update({ ...a, data: { v: 'stale' } })))).toBe(true);
    expect(isNotFound(await failure(cms.get('nope')))).toBe(true);
    const gen = await cms.create({ metadata: { generateName: 'g-' } });
    expect(gen.metadata.name).toMatch(/^g-/);
  });

  test('status is kept apart from the object, and spec changes bump generation', async () => {
    const f = new FakeClient();
    const d = f.resource(Resources.deployments, 'ns');
    const dep = await d.create({ metadata: { name: 'web' }, spec: { replicas: 1, selector: {}, template: {} } } as unknown as Deployment);
    const st = await d.updateStatus({ ...dep, spec: { ...dep.spec!, replicas: 9 }, status: { replicas: 1 } });
    expect(st.spec?.replicas).toBe(1);
    expect(st.status?.replicas).toBe(1);
    const up = await d.update({ ...st, spec: { ...st.spec!, replicas: 3 }, status: { replicas: 7 } });
    expect(up.status?.replicas).toBe(1);
    expect(up.metadata.generation).toBe(2);
  });

  test('finalizers hold a deleted object until they are removed', async () => {
    const f = new FakeClient();
    const cms = f.resource(Resources.configMaps, 'ns');
    await cms.create({ metadata: { name: 'held', finalizers: ['example.com/x'] } });
    await cms.delete('held');
    const held = await cms.get('held');
    expect(held.metadata.deletionTimestamp).toBeTruthy();
    await cms.update({ ...held, metadata: { ...held.metadata, finalizers: [] } });
    expect(isNotFound(await failure(cms.get('held')))).toBe(true);
  });

  test('watch from a version replays later changes; an object leaving the selector is DELETED for that watch', async () => {
    const f = new FakeClient();
    const cms = f.resource(Resources.configMaps, 'ns');
    await cms.create({ metadata: { name: 'a', labels: { app: 'web' } } });
    const rv = f.resourceVersion;
    await cms.create({ metadata: { name: 'b', labels: { app: 'web' } } });
    const w = await cms.watch({ resourceVersion: rv, labelSelector: 'app=web' });
    await cms.patch('a', 'merge', { metadata: { labels: { app: 'db' } } });
    const evs = await take(w, 2);
    expect(evs.map((e) => `${e.type}:${(e.object as ConfigMap).metadata.name}`)).toEqual(['ADDED:b', 'DELETED:a']);
    w.stop();
  });

  test('after compact, watching or continuing from an older version is 410', async () => {
    const f = new FakeClient();
    const cms = f.resource(Resources.configMaps, 'ns');
    for (let i = 0; i < 3; i++) await cms.create({ metadata: { name: `c${i}` } });
    const page = await cms.list({ limit: 1 });
    const rv = f.resourceVersion;
    await cms.create({ metadata: { name: 'later' } });
    f.compact();
    expect(isGone(await failure(cms.watch({ resourceVersion: rv })))).toBe(true);
    expect(isGone(await failure(cms.list({ limit: 1, continue: page.metadata.continue })))).toBe(true);
  });

  test('reactors see every request and can fail it', async () => {
    const f = new FakeClient();
    const cms = f.resource(Resources.configMaps, 'ns');
    f.prependReactor((a) => {
      if (a.verb === 'delete') throw new Error('injected');
    });
    await cms.create({ metadata: { name: 'x' } });
    await expect(cms.delete('x')).rejects.toThrow('injected');
    expect(f.actions.map((a) => `${a.verb}:${a.name}`)).toEqual(['create:x', 'delete:x']);
  });
});
