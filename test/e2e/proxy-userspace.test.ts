/**
 * Userspace mode against a real kernel: the proxier runs in its own process inside the node
 * namespace (its listeners must live there), REDIRECT rules send service traffic to them, and
 * it relays each connection to the next backend in turn.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEndpointSlice, makeService, type ProxyState } from '../../lib/proxy/index.js';
import { compileEntry, type Compiled } from '../support/compile.js';
import { IpcChild } from '../support/ipc-child.js';
import { connectMany, createServiceTopology, netnsAvailable, tally, type ServiceTopology } from '../support/netns.js';

const clusterIP = '10.96.0.10';
const stickyIP = '10.96.0.12';
const nodePort = 30080;

describe.skipIf(!netnsAvailable())('userspace proxier in network namespaces', () => {
  let topo: ServiceTopology;
  let compiled: Compiled;
  let child: IpcChild;
  const call = (msg: Record<string, unknown>) => child.call(msg);

  const state = (backends: string[]): ProxyState => {
    const pods = topo.pods.filter((p) => backends.includes(p.name));
    return {
      services: [
        makeService('default', 'web', { clusterIP, type: 'NodePort', ports: [{ name: 'http', port: 80, targetPort: 8080, nodePort }] }),
        makeService('default', 'sticky', { clusterIP: stickyIP, ports: [{ port: 80, targetPort: 8080 }], sessionAffinity: 'ClientIP', sessionAffinitySeconds: 600 }),
      ],
      endpointSlices: [
        makeEndpointSlice('default', 'web', pods.map((p) => ({ ip: p.ip })), [{ name: 'http', port: topo.podPort }]),
        makeEndpointSlice('default', 'sticky', topo.pods.map((p) => ({ ip: p.ip })), [{ port: topo.podPort }]),
      ],
    };
  };

  beforeAll(async () => {
    [topo, compiled] = await Promise.all([createServiceTopology(), compileEntry('test/support/userspace-child.ts')]);
    ({ child } = await IpcChild.start(compiled.entry, topo.node.path));
    await call({ type: 'state', state: state(['pod-a', 'pod-b', 'pod-c']) });
  }, 120_000);

  afterAll(async () => {
    child?.kill();
    await topo?.destroy();
    await compiled?.remove();
  });

  it('relays 300 connections to the cluster IP in exact round-robin order', async () => {
    const r = await connectMany(topo.client, clusterIP, 80, 300);
    expect(r.failures).toBe(0);
    expect(tally(r.answers)).toEqual({ 'pod-a': 100, 'pod-b': 100, 'pod-c': 100 });
    // Strict rotation: each answer is followed by the next backend in turn.
    const order = ['pod-a', 'pod-b', 'pod-c'];
    for (let i = 1; i < r.answers.length; i++) {
      expect(order.indexOf(r.answers[i]!)).toBe((order.indexOf(r.answers[i - 1]!) + 1) % 3);
    }
  });

  it('answers on the node port of the node address, and on the cluster IP from the node itself', async () => {
    const viaNodePort = await connectMany(topo.client, topo.nodeIP, nodePort, 6);
    expect(viaNodePort.failures).toBe(0);
    expect(new Set(viaNodePort.answers).size).toBe(3);
    const fromNode = await connectMany(topo.node, clusterIP, 80, 6);
    expect(fromNode.failures).toBe(0);
    expect(new Set(fromNode.answers).size).toBe(3);
  });

  it('lets a backend reach itself through its service', async () => {
    const r = await connectMany(topo.pods[0]!.ns, clusterIP, 80, 3);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers)).toEqual(new Set(['pod-a', 'pod-b', 'pod-c']));
  });

  it('pins a client with ClientIP affinity', async () => {
    const r = await connectMany(topo.client, stickyIP, 80, 20);
    expect(r.failures).toBe(0);
    expect(new Set(r.answers).size).toBe(1);
  });

  it('stops sending to a backend removed from the state after the next sync', async () => {
    await call({ type: 'state', state: state(['pod-a', 'pod-c']) });
    const r = await connectMany(topo.client, clusterIP, 80, 40);
    expect(tally(r.answers)).toEqual({ 'pod-a': 20, 'pod-c': 20 });
  });

  it('cleanup leaves no KUBE-* chain', async () => {
    await call({ type: 'cleanup' });
    const saved = String((await topo.node.run(['iptables-save'])).stdout);
    expect(saved).not.toMatch(/^:KUBE-/m);
    expect(saved).not.toMatch(/-j KUBE-/);
  });
});
