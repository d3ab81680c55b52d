import { describe, expect, test } from 'vitest';
import { FakeClient } from '../../client/index.js';
import { staticDiscovery } from '../garbagecollector/index.js';
import { formatMilli, toMilli } from './quantity.js';
import { APIScaleClient, parseGroupVersion } from './scale-client.js';

describe('scale targets', () => {
  const widgets = { group: 'example.com', version: 'v1', resource: 'widgets', kind: 'Widget', namespaced: true, verbs: ['get', 'list'] };
  const client = new APIScaleClient(new FakeClient(), staticDiscovery([widgets]));

  test('built-in kinds map through lib/api, custom ones through discovery', async () => {
    expect((await client.resourcesFor({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'web' })).map((d) => `${d.group}/${d.version}/${d.resource}`)).toEqual(['apps/v1/deployments']);
    expect((await client.resourcesFor({ apiVersion: 'v1', kind: 'ReplicationController', name: 'rc' })).map((d) => d.resource)).toEqual(['replicationcontrollers']);
    expect((await client.resourcesFor({ apiVersion: 'example.com/v1', kind: 'Widget', name: 'w' })).map((d) => `${d.group}/${d.version}/${d.resource}`)).toEqual(['example.com/v1/widgets']);
  });

  test('unknown kinds and malformed apiVersions say what is wrong', async () => {
    await expect(client.resourcesFor({ apiVersion: 'example.com/v1', kind: 'Gadget', name: 'g' })).rejects.toThrow('no matches for kind "Gadget" in group "example.com"');
    expect(() => parseGroupVersion('a/b/c')).toThrow('unexpected GroupVersion string: a/b/c');
    expect(parseGroupVersion('apps/v1')).toEqual({ group: 'apps', version: 'v1' });
  });
});

describe('quantities in milli-units', () => {
  test.each([
    ['230m', 230],
    ['1', 1000],
    ['0.5', 500],
    ['123456789n', 124],
    ['100Mi', 104857600000],
    ['0', 0],
  ])('%s is %d milli', (q, milli) => {
    expect(toMilli(q)).toBe(milli);
  });

  test.each([
    [230, '230m'],
    [1000, '1'],
    [1500, '1500m'],
    [200_000_000_000, '200M'],
    [104857600000, '104857600'],
    [0, '0'],
  ])('%d milli reads %s', (milli, q) => {
    expect(formatMilli(milli)).toBe(q);
  });
});
