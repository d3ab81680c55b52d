import { describe, expect, test } from 'vitest';
import type { PolicyRule } from '../../api/index.js';
import type { AuthorizationAttributes } from '../auth.js';
import { aggregatedRules } from './aggregation.js';
import { formatRule, ruleAllows, uncoveredRules } from './rules.js';

const user = { username: 'u', groups: [] };
function res(verb: string, group: string, resource: string, subresource = '', name = ''): AuthorizationAttributes {
  return { user, verb, isResourceRequest: true, path: '', namespace: 'ns', apiGroup: group, apiVersion: 'v1', resource, subresource, name };
}
function path(verb: string, p: string): AuthorizationAttributes {
  return { user, verb, isResourceRequest: false, path: p, namespace: '', apiGroup: '', apiVersion: '', resource: '', subresource: '', name: '' };
}
const r = (verbs: string[], apiGroups: string[], resources: string[], resourceNames?: string[]): PolicyRule => ({ verbs, apiGroups, resources, ...(resourceNames ? { resourceNames } : {}) });

describe('ruleAllows', () => {
  test.each([
    [r(['get'], [''], ['pods']), res('get', '', 'pods'), true],
    [r(['get'], [''], ['pods']), res('list', '', 'pods'), false],
    [r(['*'], [''], ['pods']), res('delete', '', 'pods'), true],
    [r(['get'], ['apps'], ['pods']), res('get', '', 'pods'), false],
    [r(['get'], ['*'], ['deployments']), res('get', 'apps', 'deployments'), true],
    [r(['get'], [''], ['pods']), res('get', '', 'pods', 'log'), false],
    [r(['get'], [''], ['pods/log']), res('get', '', 'pods', 'log'), true],
    [r(['get'], [''], ['pods/log']), res('get', '', 'pods'), false],
    [r(['get'], ['*'], ['*/scale']), res('get', 'apps', 'deployments', 'scale'), true],
    [r(['get'], ['*'], ['*/scale']), res('get', 'apps', 'deployments'), false],
    [r(['get'], ['*'], ['*']), res('get', 'apps', 'deployments', 'status'), true],
    [r(['get'], [''], ['configmaps'], ['a']), res('get', '', 'configmaps', '', 'a'), true],
    [r(['get'], [''], ['configmaps'], ['a']), res('get', '', 'configmaps', '', 'b'), false],
    [r(['list'], [''], ['configmaps'], ['a']), res('list', '', 'configmaps'), false],
  ])('%j allows %j: %s', (rule, attrs, want) => {
    expect(ruleAllows(attrs, rule)).toBe(want);
  });

  test.each([
    [['/healthz'], '/healthz', true],
    [['/healthz'], '/healthz/etcd', false],
    [['/healthz/*'], '/healthz/etcd', true],
    [['/healthz/*'], '/healthz', false],
    [['/api*'], '/apis/apps', true],
    [['*'], '/anything', true],
  ])('nonResourceURLs %j allow %s: %s', (urls, p, want) => {
    expect(ruleAllows(path('get', p), { verbs: ['get'], nonResourceURLs: urls })).toBe(want);
  });

  test('resource rules never match paths and path rules never match resources', () => {
    expect(ruleAllows(path('get', '/api'), r(['*'], ['*'], ['*']))).toBe(false);
    expect(ruleAllows(res('get', '', 'pods'), { verbs: ['*'], nonResourceURLs: ['*'] })).toBe(false);
  });
});

describe('covering (escalation checks)', () => {
  test.each([
    [[r(['*'], ['*'], ['*'])], [r(['get', 'delete'], ['', 'apps'], ['pods', 'deployments'])], []],
    [[r(['get', 'list'], [''], ['pods'])], [r(['get'], [''], ['pods'])], []],
    [[r(['get'], [''], ['pods'])], [r(['get', 'list'], [''], ['pods'])], [r(['list'], [''], ['pods'])]],
    [[r(['get'], [''], ['pods'], ['a'])], [r(['get'], [''], ['pods'])], [r(['get'], [''], ['pods'])]],
    [[r(['get'], [''], ['pods'])], [r(['get'], [''], ['pods'], ['a', 'b'])], []],
    [[r(['get'], [''], ['pods'], ['a'])], [r(['get'], [''], ['pods'], ['a', 'b'])], [r(['get'], [''], ['pods'], ['b'])]],
    [[r(['get'], ['*'], ['*/scale'])], [r(['get'], ['apps'], ['deployments/scale'])], []],
    [[r(['get'], [''], ['pods/*'])], [r(['get'], [''], ['pods/log'])], []],
    [[r(['get'], [''], ['pods'])], [r(['get'], [''], ['pods/log'])], [r(['get'], [''], ['pods/log'])]],
  ])('owner %j covers %j, missing %j', (owner, servant, missing) => {
    expect(uncoveredRules(owner, servant)).toEqual(missing);
  });

  test('non-resource URLs', () => {
    expect(uncoveredRules([{ verbs: ['get'], nonResourceURLs: ['/logs/*'] }], [{ verbs: ['get'], nonResourceURLs: ['/logs/a', '/logs/*'] }])).toEqual([]);
    expect(uncoveredRules([{ verbs: ['get'], nonResourceURLs: ['/logs/*'] }], [{ verbs: ['get', 'post'], nonResourceURLs: ['/logs'] }])).toHaveLength(2);
  });

  test('messages show rules the way upstream does', () => {
    expect(formatRule(r(['get', 'list'], [''], ['pods']))).toBe('{APIGroups:[""], Resources:["pods"], Verbs:["get" "list"]}');
    expect(formatRule({ verbs: ['get'], nonResourceURLs: ['/metrics'] })).toBe('{NonResourceURLs:["/metrics"], Verbs:["get"]}');
  });
});

describe('aggregation', () => {
  const cr = (name: string, labels: Record<string, string>, rules: PolicyRule[]) => ({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules });
  test('the union of the selected roles\' rules, in name order, without duplicates or itself', () => {
    const agg = { ...cr('agg', { x: 'true' }, [r(['*'], ['*'], ['*'])]), aggregationRule: { clusterRoleSelectors: [{ matchLabels: { x: 'true' } as Record<string, string> }, { matchLabels: { y: 'true' } as Record<string, string> }] } };
    const all = [agg, cr('b', { x: 'true' }, [r(['get'], [''], ['pods']), r(['list'], [''], ['pods'])]), cr('a', { y: 'true' }, [r(['get'], [''], ['pods'])]), cr('c', {}, [r(['*'], [''], ['secrets'])])];
    expect(aggregatedRules(agg, all)).toEqual([r(['get'], [''], ['pods']), r(['list'], [''], ['pods'])]);
  });
});
