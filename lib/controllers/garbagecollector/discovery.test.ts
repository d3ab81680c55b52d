import { expect, test } from 'vitest';
import { APIDiscovery } from './discovery.js';

test('discovery reads the preferred version of every group, skips subresources, and names the groups that failed', async () => {
  const answers: Record<string, unknown> = {
    '/apis': {
      groups: [
        { name: 'apps', versions: [{ groupVersion: 'apps/v1', version: 'v1' }], preferredVersion: { groupVersion: 'apps/v1', version: 'v1' } },
        { name: 'example.com', versions: [{ groupVersion: 'example.com/v2', version: 'v2' }, { groupVersion: 'example.com/v1', version: 'v1' }], preferredVersion: { groupVersion: 'example.com/v2', version: 'v2' } },
        { name: 'metrics.k8s.io', versions: [{ groupVersion: 'metrics.k8s.io/v1beta1', version: 'v1beta1' }] },
      ],
    },
    '/api/v1': { groupVersion: 'v1', resources: [{ name: 'pods', namespaced: true, kind: 'Pod', verbs: ['list', 'delete'] }, { name: 'pods/status', namespaced: true, kind: 'Pod', verbs: ['get'] }] },
    '/apis/apps/v1': { groupVersion: 'apps/v1', resources: [{ name: 'deployments', namespaced: true, kind: 'Deployment', verbs: ['list'] }] },
    '/apis/example.com/v2': { groupVersion: 'example.com/v2', resources: [{ name: 'widgets', namespaced: true, kind: 'Widget', verbs: ['delete'] }] },
  };
  let calls = 0;
  const d = new APIDiscovery({
    request: (async ({ path }: { path: string }) => {
      calls++;
      if (!(path in answers)) throw new Error('the server is currently unable to handle the request');
      return answers[path];
    }) as never,
  });
  const { resources, failedGroups } = await d.resources();
  expect(resources.map((r) => `${r.group}/${r.version}/${r.resource}`)).toEqual(['/v1/pods', 'apps/v1/deployments', 'example.com/v2/widgets']);
  expect(Object.keys(failedGroups)).toEqual(['metrics.k8s.io/v1beta1']);
  // A burst of callers costs one round of requests.
  const before = calls;
  await d.resources();
  expect(calls).toBe(before);
});
