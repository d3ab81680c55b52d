import { describe, expect, it } from 'vitest';
import { fieldErrorString } from '../../machinery/index.js';
import { validatePod, validatePodEphemeralContainersUpdate } from './v1-validation.js';
import type { Pod } from './v1.js';

const pod = (podProfile?: object, containerProfile?: object): Pod => ({
  metadata: { name: 'p', namespace: 'default' },
  spec: {
    ...(podProfile ? { securityContext: { seccompProfile: podProfile } } : {}),
    containers: [{ name: 'c', image: 'busybox', ...(containerProfile ? { securityContext: { seccompProfile: containerProfile } } : {}) }],
  },
}) as Pod;

describe('seccompProfile validation (upstream messages)', () => {
  it('accepts the three types used as documented', () => {
    expect(validatePod(pod({ type: 'RuntimeDefault' }, { type: 'Unconfined' }))).toEqual([]);
    expect(validatePod(pod({ type: 'Localhost', localhostProfile: 'profiles/audit.json' }))).toEqual([]);
  });
  it.each<[string, Pod, string]>([
    ['Localhost without a file', pod({ type: 'Localhost' }), 'spec.securityContext.seccompProfile.localhostProfile: Required value: must be set when seccomp type is Localhost'],
    ['a file for another type', pod(undefined, { type: 'RuntimeDefault', localhostProfile: 'x.json' }), 'spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value'],
    ['an absolute path', pod({ type: 'Localhost', localhostProfile: '/etc/x.json' }), 'spec.securityContext.seccompProfile.localhostProfile: Invalid value: "/etc/x.json": must be a relative path'],
    ['a way out of the folder', pod(undefined, { type: 'Localhost', localhostProfile: '../x.json' }), `spec.containers[0].securityContext.seccompProfile.localhostProfile: Invalid value: "../x.json": must not contain '..'`],
  ])('rejects %s', (_, p, message) => {
    const errs = validatePod(p).map(fieldErrorString);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toContain(message);
  });
});

describe('ephemeral containers (upstream messages)', () => {
  const running = (ephemeralContainers?: object[], annotations?: Record<string, string>): Pod =>
    ({
      metadata: { name: 'p', namespace: 'default', ...(annotations ? { annotations } : {}) },
      spec: { nodeName: 'n', volumes: [{ name: 'data', emptyDir: {} }], containers: [{ name: 'app', image: 'busybox' }], ...(ephemeralContainers ? { ephemeralContainers } : {}) },
    }) as Pod;
  const errs = (p: Pod, old: Pod) => validatePodEphemeralContainersUpdate(p, old).map(fieldErrorString);
  // What the API server's defaults leave on every container: not "set" in upstream's sense.
  const defaulted = { imagePullPolicy: 'IfNotPresent', terminationMessagePath: '/dev/termination-log', terminationMessagePolicy: 'File', resources: {} };

  it('accepts an added one with a mount, a target and the defaults', () => {
    const ec = { name: 'dbg', image: 'busybox:1', targetContainerName: 'app', stdin: true, tty: true, volumeMounts: [{ name: 'data', mountPath: '/data' }], ...defaulted };
    expect(errs(running([ec]), running())).toEqual([]);
    expect(errs(running([ec, { ...ec, name: 'dbg2' }]), running([ec]))).toEqual([]);
  });

  it('refuses subPath mounts, unknown volumes and a missing image', () => {
    const ec = { name: 'dbg', volumeMounts: [{ name: 'data', mountPath: '/d', subPath: 'x' }, { name: 'nope', mountPath: '/e', subPathExpr: '$(X)' }] };
    expect(errs(running([ec]), running())).toEqual([
      'spec.ephemeralContainers[0].image: Required value',
      'spec.ephemeralContainers[0].volumeMounts[1].name: Not found: "nope"',
      'spec.ephemeralContainers[0].volumeMounts[0].subPath: Forbidden: cannot be set for an Ephemeral Container',
      'spec.ephemeralContainers[0].volumeMounts[1].subPathExpr: Forbidden: cannot be set for an Ephemeral Container',
    ]);
  });

  it('refuses resizePolicy, and a static pod whatever it asks', () => {
    expect(errs(running([{ name: 'd', image: 'b', resizePolicy: [{ resourceName: 'cpu', restartPolicy: 'NotRequired' }] }]), running())).toEqual([
      'spec.ephemeralContainers[0].resizePolicy: Forbidden: cannot be set for an Ephemeral Container',
    ]);
    const mirror = { 'kubernetes.io/config.mirror': 'h' };
    expect(errs(running([{ name: 'd', image: 'b' }], mirror), running(undefined, mirror))).toEqual(['Forbidden: static pods do not support ephemeral containers']);
  });

  it('a regular pod update may not add one', () => {
    const e = validatePod(running([{ name: 'd', image: 'b' }]), running()).map(fieldErrorString);
    expect(e).toHaveLength(1);
    expect(e[0]).toMatch(/^spec: Forbidden: pod updates may not change fields other than /);
  });
});
