import { describe, expect, it } from 'vitest';
import type { MachineInfo, PressureReport } from './machine-info.js';
import { buildNodeStatus, initialNode, nodeStatusChanged, parseTaint, type NodeStatusInputs } from './node-status.js';

const machine: MachineInfo = { cpus: 2, memoryBytes: 8 * 1024 ** 3, machineID: 'm', systemUUID: 's', bootID: 'b', kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)', operatingSystem: 'linux', architecture: 'amd64' };
const calm: PressureReport = { memoryAvailableBytes: 4 * 1024 ** 3, nodefs: { capacityBytes: 100e9, availableBytes: 60e9 }, imagefs: { capacityBytes: 100e9, availableBytes: 60e9 }, memoryPressure: false, diskPressure: false, pidPressure: false };

function inputs(over: Partial<NodeStatusInputs> = {}): NodeStatusInputs {
  return {
    machine,
    maxPods: 110,
    nodeIP: '192.0.2.10',
    hostname: 'node-a',
    kubeletPort: 10250,
    kubeletVersion: 'v1.32.0-tkube',
    containerRuntimeVersion: 'docker://20.10.24',
    images: [
      { id: 'sha256:1', repoTags: ['small:1'], repoDigests: [], sizeBytes: 10 },
      { id: 'sha256:2', repoTags: ['big:1'], repoDigests: ['big@sha256:aa'], sizeBytes: 1000 },
    ],
    pressure: calm,
    runtimeReady: true,
    networkReady: true,
    plegHealthy: true,
    now: Date.UTC(2026, 0, 1),
    ...over,
  };
}

const cond = (s: ReturnType<typeof buildNodeStatus>, type: string) => s.conditions?.find((c) => c.type === type);

describe('buildNodeStatus', () => {
  it('reports capacity, allocatable, addresses, endpoints, system info and images (largest first)', () => {
    const s = buildNodeStatus(inputs());
    expect(s.capacity).toMatchObject({ cpu: '2', memory: '8388608Ki', pods: '110', 'ephemeral-storage': `${Math.floor(100e9 / 1024)}Ki` });
    expect(s.allocatable).toMatchObject({ cpu: '2', memory: `${8388608 - 102400}Ki`, pods: '110' });
    expect(s.addresses).toEqual([
      { type: 'InternalIP', address: '192.0.2.10' },
      { type: 'Hostname', address: 'node-a' },
    ]);
    expect(s.daemonEndpoints).toEqual({ kubeletEndpoint: { Port: 10250 } });
    expect(s.nodeInfo).toMatchObject({ containerRuntimeVersion: 'docker://20.10.24', kubeletVersion: 'v1.32.0-tkube', architecture: 'amd64', operatingSystem: 'linux', osImage: 'Debian GNU/Linux 12 (bookworm)' });
    expect(s.images).toEqual([
      { names: ['big@sha256:aa', 'big:1'], sizeBytes: 1000 },
      { names: ['small:1'], sizeBytes: 10 },
    ]);
  });

  it.each([
    [{}, 'True', 'KubeletReady'],
    [{ networkReady: false, networkMessage: 'the node has no podCIDR yet' }, 'False', 'KubeletNotReady'],
    [{ runtimeReady: false, runtimeMessage: 'connect ENOENT /var/run/docker.sock' }, 'False', 'KubeletNotReady'],
    [{ plegHealthy: false }, 'False', 'KubeletNotReady'],
  ])('Ready with %j is %s (%s)', (over, status, reason) => {
    expect(cond(buildNodeStatus(inputs(over)), 'Ready')).toMatchObject({ status, reason });
  });

  it('NetworkUnavailable until the pod network is up', () => {
    expect(cond(buildNodeStatus(inputs({ networkReady: false })), 'NetworkUnavailable')).toMatchObject({ status: 'True', reason: 'NoRouteCreated' });
    expect(cond(buildNodeStatus(inputs()), 'NetworkUnavailable')).toMatchObject({ status: 'False', reason: 'RouteCreated' });
  });

  it('pressure conditions follow the measurements', () => {
    const s = buildNodeStatus(inputs({ pressure: { ...calm, memoryPressure: true, diskPressure: true } }));
    expect(cond(s, 'MemoryPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
    expect(cond(s, 'DiskPressure')).toMatchObject({ status: 'True', reason: 'KubeletHasDiskPressure' });
    expect(cond(s, 'PIDPressure')).toMatchObject({ status: 'False', reason: 'KubeletHasSufficientPID' });
  });

  it('keeps transition times while a condition holds, and sees only heartbeats as no change', () => {
    const first = buildNodeStatus(inputs());
    const later = buildNodeStatus(inputs({ now: Date.UTC(2026, 0, 1, 0, 1), old: first }));
    expect(cond(later, 'Ready')?.lastTransitionTime).toBe(cond(first, 'Ready')?.lastTransitionTime);
    expect(cond(later, 'Ready')?.lastHeartbeatTime).toBe('2026-01-01T00:01:00Z');
    expect(nodeStatusChanged(first, later)).toBe(false);
    const notReady = buildNodeStatus(inputs({ now: Date.UTC(2026, 0, 1, 0, 2), old: later, networkReady: false }));
    expect(cond(notReady, 'Ready')?.lastTransitionTime).toBe('2026-01-01T00:02:00Z');
    expect(nodeStatusChanged(later, notReady)).toBe(true);
  });
});

describe('registration', () => {
  it('labels the node and parses --register-with-taints', () => {
    const n = initialNode('node-a', { role: 'edge' }, [parseTaint('dedicated=gpu:NoSchedule'), parseTaint('maintenance:NoExecute')], 'arm64');
    expect(n.metadata.labels).toEqual({ 'kubernetes.io/hostname': 'node-a', 'kubernetes.io/os': 'linux', 'kubernetes.io/arch': 'arm64', 'beta.kubernetes.io/os': 'linux', 'beta.kubernetes.io/arch': 'arm64', role: 'edge' });
    expect(n.spec?.taints).toEqual([
      { key: 'dedicated', value: 'gpu', effect: 'NoSchedule' },
      { key: 'maintenance', effect: 'NoExecute' },
    ]);
    expect(() => parseTaint('bad')).toThrow(/invalid taint "bad"/);
    expect(() => parseTaint('k=v:Sometimes')).toThrow(/invalid taint/);
  });
});
