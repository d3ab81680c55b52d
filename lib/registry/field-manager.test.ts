import { describe, expect, test } from 'vitest';
import { builtinResources, type KubeObject } from '../api/index.js';
import { StatusError } from '../machinery/index.js';
import { applyConfiguration, lastAppliedAnnotation, trackUpdate } from './field-manager.js';

const rt = (kind: string) => builtinResources.find((r) => r.kind === kind)!;
const cmRT = rt('ConfigMap');
const deployRT = rt('Deployment');
const T1 = '2024-01-01T00:00:00Z';
const T2 = '2024-01-02T00:00:00Z';

type Obj = KubeObject & Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
const cm = (data: Record<string, string>, extra: Partial<KubeObject['metadata']> = {}): Obj => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n', uid: 'u', ...extra }, data });
const managers = (o: KubeObject) => (o.metadata.managedFields ?? []).map((e) => `${e.manager}/${e.operation}${e.subresource ? `/${e.subresource}` : ''}`);
const fieldsOf = (o: KubeObject, manager: string, operation = 'Update') => o.metadata.managedFields?.find((e) => e.manager === manager && e.operation === operation)?.fieldsV1;
const update = (live: Obj | null, next: Obj, manager: string, subresource = '', now = T2) => {
  const out = structuredClone(next);
  trackUpdate(live?.kind === 'Deployment' || next.kind === 'Deployment' ? deployRT : cmRT, live, out, { manager, apiVersion: next.kind === 'Deployment' ? 'apps/v1' : 'v1', subresource }, now);
  return out;
};
const applyCM = (live: Obj | null, data: Record<string, string> | undefined, manager: string, opts: { force?: boolean; extra?: Record<string, unknown> } = {}) =>
  applyConfiguration(cmRT, live, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, ...(data ? { data } : {}), ...opts.extra }, { manager, apiVersion: 'v1', subresource: '', force: opts.force ?? false }, T2) as Obj;

function conflictOf(fn: () => unknown): StatusError {
  try {
    fn();
  } catch (err) {
    if (err instanceof StatusError) return err;
    throw err;
  }
  throw new Error('no conflict');
}

describe('trackUpdate (create, update, patch)', () => {
  const created = update(null, cm({ a: '1', b: '2' }, { labels: { x: 'y' } }), 'creator', '', T1);

  test('a create owns everything it set; new maps and structs carry ".", the top-level ones do not', () => {
    expect(created.metadata.managedFields).toEqual([
      { manager: 'creator', operation: 'Update', apiVersion: 'v1', time: T1, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } } },
    ]);
    const d = update(null, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 1, strategy: { type: 'Recreate' } } } as Obj, 'creator');
    expect(fieldsOf(d, 'creator')).toEqual({ 'f:spec': { 'f:replicas': {}, 'f:strategy': { '.': {}, 'f:type': {} } } });
  });

  test('objects that differ only in never-owned fields get the same fields, under each request\'s own manager and time; others get their own', () => {
    const first = update(null, cm({ a: '1', b: '2' }, { name: 'c1', uid: 'u1', labels: { x: 'y' } }), 'one', '', T1);
    const second = update(null, cm({ a: '5', b: '6' }, { name: 'c2', uid: 'u2', creationTimestamp: T2, labels: { x: 'y' } }), 'two', '', T2);
    // Same keys, other values: the same fields (a value never shows in a field set)...
    expect(second.metadata.managedFields).toEqual([{ manager: 'two', operation: 'Update', apiVersion: 'v1', time: T2, fieldsType: 'FieldsV1', fieldsV1: fieldsOf(first, 'one') }]);
    // ...and a copy of its own: changing one object's entry leaves the next create's alone.
    (fieldsOf(second, 'two') as Record<string, unknown>)['f:data'] = {};
    const third = update(null, cm({ a: '1', b: '2' }, { name: 'c3', labels: { x: 'y' } }), '', '', T2);
    expect(third.metadata.managedFields).toEqual([{ manager: 'unknown', operation: 'Update', apiVersion: 'v1', time: T2, fieldsType: 'FieldsV1', fieldsV1: fieldsOf(first, 'one') }]);
    // Another label, another data key, no data at all: other fields.
    expect(fieldsOf(update(null, cm({ a: '1', b: '2' }, { name: 'c4', labels: { z: 'y' } }), 'one'), 'one')).toEqual({ 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:z': {} } } });
    expect(fieldsOf(update(null, cm({ c: '1' }, { name: 'c5' }), 'one'), 'one')).toEqual({ 'f:data': { '.': {}, 'f:c': {} } });
    const bare = update(null, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c6', namespace: 'n' } } as Obj, 'one');
    expect(bare.metadata.managedFields).toBeUndefined();
    expect(update(null, { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c7', namespace: 'n' } } as Obj, 'one').metadata.managedFields).toBeUndefined();
  });

  test.each([
    ['a changed value moves to the writer', cm({ a: '9', b: '2' }, { labels: { x: 'y' } }), { creator: { 'f:data': { '.': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } }, editor: { 'f:data': { 'f:a': {} } } }],
    ['a removed value leaves every manager', cm({ b: '2' }, { labels: { x: 'y' } }), { creator: { 'f:data': { '.': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } } }],
    ['a manager left with nothing disappears', cm({ z: '1' }), { editor: { 'f:data': { 'f:z': {} } }, creator: { 'f:data': {} } }],
    ['nothing changed, nothing recorded', cm({ a: '1', b: '2' }, { labels: { x: 'y' } }), { creator: { 'f:data': { '.': {}, 'f:a': {}, 'f:b': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } } }],
  ])('%s', (_n, next, want) => {
    const out = update(created, next, 'editor');
    expect(Object.fromEntries((out.metadata.managedFields ?? []).map((e) => [e.manager, e.fieldsV1]))).toEqual(want);
  });

  test('updates by one manager merge into one entry, with the time of its last change', () => {
    const a = update(created, cm({ a: '9', b: '2' }, { labels: { x: 'y' } }), 'editor', '', T2);
    const b = update(a, cm({ a: '9', b: '8' }, { labels: { x: 'y' } }), 'editor', '', '2024-01-03T00:00:00Z');
    expect(managers(b)).toEqual(['creator/Update', 'editor/Update']);
    expect(b.metadata.managedFields![1]).toMatchObject({ time: '2024-01-03T00:00:00Z', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} } } });
  });

  test.each([
    ['[]', []],
    ['[{}]', [{}]],
  ])('%s clears managedFields, and later updates are not tracked', (_n, reset) => {
    const cleared = update(created, { ...cm({ a: '1', b: '2' }), metadata: { ...created.metadata, managedFields: reset as never } }, 'x');
    expect(cleared.metadata.managedFields).toBeUndefined();
    expect(update(cleared, cm({ c: '3' }), 'y').metadata.managedFields).toBeUndefined();
  });

  test('valid managedFields a client sends are kept; invalid ones fall back to the live ones', () => {
    const mine = [{ manager: 'mine', operation: 'Apply' as const, apiVersion: 'v1', fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {} } } }];
    expect(managers(update(created, { ...created, metadata: { ...created.metadata, managedFields: mine } }, 'x'))).toEqual(['mine/Apply']);
    const bad = [{ manager: 'mine', operation: 'Apply' as const, apiVersion: 'v1', fieldsType: '', fieldsV1: {} }];
    expect(managers(update(created, { ...created, metadata: { ...created.metadata, managedFields: bad } }, 'x'))).toEqual(['creator/Update']);
  });

  test('subresource writes are their own entries and ignore managedFields in the request', () => {
    const d0 = update(null, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', uid: 'u' }, spec: { replicas: 1 } } as Obj, 'creator');
    const st = update(d0, { ...d0, metadata: { ...d0.metadata, managedFields: [] }, status: { replicas: 1 } }, 'ctrl', 'status');
    expect(managers(st)).toEqual(['creator/Update', 'ctrl/Update/status']);
    expect(fieldsOf(st, 'ctrl')).toEqual({ 'f:status': { '.': {}, 'f:replicas': {} } });
  });

  test('past ten updaters the oldest fold into "ancient-changes"', () => {
    let o = created;
    const data: Record<string, string> = { a: '1', b: '2' };
    for (let i = 0; i < 11; i++) {
      data[`k${i}`] = 'v';
      o = update(o, cm({ ...data }, { labels: { x: 'y' } }), `m${i}`, '', `2024-02-${String(i + 10)}T00:00:00Z`);
    }
    expect(managers(o)).toHaveLength(10);
    expect(managers(o)).toContain('ancient-changes/Update');
    expect(managers(o)).not.toContain('creator/Update');
    // Twelve updaters: the three oldest (creator, m0, m1) become one.
    expect(fieldsOf(o, 'ancient-changes')).toEqual({ 'f:data': { '.': {}, 'f:a': {}, 'f:b': {}, 'f:k0': {}, 'f:k1': {} }, 'f:metadata': { 'f:labels': { '.': {}, 'f:x': {} } } });
  });
});

describe('applyConfiguration (server-side apply)', () => {
  const first = applyCM(null, { a: '1', b: '2' }, 'alice');

  test('the applier owns exactly its configuration', () => {
    expect(first.data).toEqual({ a: '1', b: '2' });
    expect(first.metadata.managedFields).toEqual([{ manager: 'alice', operation: 'Apply', apiVersion: 'v1', time: T2, fieldsType: 'FieldsV1', fieldsV1: { 'f:data': { 'f:a': {}, 'f:b': {} } } }]);
  });

  test.each([
    ['dropped and owned by nobody else: removed', () => applyCM(first, { a: '1' }, 'alice'), { a: '1' }],
    ['dropped but also applied by bob: kept', () => applyCM(applyCM(first, { b: '2' }, 'bob'), { a: '1' }, 'alice'), { a: '1', b: '2' }],
    ['dropped after an updater changed it: kept (the updater owns it)', () => applyCM(update(first, cm({ a: '1', b: '3' }, { managedFields: first.metadata.managedFields }), 'ed'), { a: '1' }, 'alice'), { a: '1', b: '3' }],
    ['never applied by this manager: kept', () => applyCM(first, { c: '3' }, 'carol'), { a: '1', b: '2', c: '3' }],
  ])('%s', (_n, run, data) => {
    expect(run().data).toEqual(data);
  });

  test.each([
    ['an applier', () => applyCM(first, { a: '9' }, 'bob'), 'Apply failed with 1 conflict: conflict with "alice": .data.a', [{ reason: 'FieldManagerConflict', message: 'conflict with "alice"', field: '.data.a' }]],
    [
      'an updater, by version and subresource',
      () => applyCM(update(first, cm({ a: '5', b: '6' }, { managedFields: first.metadata.managedFields }), 'ed'), { a: '9', b: '9' }, 'bob'),
      'Apply failed with 2 conflicts: conflicts with "ed" using v1:\n- .data.a\n- .data.b',
      [
        { reason: 'FieldManagerConflict', message: 'conflict with "ed" using v1', field: '.data.a' },
        { reason: 'FieldManagerConflict', message: 'conflict with "ed" using v1', field: '.data.b' },
      ],
    ],
  ])('changing a value owned by %s is a conflict', (_n, run, message, causes) => {
    const err = conflictOf(run);
    expect(err.status).toMatchObject({ code: 409, reason: 'Conflict', message, details: { causes } });
  });

  test('the same value is shared ownership; force takes a value over', () => {
    const shared = applyCM(first, { a: '1' }, 'bob');
    expect(fieldsOf(shared, 'alice', 'Apply')).toEqual({ 'f:data': { 'f:a': {}, 'f:b': {} } });
    expect(fieldsOf(shared, 'bob', 'Apply')).toEqual({ 'f:data': { 'f:a': {} } });
    const forced = applyCM(shared, { a: '7' }, 'bob', { force: true });
    expect(forced.data!.a).toBe('7');
    expect(fieldsOf(forced, 'alice', 'Apply')).toEqual({ 'f:data': { 'f:b': {} } });
    // After the force, alice dropping a no longer removes it.
    expect(applyCM(forced, { b: '2' }, 'alice').data).toEqual({ a: '7', b: '2' });
  });

  test('applying to an object nobody tracks first gives its fields to "before-first-apply"', () => {
    const out = applyCM(cm({ old: 'x' }), { a: '1' }, 'alice');
    expect(managers(out)).toEqual(['alice/Apply', 'before-first-apply/Update']);
    expect(out.data).toEqual({ old: 'x', a: '1' });
  });

  test('kubectl over a client-side apply: values still as last applied are taken over; the annotation follows', () => {
    const lastApplied = JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, data: { a: '1', b: '2' } });
    const csa = update(null, cm({ a: '1', b: '2' }, { annotations: { [lastAppliedAnnotation]: lastApplied } }), 'kubectl-client-side-apply');
    const edited = update(csa, { ...csa, data: { a: '1', b: '5' } }, 'kubectl-edit');
    // b was edited since: still a conflict. a matches the annotation: taken over.
    expect(conflictOf(() => applyCM(edited, { a: '2', b: '6' }, 'kubectl')).status.message).toBe('Apply failed with 1 conflict: conflict with "kubectl-edit" using v1: .data.b');
    const out = applyCM(edited, { a: '2', b: '5' }, 'kubectl');
    expect(out.data).toEqual({ a: '2', b: '5' });
    expect(JSON.parse(out.metadata.annotations![lastAppliedAnnotation]!)).toEqual({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c', namespace: 'n' }, data: { a: '2', b: '5' } });
    // Only kubectl's own manager gets this help.
    expect(conflictOf(() => applyCM(edited, { a: '2', b: '5' }, 'other')).status.details?.causes).toHaveLength(1);
  });

  test('status is not applied through the main resource of a kind with a status subresource', () => {
    const d = applyConfiguration(deployRT, null, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { replicas: 2 }, status: { replicas: 9 } }, { manager: 'a', apiVersion: 'apps/v1', subresource: '', force: false }) as Obj;
    expect(d.status).toBeUndefined();
    expect(d.metadata.managedFields![0]!.fieldsV1).toEqual({ 'f:spec': { 'f:replicas': {} } });
  });

  test('a configuration apply cannot key fails as upstream: 500, naming the object and the list', () => {
    const err = conflictOf(() =>
      applyConfiguration(deployRT, null, { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: { template: { spec: { containers: [{ image: 'x' }] } } } }, { manager: 'a', apiVersion: 'apps/v1', subresource: '', force: false }),
    );
    expect(err.status).toMatchObject({
      code: 500,
      reason: '',
      message: `failed to create typed patch object (/d; apps/v1, Kind=Deployment): .spec.template.spec.containers: element 0: associative list with keys has an element that omits key field "name" (and doesn't have default value)`,
    });
  });
});
