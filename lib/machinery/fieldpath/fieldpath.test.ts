import { describe, expect, test } from 'vitest';
import {
  FieldSet,
  FieldTypeError,
  PathError,
  compareValues,
  dropUnknownFields,
  fieldElement as f,
  fieldSetOf,
  keyElement as k,
  mergeValues,
  pathText,
  removeFields,
  scalarType,
  untypedType,
  valueElement as v,
  withNamedFields,
  type FieldType,
} from '../index.js';

// A small kind: spec with replicas, an atomic args list, a set of finalizers, containers keyed
// by name (with ports keyed by containerPort+protocol), a labels map and an atomic selector.
const port: FieldType = { kind: 'struct', field: (n) => (['containerPort', 'protocol', 'name'].includes(n) ? scalarType : undefined) };
const container: FieldType = {
  kind: 'struct',
  field: (n) =>
    n === 'name' || n === 'image'
      ? scalarType
      : n === 'args'
        ? { kind: 'list', listType: 'atomic', keys: [], item: () => scalarType }
        : n === 'ports'
          ? { kind: 'list', listType: 'map', keys: ['containerPort', 'protocol'], item: () => port, keyDefault: (key) => (key === 'protocol' ? 'TCP' : undefined) }
          : undefined,
};
const labels: FieldType = { kind: 'map', value: () => scalarType };
const selector: FieldType = { kind: 'struct', atomic: true, field: (n) => (n === 'matchLabels' ? labels : undefined) };
const spec: FieldType = {
  kind: 'struct',
  field: (n) =>
    ({
      replicas: scalarType,
      selector,
      finalizers: { kind: 'list', listType: 'set', keys: [], item: () => scalarType } as FieldType,
      containers: { kind: 'list', listType: 'map', keys: ['name'], item: () => container } as FieldType,
      config: untypedType,
    })[n],
};
const meta: FieldType = { kind: 'struct', field: (n) => (n === 'labels' || n === 'annotations' ? labels : n === 'name' ? scalarType : undefined) };
const kind: FieldType = { kind: 'struct', field: (n) => (n === 'spec' ? spec : n === 'metadata' ? meta : n === 'apiVersion' || n === 'kind' ? scalarType : undefined) };

const paths = (s: FieldSet) => s.paths().map(pathText);

describe('fieldsV1 encoding', () => {
  const stored = {
    'f:metadata': { 'f:labels': { '.': {}, 'f:app': {} } },
    'f:spec': {
      'f:containers': { 'k:{"name":"web"}': { '.': {}, 'f:image': {}, 'f:name': {} } },
      'f:finalizers': { 'v:"a"': {} },
      'f:replicas': {},
    },
  };

  test('round-trips, with "." marking a member that has children', () => {
    const s = FieldSet.fromJSON(stored);
    expect(s.toJSON()).toEqual(stored);
    expect(s.has([f('metadata'), f('labels')])).toBe(true);
    expect(s.has([f('metadata')])).toBe(false);
    expect(s.has([f('spec'), f('containers'), k({ name: 'web' })])).toBe(true);
    expect(paths(s)).toEqual([
      '.metadata.labels',
      '.metadata.labels.app',
      '.spec.containers[name="web"]',
      '.spec.containers[name="web"].image',
      '.spec.containers[name="web"].name',
      '.spec.finalizers[="a"]',
      '.spec.replicas',
    ]);
  });

  test('key elements are canonical: key fields sorted, however a client wrote them', () => {
    const s = FieldSet.fromJSON({ 'f:ports': { 'k:{"protocol":"TCP","containerPort":80}': {} } });
    expect(Object.keys(s.toJSON()['f:ports'] as object)).toEqual(['k:{"containerPort":80,"protocol":"TCP"}']);
    expect(s.has([f('ports'), k({ protocol: 'TCP', containerPort: 80 })])).toBe(true);
    expect(pathText([f('ports'), k({ protocol: 'TCP', containerPort: 80 })])).toBe('.ports[containerPort=80,protocol="TCP"]');
  });

  test.each([
    [{ 'x:foo': {} }, 'unexpected path element'],
    [{ 'f:a': 'b' }, 'must be a JSON object'],
    [{ '.': {} }, 'top level'],
    [{ 'k:{oops': {} }, 'invalid key element'],
    [['f:a'], 'must be a JSON object'],
  ])('refuses %j', (json, msg) => {
    expect(() => FieldSet.fromJSON(json)).toThrow(PathError);
    expect(() => FieldSet.fromJSON(json)).toThrow(msg);
  });

  test('an empty set is {}', () => {
    expect(FieldSet.fromJSON({}).isEmpty()).toBe(true);
    expect(new FieldSet().toJSON()).toEqual({});
  });
});

describe('set algebra', () => {
  const a = FieldSet.of([f('a')], [f('b'), f('c')], [f('b'), f('d')]);
  const b = FieldSet.of([f('b'), f('c')], [f('e')]);
  test.each([
    ['union', a.union(b), ['.a', '.b.c', '.b.d', '.e']],
    ['difference', a.difference(b), ['.a', '.b.d']],
    ['intersection', a.intersection(b), ['.b.c']],
    ['difference leaves no empty branches', FieldSet.of([f('b'), f('c')]).difference(b), []],
  ])('%s', (_n, s, want) => {
    expect(paths(s)).toEqual(want);
    if (want.length === 0) expect(s.toJSON()).toEqual({});
  });

  test('a member with children stays a member after removing a child', () => {
    const s = FieldSet.of([f('x')], [f('x'), f('y')]).difference(FieldSet.of([f('x'), f('y')]));
    expect(s.toJSON()).toEqual({ 'f:x': {} });
  });

  test('equals ignores structure that holds no members', () => {
    expect(FieldSet.of([f('a')]).equals(FieldSet.fromJSON({ 'f:a': {} }))).toBe(true);
    expect(FieldSet.of([f('a')]).equals(FieldSet.of([f('a'), f('b')]))).toBe(false);
  });
});

describe('fieldSetOf (what a configuration claims)', () => {
  test.each([
    ['scalars and struct fields: only leaves', { spec: { replicas: 3 } }, ['.spec.replicas']],
    ['map entries are members, the map field is not', { metadata: { labels: { app: 'web' } } }, ['.metadata.labels.app']],
    ['an empty struct or map is a member', { metadata: { labels: {} }, spec: {} }, ['.metadata.labels', '.spec']],
    ['null is a member', { spec: { replicas: null } }, ['.spec.replicas']],
    ['atomic struct is one leaf', { spec: { selector: { matchLabels: { app: 'web' } } } }, ['.spec.selector']],
    ['set items by value', { spec: { finalizers: ['a', 'b'] } }, ['.spec.finalizers[="a"]', '.spec.finalizers[="b"]']],
    ['an empty set claims nothing', { spec: { finalizers: [] } }, []],
    [
      'associative list items by key, with their fields',
      { spec: { containers: [{ name: 'web', image: 'nginx', args: ['-v'] }] } },
      ['.spec.containers[name="web"]', '.spec.containers[name="web"].args', '.spec.containers[name="web"].image', '.spec.containers[name="web"].name'],
    ],
    [
      'a missing key takes its default',
      { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80 }] }] } },
      ['.spec.containers[name="web"]', '.spec.containers[name="web"].name', '.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"]', '.spec.containers[name="web"].ports[containerPort=80,protocol="TCP"].containerPort'],
    ],
    ['untyped objects: every entry is a member', { spec: { config: { a: { b: 1 } } } }, ['.spec.config.a', '.spec.config.a.b']],
  ])('%s', (_n, value, want) => {
    expect(paths(fieldSetOf(value, kind, true))).toEqual(want);
  });

  test.each([
    [{ spec: { containers: [{ image: 'x' }] } }, '.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn\'t have default value)'],
    [{ spec: { containers: [{ name: 'a' }, { name: 'a' }] } }, '.spec.containers: duplicate entries for key [name="a"]'],
    [{ spec: { finalizers: ['x', 'x'] } }, '.spec.finalizers: duplicate entries for key [="x"]'],
  ])('refuses %j in a configuration', (value, msg) => {
    expect(() => fieldSetOf(value, kind, true)).toThrow(FieldTypeError);
    expect(() => fieldSetOf(value, kind, true)).toThrow(msg);
  });

  test('a stored object with duplicate keys is treated as one atomic list', () => {
    expect(paths(fieldSetOf({ spec: { containers: [{ name: 'a' }, { name: 'a' }] } }, kind))).toEqual(['.spec.containers']);
  });
});

describe('compareValues', () => {
  test.each([
    ['a changed scalar is modified', { spec: { replicas: 1 } }, { spec: { replicas: 2 } }, { modified: ['.spec.replicas'] }],
    ['a new subtree lists every node', { spec: {} }, { spec: { containers: [{ name: 'a' }] } }, { added: ['.spec.containers', '.spec.containers[name="a"]', '.spec.containers[name="a"].name'] }],
    ['a gone map entry is removed', { metadata: { labels: { a: '1', b: '2' } } }, { metadata: { labels: { a: '1' } } }, { removed: ['.metadata.labels.b'] }],
    ['set items by value', { spec: { finalizers: ['a', 'b'] } }, { spec: { finalizers: ['b', 'c'] } }, { added: ['.spec.finalizers[="c"]'], removed: ['.spec.finalizers[="a"]'] }],
    ['reordering a set or keyed list changes nothing', { spec: { finalizers: ['a', 'b'], containers: [{ name: 'x' }, { name: 'y' }] } }, { spec: { finalizers: ['b', 'a'], containers: [{ name: 'y' }, { name: 'x' }] } }, {}],
    ['an atomic list is one leaf', { spec: { containers: [{ name: 'x', args: ['1'] }] } }, { spec: { containers: [{ name: 'x', args: ['1', '2'] }] } }, { modified: ['.spec.containers[name="x"].args'] }],
    ['an atomic struct is one leaf', { spec: { selector: { matchLabels: { a: '1' } } } }, { spec: { selector: { matchLabels: { a: '2' } } } }, { modified: ['.spec.selector'] }],
  ])('%s', (_n, l, r, want) => {
    const c = compareValues(l, r, kind);
    expect({ added: paths(c.added), modified: paths(c.modified), removed: paths(c.removed) }).toEqual({ added: [], modified: [], removed: [], ...want });
  });
});

describe('mergeValues (configuration over live)', () => {
  test.each([
    ['scalars from the configuration win; other fields stay', { spec: { replicas: 1, finalizers: ['a'] } }, { spec: { replicas: 3 } }, { spec: { replicas: 3, finalizers: ['a'] } }],
    ['maps merge by key', { metadata: { labels: { a: '1', b: '2' } } }, { metadata: { labels: { b: '3', c: '4' } } }, { metadata: { labels: { a: '1', b: '3', c: '4' } } }],
    ['atomic structs are replaced whole', { spec: { selector: { matchLabels: { a: '1' } } } }, { spec: { selector: { matchLabels: { b: '2' } } } }, { spec: { selector: { matchLabels: { b: '2' } } } }],
    ['sets take the union, live-only items keeping their place', { spec: { finalizers: ['a', 'b', 'c'] } }, { spec: { finalizers: ['c', 'd'] } }, { spec: { finalizers: ['a', 'b', 'c', 'd'] } }],
    [
      'keyed items merge field by field; atomic lists inside are replaced',
      { spec: { containers: [{ name: 'sidecar', image: 's' }, { name: 'web', image: 'old', args: ['a', 'b'] }] } },
      { spec: { containers: [{ name: 'web', image: 'new', args: ['c'] }, { name: 'extra', image: 'e' }] } },
      { spec: { containers: [{ name: 'sidecar', image: 's' }, { name: 'web', image: 'new', args: ['c'] }, { name: 'extra', image: 'e' }] } },
    ],
    ['the configuration onto nothing is the configuration', undefined, { spec: { replicas: 2 } }, { spec: { replicas: 2 } }],
    ['live-only items stay where they stand; new ones follow', { spec: { finalizers: ['a', 'x', 'b'] } }, { spec: { finalizers: ['a', 'b', 'c'] } }, { spec: { finalizers: ['a', 'x', 'b', 'c'] } }],
    ['the configuration decides the order of shared items', { spec: { finalizers: ['a', 'x', 'b'] } }, { spec: { finalizers: ['b', 'a'] } }, { spec: { finalizers: ['x', 'b', 'a'] } }],
  ])('%s', (_n, l, r, want) => {
    expect(mergeValues(l, r, kind)).toEqual(want);
  });

  test('the inputs are not modified', () => {
    const l = { spec: { containers: [{ name: 'a', image: '1' }] } };
    const r = { spec: { containers: [{ name: 'a', image: '2' }] } };
    mergeValues(l, r, kind);
    expect(l.spec.containers[0]!.image).toBe('1');
  });
});

describe('removeFields and withNamedFields', () => {
  const obj = { metadata: { labels: { a: '1', b: '2' } }, spec: { replicas: 3, finalizers: ['x', 'y'], containers: [{ name: 'web', image: 'i' }, { name: 'db', image: 'j' }] } };

  test.each([
    ['a scalar', [[f('spec'), f('replicas')]], { ...obj, spec: { ...obj.spec, replicas: undefined } }],
    ['a map entry', [[f('metadata'), f('labels'), f('b')]], { ...obj, metadata: { labels: { a: '1' } } }],
    ['a set item', [[f('spec'), f('finalizers'), v('x')]], { ...obj, spec: { ...obj.spec, finalizers: ['y'] } }],
    ['a keyed item with everything in it', [[f('spec'), f('containers'), k({ name: 'web' })]], { ...obj, spec: { ...obj.spec, containers: [{ name: 'db', image: 'j' }] } }],
    ['a field inside a keyed item', [[f('spec'), f('containers'), k({ name: 'db' }), f('image')]], { ...obj, spec: { ...obj.spec, containers: [{ name: 'web', image: 'i' }, { name: 'db' }] } }],
  ])('removes %s', (_n, ps, want) => {
    expect(removeFields(obj, FieldSet.of(...(ps as string[][])), kind)).toEqual(JSON.parse(JSON.stringify(want)));
  });

  test('named struct fields on the way become members; map entries and list items do not', () => {
    const s = withNamedFields(FieldSet.of([f('spec'), f('containers'), k({ name: 'web' }), f('image')], [f('metadata'), f('labels'), f('a')]), kind);
    expect(paths(s)).toEqual(['.metadata', '.metadata.labels', '.metadata.labels.a', '.spec', '.spec.containers', '.spec.containers[name="web"].image']);
  });
});

test('dropUnknownFields keeps what the kind declares and free-form data', () => {
  expect(dropUnknownFields({ spec: { replicas: 1, bogus: 2, config: { any: { thing: 1 } }, containers: [{ name: 'a', nope: 1 }] } }, kind)).toEqual({
    spec: { replicas: 1, config: { any: { thing: 1 } }, containers: [{ name: 'a' }] },
  });
});
