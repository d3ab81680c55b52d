import { describe, expect, test } from 'vitest';
import { z } from 'zod';
import { doc, int32, int64, IntOrString, mergeList, named, Quantity, StringMap, Time, AnyJSON } from '../schema.js';
import { PodSpecSchema } from '../core/v1-pod.js';
import { SchemaConverter, type SchemaObject } from './schema-convert.js';

const Inner = named(z.object({ a: doc(z.string(), 'The a.') }), 'test.v1.Inner', 'An inner thing.');
const Outer = named(
  z.object({
    apiVersion: z.string().optional(),
    kind: z.string().optional(),
    inner: doc(Inner.optional(), 'The inner field.'),
    bare: Inner.optional(),
    when: Time.optional().nullable(),
    count: int32().optional(),
    big: int64(),
    ratio: z.number().optional(),
    port: IntOrString.optional(),
    cpu: Quantity.optional(),
    mode: doc(z.enum(['Fast', 'Slow']).optional(), 'How fast.'),
    labels: StringMap.optional(),
    items: mergeList(Inner, 'a', 'Inner things by a.').optional(),
    free: AnyJSON.optional(),
    loose: z.object({}).loose().optional(),
    flag: z.boolean().default(false),
  }),
  'test.v1.Outer',
  'An outer thing.',
);

function convert(dialect: 'v2' | 'v3', schema: z.ZodType = Outer) {
  const c = new SchemaConverter(dialect);
  const d = c.definition(schema);
  return { body: d.schema, props: d.schema['properties'] as Record<string, SchemaObject>, refs: d.refs, c };
}

describe('SchemaConverter', () => {
  test('a named schema becomes a $ref; v3 wraps it in allOf to keep the field doc, v2 keeps the doc beside it', () => {
    const v3 = convert('v3');
    expect(v3.props['inner']).toEqual({ allOf: [{ $ref: '#/components/schemas/test.v1.Inner' }], description: 'The inner field.' });
    expect(v3.props['bare']).toEqual({ $ref: '#/components/schemas/test.v1.Inner' });
    expect([...v3.refs.keys()]).toContain('test.v1.Inner');
    const v2 = convert('v2');
    expect(v2.props['inner']).toEqual({ $ref: '#/definitions/test.v1.Inner', description: 'The inner field.' });
  });

  test('the definition itself carries its description, properties and required list', () => {
    const { body } = convert('v3', Inner);
    expect(body).toEqual({ type: 'object', description: 'An inner thing.', properties: { a: { type: 'string', description: 'The a.' } }, required: ['a'] });
  });

  test('integers keep int32/int64 formats; plain numbers are doubles', () => {
    const { props } = convert('v3');
    expect(props['count']).toEqual({ type: 'integer', format: 'int32' });
    expect(props['big']).toEqual({ type: 'integer', format: 'int64' });
    expect(props['ratio']).toEqual({ type: 'number', format: 'double' });
    expect(convert('v3').body['required']).toEqual(['big']);
  });

  test('IntOrString and Quantity: int-or-string with the x-kubernetes-int-or-string mark; v3 lists the alternatives', () => {
    for (const s of [IntOrString, Quantity]) {
      const { body } = convert('v2', s);
      expect(body).toMatchObject({ type: 'string', format: 'int-or-string', 'x-kubernetes-int-or-string': true });
      expect(typeof body['description']).toBe('string');
    }
    expect(convert('v3', IntOrString).body).toMatchObject({ oneOf: [{ type: 'integer' }, { type: 'string' }], format: 'int-or-string', 'x-kubernetes-int-or-string': true });
    expect(convert('v3', IntOrString).body['type']).toBeUndefined();
    expect(convert('v3', Quantity).body).toMatchObject({ oneOf: [{ type: 'string' }, { type: 'number' }], 'x-kubernetes-int-or-string': true });
    expect(convert('v3').props['cpu']).toEqual({ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.api.resource.Quantity' });
  });

  test('Time is a date-time string definition; nullable only exists in v3', () => {
    expect(convert('v3', Time).body).toMatchObject({ type: 'string', format: 'date-time' });
    expect(convert('v3').props['when']).toEqual({ allOf: [{ $ref: '#/components/schemas/io.k8s.apimachinery.pkg.apis.meta.v1.Time' }], nullable: true });
    expect(convert('v2').props['when']).toEqual({ $ref: '#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.Time' });
  });

  test('enums, maps, free-form values and defaults', () => {
    const { props } = convert('v3');
    expect(props['mode']).toEqual({ type: 'string', enum: ['Fast', 'Slow'], description: 'How fast.' });
    expect(props['labels']).toEqual({ type: 'object', additionalProperties: { type: 'string' } });
    expect(props['free']).toEqual({ 'x-kubernetes-preserve-unknown-fields': true });
    expect(props['loose']).toEqual({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
    expect(props['flag']).toEqual({ type: 'boolean', default: false });
  });

  test('list extensions for strategic merge patch and server-side apply are carried through', () => {
    const { props } = convert('v3');
    expect(props['items']).toEqual({
      type: 'array',
      items: { $ref: '#/components/schemas/test.v1.Inner' },
      description: 'Inner things by a.',
      'x-kubernetes-patch-merge-key': 'a',
      'x-kubernetes-patch-strategy': 'merge',
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['a'],
    });
    const containers = (new SchemaConverter('v3').definition(PodSpecSchema).schema['properties'] as Record<string, SchemaObject>)['containers'];
    expect(containers).toMatchObject({ 'x-kubernetes-patch-merge-key': 'name', 'x-kubernetes-patch-strategy': 'merge', items: { $ref: '#/components/schemas/io.k8s.api.core.v1.Container' } });
  });

  test('kinds get standard docs for apiVersion, kind, metadata, spec and status when their schema has none', () => {
    const { props } = convert('v3');
    expect(props['apiVersion']!['description']).toMatch(/versioned schema/);
    expect(props['kind']!['description']).toMatch(/REST kind/);
    const kind = named(
      z.object({ apiVersion: z.string(), kind: z.string(), spec: Inner.optional(), status: doc(Inner.optional(), 'Its own words.') }),
      'test.v1.Kind',
    );
    const kindProps = convert('v3', kind).props;
    expect(kindProps['spec']).toEqual({ allOf: [{ $ref: '#/components/schemas/test.v1.Inner' }], description: expect.stringMatching(/^The desired state/) });
    expect(kindProps['status']!['description']).toBe('Its own words.');
    // Objects that are not kinds keep their fields as they are.
    expect(convert('v3', named(z.object({ spec: Inner }), 'test.v1.NotAKind')).props['spec']).toEqual({ $ref: '#/components/schemas/test.v1.Inner' });
  });

  test('definitions are converted once per zod schema and shared', () => {
    const c = new SchemaConverter('v3');
    expect(c.definition(Outer)).toBe(c.definition(Outer));
  });
});
