import { describe, expect, test } from 'vitest';
import { SchedulerCache } from './cache.js';
import { newPodInfo, withPod } from './pod-info.js';
import { makeNode, makePod } from './testing.js';

const onNode = (name: string, node: string, cpu = '1') => newPodInfo(makePod(name, { nodeName: node, cpu }));

describe('assumed pods', () => {
  test('count on their node at once, are confirmed by the informer, forgotten on bind failure', () => {
    const c = new SchedulerCache();
    c.addNode(makeNode('n', { cpu: '4' }));
    c.assumePod(onNode('a', 'n'));
    expect(c.get('n')!.requested.milliCPU).toBe(1000);
    expect(c.isAssumed('default/a')).toBe(true);
    // The binding shows up: same pod, now bound.
    c.addPod(onNode('a', 'n'));
    expect(c.isAssumed('default/a')).toBe(false);
    expect(c.get('n')!.requested.milliCPU).toBe(1000);
    expect(c.stats()).toEqual({ nodes: 1, pods: 1, assumedPods: 0 });

    c.assumePod(onNode('b', 'n', '2'));
    expect(c.get('n')!.requested.milliCPU).toBe(3000);
    c.forgetPod('default/b');
    expect(c.get('n')!.requested.milliCPU).toBe(1000);
    expect(c.get('n')!.pods.map((p) => p.key)).toEqual(['default/a']);
  });

  test('a pod bound elsewhere than assumed moves to the node it was bound to', () => {
    const c = new SchedulerCache();
    c.addNode(makeNode('x'));
    c.addNode(makeNode('y'));
    c.assumePod(onNode('a', 'x'));
    c.addPod(onNode('a', 'y'));
    expect(c.get('x')!.pods).toEqual([]);
    expect(c.get('y')!.pods.length).toBe(1);
  });

  test('assuming a pod twice is a bug', () => {
    const c = new SchedulerCache();
    c.assumePod(onNode('a', 'n'));
    expect(() => c.assumePod(onNode('a', 'n'))).toThrow(/already/);
    expect(() => c.assumePod(withPod(onNode('b', 'n'), makePod('b')))).toThrow(/no spec.nodeName/);
  });
});

describe('nodes', () => {
  test('pods on a node not seen yet are kept and count once it arrives', () => {
    const c = new SchedulerCache();
    c.addPod(onNode('early', 'late-node', '2'));
    expect(c.nodeInfos()).toEqual([]);
    c.addNode(makeNode('late-node', { cpu: '4' }));
    expect(c.get('late-node')!.requested.milliCPU).toBe(2000);
    c.removeNode('late-node');
    expect(c.get('late-node')).toBeUndefined();
    c.removePod('default/early');
    expect(c.stats()).toEqual({ nodes: 0, pods: 0, assumedPods: 0 });
  });

  test('nodes are listed one zone after another, so a partial walk covers every zone', () => {
    const c = new SchedulerCache();
    const z = (name: string, zone: string) => makeNode(name, { labels: { 'topology.kubernetes.io/zone': zone } });
    for (const n of [z('a1', 'a'), z('a2', 'a'), z('a3', 'a'), z('b1', 'b'), z('c1', 'c'), z('b2', 'b')]) c.addNode(n);
    expect(c.nodeInfos().map((n) => n.name)).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'a3']);
  });

  test('image states count the nodes that have each image', () => {
    const c = new SchedulerCache();
    const img = { names: ['docker.io/library/nginx:1.25', 'nginx@sha256:1'], sizeBytes: 100 };
    c.addNode(makeNode('a', { images: [img] }));
    c.addNode(makeNode('b', { images: [img] }));
    c.addNode(makeNode('c'));
    expect(c.get('a')!.imageStates.get('docker.io/library/nginx:1.25')).toMatchObject({ size: 100, numNodes: 2 });
    c.updateNode(makeNode('b'));
    expect(c.get('a')!.imageStates.get('docker.io/library/nginx:1.25')).toMatchObject({ numNodes: 1 });
  });

  test('claims in use, cluster-wide', () => {
    const c = new SchedulerCache();
    c.addPod(newPodInfo(makePod('u', { nodeName: 'n', volumes: [{ name: 'd', persistentVolumeClaim: { claimName: 'data' } }] })));
    expect(c.isClaimInUse('default/data')).toBe(true);
    c.removePod('default/u');
    expect(c.isClaimInUse('default/data')).toBe(false);
  });
});
