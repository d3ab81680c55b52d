import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../api/index.js';
import { bytesOf, commandFor, containerSecurityFor, expandEnvReferences, linuxResourcesFor, milliCPU, oomScoreAdjFor, sandboxConfigFor, seccompProfileFor } from './runtime-config.js';

describe('quantities', () => {
  it.each([
    ['100m', 100],
    ['0.1', 100],
    ['1', 1000],
    ['1.5', 1500],
    ['2500m', 2500],
    ['0.0001', 1], // rounded up, never to 0
  ])('cpu %s → %i millicores', (q, m) => expect(milliCPU(q)).toBe(m));

  it.each([
    ['64Mi', 67_108_864],
    ['1G', 1_000_000_000],
    ['128974848', 128_974_848],
    ['1.5Gi', 1_610_612_736],
  ])('memory %s → %i bytes', (q, b) => expect(bytesOf(q)).toBe(b));
});

describe('linuxResourcesFor', () => {
  it('takes requests and limits, requests defaulting to limits', () => {
    const c: Container = { name: 'a', resources: { requests: { cpu: '250m' }, limits: { cpu: '1', memory: '128Mi' } } };
    expect(linuxResourcesFor(c)).toEqual({ cpuRequestMilli: 250, cpuLimitMilli: 1000, memoryLimitBytes: 134_217_728 });
    expect(linuxResourcesFor({ name: 'b', resources: { limits: { cpu: '500m' } } })).toEqual({ cpuRequestMilli: 500, cpuLimitMilli: 500 });
    expect(linuxResourcesFor({ name: 'c' })).toEqual({});
  });
});

describe('oomScoreAdjFor', () => {
  it('follows the QoS class', () => {
    const node = 8 * 1024 ** 3;
    expect(oomScoreAdjFor('Guaranteed', undefined, node)).toBe(-997);
    expect(oomScoreAdjFor('BestEffort', undefined, node)).toBe(1000);
    expect(oomScoreAdjFor('Burstable', node / 4, node)).toBe(750);
    expect(oomScoreAdjFor('Burstable', node, node)).toBe(2);
    expect(oomScoreAdjFor('Burstable', 0, node)).toBe(999);
  });

  it('never goes below the floor the kernel sets', () => {
    const node = 8 * 1024 ** 3;
    expect(oomScoreAdjFor('Guaranteed', undefined, node, 0)).toBe(0);
    expect(oomScoreAdjFor('Burstable', node, node, 0)).toBe(2);
    expect(oomScoreAdjFor('Burstable', node, node, 10)).toBe(10);
    expect(oomScoreAdjFor('BestEffort', undefined, node, 0)).toBe(1000);
  });
});

describe('containerSecurityFor', () => {
  it('lets container fields win over pod fields and adds fsGroup to the groups', () => {
    const spec = { containers: [], securityContext: { runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [5], fsGroup: 7 } } as Pod['spec'] & object;
    const c: Container = { name: 'a', securityContext: { runAsUser: 0, readOnlyRootFilesystem: true, allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } };
    expect(containerSecurityFor(spec, c)).toEqual({ runAsUser: 0, runAsGroup: 2000, supplementalGroups: [5, 7], readOnlyRootFilesystem: true, noNewPrivileges: true, capabilities: { drop: ['ALL'] } });
    expect(containerSecurityFor({ containers: [] }, { name: 'b' })).toEqual({});
  });
});

describe('seccomp profiles (upstream: Unconfined unless the pod, the container or --seccomp-default says otherwise)', () => {
  const off = { defaultToRuntimeDefault: false, profileRoot: '/var/lib/kubelet/seccomp' };
  const on = { ...off, defaultToRuntimeDefault: true };
  const spec = (sc?: object) => ({ containers: [], ...(sc ? { securityContext: { seccompProfile: sc } } : {}) }) as Pod['spec'] & object;
  it('runs a pod that names no profile Unconfined, or RuntimeDefault with --seccomp-default', () => {
    expect(seccompProfileFor(spec(), { name: 'a' }, off)).toEqual({ type: 'Unconfined' });
    expect(seccompProfileFor(spec(), { name: 'a' }, on)).toEqual({ type: 'RuntimeDefault' });
    expect(sandboxConfigFor({ metadata: { name: 'p', uid: 'u' }, spec: spec() }, 0, off).seccomp).toEqual({ type: 'Unconfined' });
  });
  it("takes the container's profile over the pod's, and the pod's for the sandbox", () => {
    const s = spec({ type: 'RuntimeDefault' });
    expect(seccompProfileFor(s, { name: 'a' }, off)).toEqual({ type: 'RuntimeDefault' });
    expect(seccompProfileFor(s, { name: 'a', securityContext: { seccompProfile: { type: 'Unconfined' } } }, on)).toEqual({ type: 'Unconfined' });
    expect(containerSecurityFor(s, { name: 'a' }, off).seccomp).toEqual({ type: 'RuntimeDefault' });
    expect(sandboxConfigFor({ metadata: { name: 'p', uid: 'u' }, spec: s }, 0, off).seccomp).toEqual({ type: 'RuntimeDefault' });
  });
  it('finds a Localhost profile under the kubelet\'s seccomp folder', () => {
    expect(seccompProfileFor(spec({ type: 'Localhost', localhostProfile: 'profiles/audit.json' }), undefined, off)).toEqual({ type: 'Localhost', path: '/var/lib/kubelet/seccomp/profiles/audit.json' });
  });
});

describe('$(VAR) expansion', () => {
  const env = new Map([
    ['NAME', 'world'],
    ['EMPTY', ''],
  ]);
  it.each([
    ['hello $(NAME)', 'hello world'],
    ['$(NAME)$(NAME)', 'worldworld'],
    ['[$(EMPTY)]', '[]'],
    ['$(MISSING) stays', '$(MISSING) stays'],
    ['$$(NAME) is escaped', '$(NAME) is escaped'],
    ['cost: $5', 'cost: $5'],
    ['unclosed $(NAME', 'unclosed $(NAME'],
    ['trailing $', 'trailing $'],
  ])('%s → %s', (input, out) => expect(expandEnvReferences(input, env)).toBe(out));

  it('applies to command and args', () => {
    expect(commandFor({ name: 'a', command: ['echo', '$(NAME)'], args: ['$(NAME)!'] }, env)).toEqual({ command: ['echo', 'world'], args: ['world!'] });
    expect(commandFor({ name: 'a' }, env)).toEqual({});
  });
});

describe('sandboxConfigFor', () => {
  it('carries the pod identity, namespaces and sysctls', () => {
    const pod = {
      metadata: { name: 'web', namespace: 'prod', uid: 'u-9', labels: { app: 'web' }, annotations: { a: 'b' } },
      spec: { containers: [], hostname: 'web-0', shareProcessNamespace: true, securityContext: { sysctls: [{ name: 'net.core.somaxconn', value: '1024' }] } },
    } as unknown as Pod;
    expect(sandboxConfigFor(pod, 3)).toEqual({
      metadata: { uid: 'u-9', namespace: 'prod', name: 'web', attempt: 3 },
      hostname: 'web-0',
      labels: { app: 'web' },
      annotations: { a: 'b' },
      shareProcessNamespace: true,
      sysctls: { 'net.core.somaxconn': '1024' },
    });
  });
});
