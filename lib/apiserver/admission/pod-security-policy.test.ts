import { describe, expect, test } from 'vitest';
import type { Pod } from '../../api/index.js';
import { evaluate, formatViolations } from './pod-security-policy.js';

type Spec = NonNullable<Pod['spec']>;
const spec = (s: Partial<Spec> & Record<string, unknown>): Spec => ({ containers: [{ name: 'c', image: 'x' }], ...s }) as Spec;
const restrictedOK = (): Spec =>
  spec({ securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } }, containers: [{ name: 'c', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } } }] });

describe('pod security standards', () => {
  test('privileged allows anything', () => {
    expect(evaluate('privileged', spec({ hostNetwork: true, containers: [{ name: 'c', image: 'x', securityContext: { privileged: true } }] }), {})).toEqual([]);
  });

  test.each([
    [spec({ hostPID: true, hostIPC: true }), 'host namespaces (hostPID=true, hostIPC=true)'],
    [spec({ containers: [{ name: 'a', image: 'x', ports: [{ containerPort: 1, hostPort: 8080 }, { containerPort: 2, hostPort: 9090 }] }] }), 'hostPort (container "a" uses hostPorts 8080, 9090)'],
    [spec({ containers: [{ name: 'a', image: 'x', securityContext: { capabilities: { add: ['SYS_ADMIN', 'NET_RAW', 'CHOWN'] } } }] }), 'non-default capabilities (container "a" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)'],
    [spec({ securityContext: { seccompProfile: { type: 'Unconfined' } } }), 'seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")'],
    [spec({ securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '1' }, { name: 'net.ipv4.tcp_syncookies', value: '1' }] } }), 'forbidden sysctls (kernel.msgmax)'],
    [spec({ containers: [{ name: 'a', image: 'x', securityContext: { procMount: 'Unmasked' } }] }), 'procMount (container "a" must not set securityContext.procMount to "Unmasked")'],
    [spec({ volumes: [{ name: 'a', hostPath: { path: '/' } }, { name: 'b', hostPath: { path: '/var' } }] }), 'hostPath volumes (volumes "a", "b")'],
  ])('baseline refuses %#', (s, message) => {
    expect(formatViolations(evaluate('baseline', s, {}))).toBe(message);
  });

  test('baseline admits a plain pod and the default capabilities', () => {
    expect(evaluate('baseline', spec({ containers: [{ name: 'c', image: 'x', securityContext: { capabilities: { add: ['CHOWN', 'NET_BIND_SERVICE'] } } }] }), {})).toEqual([]);
  });

  test('restricted: a compliant pod passes; restricted checks replace their baseline counterparts', () => {
    expect(evaluate('restricted', restrictedOK(), {})).toEqual([]);
    const s = restrictedOK();
    s.volumes = [{ name: 'root', hostPath: { path: '/' } } as never];
    s.containers[0]!.securityContext!.capabilities = { drop: ['ALL'], add: ['SYS_ADMIN'] };
    s.containers[0]!.securityContext!.runAsUser = 0;
    expect(formatViolations(evaluate('restricted', s, {}))).toBe(
      'unrestricted capabilities (container "c" must not include "SYS_ADMIN" in securityContext.capabilities.add), restricted volume types (volume "root" uses restricted volume type "hostPath"), runAsUser=0 (container "c" must not set runAsUser=0)',
    );
  });

  test('restricted: pod-level settings satisfy every container, explicit false does not', () => {
    const s = restrictedOK();
    s.containers.push({ name: 'd', image: 'x', securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, runAsNonRoot: false } });
    expect(formatViolations(evaluate('restricted', s, {}))).toBe('runAsNonRoot != true (container "d" must not set securityContext.runAsNonRoot=false)');
  });
});
