import { describe, expect, it } from 'vitest';
import { fieldErrorString } from '../../machinery/index.js';
import { validatePod } from './v1-validation.js';
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
