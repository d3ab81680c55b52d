import { describe, expect, it } from 'vitest';
import { containerRuntimeName, parseRuntimeName, sandboxRuntimeName, splitLabels } from './labels.js';

describe('runtime names', () => {
  it('read back what they write, for sandboxes and containers', () => {
    const pod = { uid: '3f1c9a2e-0b1d-4c55-9b1e-2a7f0c7d9e11', namespace: 'kube-system', name: 'coredns-7db6d8ff4d-x2x9k', attempt: 1 };
    expect(parseRuntimeName(`/${sandboxRuntimeName(pod)}`)).toEqual({ container: 'POD', pod: pod.name, namespace: pod.namespace, uid: pod.uid, attempt: 1 });
    expect(parseRuntimeName(containerRuntimeName(pod, { name: 'coredns', attempt: 12 }))).toEqual({ container: 'coredns', pod: pod.name, namespace: pod.namespace, uid: pod.uid, attempt: 12 });
  });

  it.each(['/hungry_turing', 'k8s_a_b_c_d', 'k8s_a_b_c_d_x', 'foo_a_b_c_d_1'])('ignores names that are not ours: %s', (n) => {
    expect(parseRuntimeName(n)).toBeUndefined();
  });
});

describe('splitLabels', () => {
  it('separates annotations (annotation.-prefixed) from labels', () => {
    expect(splitLabels({ app: 'web', 'annotation.io.kubernetes.container.restartCount': '2', 'annotation.x/y': 'z' })).toEqual({
      labels: { app: 'web' },
      annotations: { 'io.kubernetes.container.restartCount': '2', 'x/y': 'z' },
    });
  });
});
