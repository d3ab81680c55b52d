import { describe, expect, test } from 'vitest';
import { applyStrategicMergePatch } from '../../machinery/index.js';
import { builtinResources, schemaNode } from '../../api/index.js';
import { threeWayPatch } from './three-way.js';

const deploySchema = schemaNode(builtinResources.find((r) => r.kind === 'Deployment')!.schema)!;
const tpl = (containers: unknown[]) => ({ spec: { template: { spec: { containers } } } });

describe('client-side apply\'s three-way patch', () => {
  test('nothing to do when the file matches what is live', () => {
    const o = { metadata: { labels: { a: '1' } } };
    expect(threeWayPatch(o, o, { ...o, status: { x: 1 } }, deploySchema)).toEqual({});
  });
  test('fields others set are kept; fields dropped from the file are deleted', () => {
    const original = { metadata: { labels: { app: 'web', tier: 'x' } }, spec: { replicas: 2 } };
    const modified = { metadata: { labels: { app: 'web' } }, spec: { replicas: 2 } };
    const current = { metadata: { labels: { app: 'web', tier: 'x', extra: '1' } }, spec: { replicas: 5 } };
    expect(threeWayPatch(original, modified, current, deploySchema)).toEqual({ metadata: { labels: { tier: null } }, spec: { replicas: 2 } });
  });
  test('containers are patched by name, removed ones with $patch: delete, in the file\'s order', () => {
    const original = tpl([{ name: 'web', image: 'nginx:1.27' }, { name: 'side', image: 'busybox' }]);
    const modified = tpl([{ name: 'first', image: 'redis' }, { name: 'web', image: 'nginx:1.28' }]);
    const current = tpl([{ name: 'web', image: 'nginx:1.27', imagePullPolicy: 'IfNotPresent' }, { name: 'side', image: 'busybox' }]);
    const patch = threeWayPatch(original, modified, current, deploySchema);
    const merged = applyStrategicMergePatch(current, patch, deploySchema) as any;
    expect(merged.spec.template.spec.containers).toEqual([
      { name: 'first', image: 'redis' },
      { name: 'web', image: 'nginx:1.28', imagePullPolicy: 'IfNotPresent' },
    ]);
  });
  test('retainKeys maps (deployment strategy) drop the keys the file no longer has', () => {
    const current = { spec: { strategy: { type: 'RollingUpdate', rollingUpdate: { maxSurge: '25%' } } } };
    const modified = { spec: { strategy: { type: 'Recreate' } } };
    const patch = threeWayPatch({}, modified, current, deploySchema);
    expect((applyStrategicMergePatch(current, patch, deploySchema) as any).spec.strategy).toEqual({ type: 'Recreate' });
  });
  test('without a schema (custom resources) lists are replaced whole', () => {
    expect(threeWayPatch({ spec: { l: [1, 2] } }, { spec: { l: [2] } }, { spec: { l: [1, 2] } }, undefined)).toEqual({ spec: { l: [2] } });
  });
});
