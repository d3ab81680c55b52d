import { describe, expect, test } from 'vitest';
import { fieldSetOf, pathText, type FieldType, type ListType } from '../machinery/index.js';
import { builtinResources, fieldTypeOf, jsonSchemaFieldType } from './index.js';

const rt = (kind: string) => builtinResources.find((r) => r.kind === kind)!;

/** Follows field names (and `[]` for list items) down a FieldType. */
function at(t: FieldType, ...path: string[]): FieldType {
  let cur = t;
  for (const p of path) {
    if (p === '[]') cur = (cur as ListType).item();
    else if (cur.kind === 'struct') cur = cur.field(p)!;
    else if (cur.kind === 'map') cur = cur.value();
    else throw new Error(`cannot step into ${p}`);
  }
  return cur;
}

describe('built-in kinds from their zod schemas', () => {
  const deploy = fieldTypeOf(rt('Deployment'));
  test.each([
    ['spec.replicas', ['spec', 'replicas'], { kind: 'scalar' }],
    ['spec.selector (LabelSelector is atomic)', ['spec', 'selector'], { kind: 'struct', atomic: true }],
    ['containers keyed by name', ['spec', 'template', 'spec', 'containers'], { kind: 'list', listType: 'map', keys: ['name'] }],
    ['ports keyed by containerPort and protocol', ['spec', 'template', 'spec', 'containers', '[]', 'ports'], { kind: 'list', listType: 'map', keys: ['containerPort', 'protocol'] }],
    ['args atomic', ['spec', 'template', 'spec', 'containers', '[]', 'args'], { kind: 'list', listType: 'atomic' }],
    ['finalizers a set', ['metadata', 'finalizers'], { kind: 'list', listType: 'set' }],
    ['labels a map', ['metadata', 'labels'], { kind: 'map' }],
    ['imagePullSecrets items are atomic references', ['spec', 'template', 'spec', 'imagePullSecrets', '[]'], { kind: 'struct', atomic: true }],
  ])('%s', (_n, path, want) => {
    expect(at(deploy, ...path)).toMatchObject(want);
  });

  test('a port without protocol is keyed as TCP, its default', () => {
    const ports = at(deploy, 'spec', 'template', 'spec', 'containers', '[]', 'ports') as ListType;
    expect(ports.keyDefault?.('protocol')).toBe('TCP');
    const svcPorts = at(fieldTypeOf(rt('Service')), 'spec', 'ports') as ListType;
    expect(svcPorts.keys).toEqual(['port', 'protocol']);
    expect(svcPorts.keyDefault?.('protocol')).toBe('TCP');
  });

  test('a Deployment configuration owns what kubectl users see in managedFields', () => {
    const config = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'web', labels: { app: 'web' } },
      spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ containerPort: 80 }] }] } } },
    };
    expect(fieldSetOf(config, deploy, true).paths().map(pathText)).toEqual([
      '.apiVersion',
      '.kind',
      '.metadata.labels.app',
      '.metadata.name',
      '.spec.replicas',
      '.spec.selector',
      '.spec.template.spec.containers[name="web"]',
      '.spec.template.spec.containers[name="web"].image',
      '.spec.template.spec.containers[name="web"].name',
      '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]',
      '.spec.template.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort',
    ]);
  });
});

describe('custom resources from their structural schema', () => {
  const t = jsonSchemaFieldType({
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          items: { type: 'array', 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['id'], items: { type: 'object', properties: { id: { type: 'string' } } } },
          tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          plain: { type: 'array', items: { type: 'string' } },
          limits: { type: 'object', additionalProperties: { type: 'string' } },
          ref: { type: 'object', 'x-kubernetes-map-type': 'atomic', properties: { name: { type: 'string' } } },
          free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
          port: { 'x-kubernetes-int-or-string': true },
        },
      },
    },
  });
  test.each([
    ['items', { kind: 'list', listType: 'map', keys: ['id'] }],
    ['tags', { kind: 'list', listType: 'set' }],
    ['plain', { kind: 'list', listType: 'atomic' }],
    ['limits', { kind: 'map' }],
    ['ref', { kind: 'struct', atomic: true }],
    ['free', { kind: 'untyped' }],
    ['port', { kind: 'scalar' }],
  ])('spec.%s', (field, want) => {
    expect(at(t, 'spec', field)).toMatchObject(want);
  });
});
