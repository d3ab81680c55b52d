import { describe, expect, test } from 'vitest';
import { RESTMapper, type APIResource, type Discovery } from './discovery.js';
import { parseTargets } from './resource/builder.js';

function res(group: string, version: string, resource: string, kind: string, extra: Partial<APIResource> = {}): APIResource {
  return { group, version, resource, kind, singular: kind.toLowerCase(), namespaced: true, verbs: ['get', 'list'], shortNames: [], categories: [], subresources: [], preferred: true, ...extra };
}

const discovery: Discovery = {
  groups: [{ name: '', versions: ['v1'] }, { name: 'apps', versions: ['v1'] }, { name: 'events.k8s.io', versions: ['v1'] }, { name: 'autoscaling', versions: ['v2', 'v1'] }],
  resources: [
    res('', 'v1', 'pods', 'Pod', { shortNames: ['po'], categories: ['all'] }),
    res('', 'v1', 'services', 'Service', { shortNames: ['svc'], categories: ['all'] }),
    res('', 'v1', 'events', 'Event', { shortNames: ['ev'] }),
    res('', 'v1', 'nodes', 'Node', { shortNames: ['no'], namespaced: false }),
    res('apps', 'v1', 'deployments', 'Deployment', { shortNames: ['deploy'], categories: ['all'] }),
    res('events.k8s.io', 'v1', 'events', 'Event'),
    res('autoscaling', 'v2', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', { shortNames: ['hpa'], categories: ['all'] }),
    res('autoscaling', 'v1', 'horizontalpodautoscalers', 'HorizontalPodAutoscaler', { shortNames: ['hpa'], preferred: false }),
  ],
};
const mapper = new RESTMapper(discovery);

describe('resource names as kubectl resolves them', () => {
  test.each([
    ['po', 'pods', ''],
    ['pods', 'pods', ''],
    ['pod', 'pods', ''],
    ['Pod', 'pods', ''],
    ['deploy', 'deployments', 'apps'],
    ['Deployment', 'deployments', 'apps'],
    ['deployments.apps', 'deployments', 'apps'],
    ['deployment.v1.apps', 'deployments', 'apps'],
    ['events', 'events', ''],
    ['events.events.k8s.io', 'events', 'events.k8s.io'],
  ])('%s → %s (group %j)', (input, resource, group) => {
    const r = mapper.resolve(input);
    expect([r.resource, r.group]).toEqual([resource, group]);
  });
  test('the preferred version wins unless a version is named', () => {
    expect(mapper.resolve('hpa').version).toBe('v2');
    expect(mapper.resolve('hpa.v1.autoscaling').version).toBe('v1');
  });
  test('unknown names fail with kubectl\'s message; `pods.v1` is a group, not a version', () => {
    expect(() => mapper.resolve('widgets')).toThrow('the server doesn\'t have a resource type "widgets"');
    expect(() => mapper.resolve('pods.v1')).toThrow('the server doesn\'t have a resource type "pods.v1"');
  });
  test('categories expand in discovery order', () => {
    expect(mapper.category('all')!.map((r) => r.resource)).toEqual(['pods', 'services', 'deployments', 'horizontalpodautoscalers']);
  });
});

describe('argument forms', () => {
  test('TYPE, TYPE1,TYPE2 NAME, TYPE/NAME', () => {
    expect(parseTargets(mapper, ['po']).targets.map((t) => [t.resource.resource, t.name])).toEqual([['pods', undefined]]);
    expect(parseTargets(mapper, ['po,svc', 'web'])).toMatchObject({ singleItem: false, targets: [{ name: 'web' }, { name: 'web' }] });
    expect(parseTargets(mapper, ['deploy/web'])).toMatchObject({ singleItem: true, targets: [{ name: 'web', resource: { resource: 'deployments' } }] });
    expect(parseTargets(mapper, ['po', 'a'])).toMatchObject({ singleItem: true });
  });
  test('mixing TYPE and TYPE/NAME is refused; a category with a name too', () => {
    expect(() => parseTargets(mapper, ['pods', 'web/x'])).toThrow(/there is no need to specify a resource type as a separate argument/);
    expect(() => parseTargets(mapper, ['all', 'x'])).toThrow('you must specify only one resource');
  });
});
