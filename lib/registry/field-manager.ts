/**
 * managedFields: which field manager owns which fields of an object, after upstream's field
 * manager (k8s.io/apimachinery/pkg/util/managedfields). Every write goes through one of two
 * doors:
 *
 *   trackUpdate          create, update and non-apply patch (operation Update): the fields the
 *                        request added or changed become the request manager's, and leave
 *                        every other manager; removed fields leave everybody.
 *   applyConfiguration   server-side apply (operation Apply): the applied configuration is
 *                        merged into the live object, fields the manager applied before and no
 *                        longer applies are removed unless someone else owns them, and the
 *                        manager's entry becomes exactly the applied configuration's fields.
 *                        Changing a value another manager owns is a conflict (409) unless forced.
 *
 * Entries are identified by manager, operation, subresource and (for Update) apiVersion;
 * entries with no fields left disappear. Objects whose managedFields were reset (`[]` or
 * `[{}]` in a non-apply write) stop being tracked until the next apply, which first gives
 * everything already there to "before-first-apply".
 */
import { rfc3339 } from '../base/index.js';
import { fieldTypeOf, type AnyResourceType, type KubeObject } from '../api/index.js';
import {
  FieldSet,
  FieldTypeError,
  compareValues,
  fieldElement,
  fieldSetOf,
  jsonEqual,
  mergeValues,
  newApplyConflict,
  pathText,
  removeFields,
  stableStringify,
  StatusError,
  withNamedFields,
  type FieldType,
  type StatusCause,
} from '../machinery/index.js';

export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';
/** The manager kubectl applies with by default: the only one the client-side apply migration helps. */
const kubectlApplyManager = 'kubectl';
const beforeFirstApplyManager = 'before-first-apply';
const ancientChangesManager = 'ancient-changes';
const maxUpdateManagers = 10;
export const maxFieldManagerLength = 128;

type Operation = 'Apply' | 'Update';
type Obj = Record<string, unknown>;

interface Entry {
  manager: string;
  operation: Operation;
  apiVersion: string;
  subresource: string;
  time?: string;
  set: FieldSet;
}

type Managed = Map<string, Entry>;

/** Who is writing, through which version and subresource. */
export interface FieldManagerRequest {
  /** The field manager (`?fieldManager=`, else the User-Agent's first token); '' is "unknown". */
  manager: string;
  /** group/version of the main resource the request used. */
  apiVersion: string;
  subresource: string;
}

const f = fieldElement;
/** Fields no manager ever owns: identity and server-set metadata. */
const neverOwned = FieldSet.of(
  [f('apiVersion')],
  [f('kind')],
  [f('metadata')],
  [f('metadata'), f('name')],
  [f('metadata'), f('namespace')],
  [f('metadata'), f('creationTimestamp')],
  [f('metadata'), f('selfLink')],
  [f('metadata'), f('uid')],
  [f('metadata'), f('clusterName')],
  [f('metadata'), f('generation')],
  [f('metadata'), f('managedFields')],
  [f('metadata'), f('resourceVersion')],
);

function identity(e: Pick<Entry, 'manager' | 'operation' | 'apiVersion' | 'subresource'>): string {
  // Appliers keep one entry whatever version they apply through.
  return JSON.stringify([e.manager, e.operation, e.operation === 'Apply' ? '' : e.apiVersion, e.subresource]);
}

class ManagedFieldsError extends Error {
  override readonly name = 'ManagedFieldsError';
}

/** Decodes stored (or client-given) managedFields; throws ManagedFieldsError when an entry is not valid. */
function decodeManaged(list: unknown): Managed {
  const out: Managed = new Map();
  if (list === undefined || list === null) return out;
  if (!Array.isArray(list)) throw new ManagedFieldsError('managedFields must be a list');
  list.forEach((raw: unknown, i) => {
    const e = (raw ?? {}) as Obj;
    if (e['operation'] !== 'Apply' && e['operation'] !== 'Update') throw new ManagedFieldsError('operation must be `Apply` or `Update`');
    if (typeof e['apiVersion'] !== 'string' || e['apiVersion'] === '') throw new ManagedFieldsError('apiVersion must not be empty');
    if (e['fieldsType'] !== 'FieldsV1') throw new ManagedFieldsError(e['fieldsType'] ? `invalid fieldsType ${JSON.stringify(e['fieldsType'])} in managed fields entry ${i}` : `missing fieldsType in managed fields entry ${i}`);
    let set: FieldSet;
    try {
      set = FieldSet.fromJSON(e['fieldsV1'] ?? {});
    } catch (err) {
      throw new ManagedFieldsError(`error decoding versioned set: ${(err as Error).message}`);
    }
    const entry: Entry = {
      manager: typeof e['manager'] === 'string' ? e['manager'] : '',
      operation: e['operation'],
      apiVersion: e['apiVersion'],
      subresource: typeof e['subresource'] === 'string' ? e['subresource'] : '',
      time: typeof e['time'] === 'string' ? e['time'] : undefined,
      set,
    };
    out.set(identity(entry), entry);
  });
  return out;
}

function decodeOrEmpty(list: unknown): Managed {
  try {
    return decodeManaged(list);
  } catch {
    return new Map();
  }
}

const seconds = (t: string | undefined) => (t ? Math.floor(Date.parse(t) / 1000) || 0 : 0);
const cmpStr = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** Upstream's order: Apply entries before Update ones, then oldest first, then by name. */
function encodeManaged(managed: Managed): KubeObject['metadata']['managedFields'] {
  const entries = [...managed.values()].filter((e) => !e.set.isEmpty());
  entries.sort(
    (p, q) =>
      cmpStr(p.operation, q.operation) ||
      seconds(p.time) - seconds(q.time) ||
      cmpStr(p.manager, q.manager) ||
      cmpStr(p.apiVersion, q.apiVersion) ||
      cmpStr(p.subresource, q.subresource),
  );
  return entries.map((e) => ({
    manager: e.manager,
    operation: e.operation,
    apiVersion: e.apiVersion,
    ...(e.time ? { time: e.time } : {}),
    fieldsType: 'FieldsV1',
    fieldsV1: e.set.toJSON(),
    ...(e.subresource ? { subresource: e.subresource } : {}),
  }));
}

/** `[]` or `[{}]`: a non-apply write asking to clear managedFields. */
function isReset(list: unknown): boolean {
  if (!Array.isArray(list)) return false;
  if (list.length === 0) return true;
  return list.length === 1 && (list[0] === null || (typeof list[0] === 'object' && Object.values(list[0] as Obj).every((v) => v === undefined)));
}

function withoutManagedFields(obj: KubeObject): Obj {
  const { managedFields: _m, ...meta } = obj.metadata ?? {};
  return { ...obj, metadata: meta };
}

/** Drops empty entries and never-owned fields, and folds the oldest Update entries into "ancient-changes" past ten. */
function finish(managed: Managed): void {
  for (const [id, e] of managed) {
    e.set = e.set.difference(neverOwned);
    if (e.set.isEmpty()) managed.delete(id);
  }
  const updaters = [...managed.entries()].filter(([, e]) => e.operation === 'Update' && e.manager !== ancientChangesManager);
  let count = [...managed.values()].filter((e) => e.operation === 'Update').length;
  if (count <= maxUpdateManagers) return;
  updaters.sort(([ia, a], [ib, b]) => seconds(a.time) - seconds(b.time) || cmpStr(ia, ib));
  for (const [id, e] of updaters) {
    if (count <= maxUpdateManagers) break;
    const bucket: Entry = { manager: ancientChangesManager, operation: 'Update', apiVersion: e.apiVersion, subresource: '', set: new FieldSet() };
    const bid = identity(bucket);
    const existing = managed.get(bid);
    managed.delete(id);
    if (existing) {
      existing.set = existing.set.union(e.set);
      existing.time = e.time;
      count--;
    } else managed.set(bid, { ...bucket, set: e.set, time: e.time });
  }
}

function setManagedFields(obj: KubeObject, managed: Managed): void {
  const list = encodeManaged(managed);
  if (list && list.length) obj.metadata.managedFields = list;
  else delete obj.metadata.managedFields;
}

/**
 * What an object is compared with on create. Go's zero value of a kind already has its
 * embedded structs (spec, metadata), so upstream records them without ".": do the same for
 * the top-level structs of the new object.
 */
function createBaseline(next: Obj, type: FieldType): Obj {
  const out: Obj = {};
  if (type.kind !== 'struct') return out;
  for (const [k, v] of Object.entries(next)) {
    const t = type.field(k);
    if (t?.kind === 'struct' && !t.atomic && v && typeof v === 'object' && !Array.isArray(v)) out[k] = {};
  }
  return out;
}

/**
 * Records a create, update or non-apply patch in `next.metadata.managedFields`. `live` is
 * null for a create. managedFields the client sent are the starting point when they are
 * valid (main resource only); otherwise the live object's are.
 */
export function trackUpdate(rt: AnyResourceType, live: KubeObject | null, next: KubeObject, req: FieldManagerRequest, now = rfc3339()): void {
  if (!live && !req.subresource && next.metadata.managedFields === undefined) return trackCreate(rt, next, req, now);
  trackUpdateEntries(rt, live, next, req, now);
}

/**
 * The fields a create sets, by kind, for objects that look alike: keyed by the object's JSON
 * without the fields no manager owns (name, uid, creationTimestamp...), so two objects with the
 * same key set the same fields. The replicas a controller creates from one template are one
 * entry; computing the set costs ~50 µs a pod, the key ~3 µs. Kept: the managedFields entry the
 * first such create got, as JSON ('' for none).
 */
const createdFields = new WeakMap<AnyResourceType, Map<string, string>>();
const createdFieldsEntries = 256;
const createdFieldsKeyChars = 16 * 1024;

/** Metadata fields whose values never show in a field set (they are in neverOwned). */
const identityMeta = new Set(['name', 'namespace', 'uid', 'creationTimestamp', 'selfLink', 'generation', 'resourceVersion', 'clusterName', 'managedFields']);

/** The object's JSON without identityMeta (written member by member: no copy of the object). */
function createKey(obj: KubeObject): string {
  let key = '{';
  for (const k of Object.keys(obj)) {
    const v = (obj as unknown as Obj)[k];
    if (v === undefined) continue;
    if (k !== 'metadata' || !v || typeof v !== 'object') {
      key += `${JSON.stringify(k)}:${JSON.stringify(v)},`;
      continue;
    }
    key += '"metadata":{';
    for (const mk of Object.keys(v)) {
      const mv = (v as Obj)[mk];
      if (mv !== undefined && !identityMeta.has(mk)) key += `${JSON.stringify(mk)}:${JSON.stringify(mv)},`;
    }
    key += '},';
  }
  return key + '}';
}

function trackCreate(rt: AnyResourceType, next: KubeObject, req: FieldManagerRequest, now: string): void {
  const m = next.metadata;
  const key = createKey(next);
  let byKey = createdFields.get(rt);
  if (!byKey) createdFields.set(rt, (byKey = new Map()));
  const entry = byKey.get(key);
  if (entry === undefined) {
    trackUpdateEntries(rt, null, next, req, now);
    if (key.length > createdFieldsKeyChars) return;
    if (byKey.size >= createdFieldsEntries) byKey.delete(byKey.keys().next().value!);
    byKey.set(key, m.managedFields?.length ? JSON.stringify(m.managedFields[0]) : '');
    return;
  }
  // The one entry of the create that computed it, under this request's manager and time.
  if (entry === '') delete m.managedFields;
  else m.managedFields = [{ ...(JSON.parse(entry) as NonNullable<KubeObject['metadata']['managedFields']>[number]), manager: req.manager || 'unknown', apiVersion: req.apiVersion, time: now }];
}

function trackUpdateEntries(rt: AnyResourceType, live: KubeObject | null, next: KubeObject, req: FieldManagerRequest, now: string): void {
  const type = fieldTypeOf(rt);
  const sent = next.metadata.managedFields;
  let managed: Managed;
  if (req.subresource) managed = decodeOrEmpty(live?.metadata.managedFields);
  else if (isReset(sent)) managed = new Map();
  else {
    managed = decodeOrEmpty(sent);
    if (managed.size === 0) managed = decodeOrEmpty(live?.metadata.managedFields);
  }
  // An existing object nobody tracks stays untracked until it is applied to.
  if (live && managed.size === 0) {
    delete next.metadata.managedFields;
    return;
  }
  const after = withoutManagedFields(next);
  const before = live ? withoutManagedFields(live) : createBaseline(after, type);
  const cmp = compareValues(before, after, type);
  const changed = cmp.added.union(cmp.modified).difference(neverOwned);
  for (const e of managed.values()) e.set = e.set.difference(cmp.removed).difference(changed);
  if (!changed.isEmpty()) {
    const entry: Entry = { manager: req.manager || 'unknown', operation: 'Update', apiVersion: req.apiVersion, subresource: req.subresource, set: changed, time: now };
    const id = identity(entry);
    const prev = managed.get(id);
    if (prev) entry.set = prev.set.union(changed);
    managed.set(id, entry);
  }
  finish(managed);
  setManagedFields(next, managed);
}

/** The part of an applied configuration this (sub)resource writes: status only through status. */
function scopeConfiguration(rt: AnyResourceType, config: Obj, subresource: string): Obj {
  if (subresource === 'status') {
    const out: Obj = {};
    for (const k of ['apiVersion', 'kind', 'metadata', 'status']) if (k in config) out[k] = config[k];
    return out;
  }
  if (!subresource && rt.subresources.includes('status') && 'status' in config) {
    const { status: _s, ...rest } = config;
    return rest;
  }
  return config;
}

interface Conflict {
  entry: Entry;
  set: FieldSet;
}

function printManager(e: Entry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion}`;
  return s;
}

/** 409 Conflict naming each field and its manager, worded as upstream. */
function conflictError(conflicts: Conflict[]): StatusError {
  const sorted = [...conflicts].sort((a, b) => cmpStr(identity(a.entry), identity(b.entry)));
  const causes: StatusCause[] = [];
  for (const c of sorted) for (const p of c.set.paths()) causes.push({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.entry)}`, field: pathText(p) });
  let message: string;
  if (causes.length === 1) message = `Apply failed with 1 conflict: ${causes[0]!.message}: ${causes[0]!.field}`;
  else {
    const lines: string[] = [];
    for (const c of sorted) {
      lines.push(`conflicts with ${printManager(c.entry)}:`);
      for (const p of c.set.paths()) lines.push(`- ${pathText(p)}`);
    }
    message = `Apply failed with ${causes.length} conflicts: ${lines.join('\n')}`;
  }
  return newApplyConflict(causes, message);
}

/**
 * Fields a kubectl client-side apply left in its last-applied annotation with the values the
 * object still has: `kubectl apply --server-side` may take them over without a conflict.
 */
function lastAppliedFields(live: KubeObject, type: FieldType): FieldSet | undefined {
  const text = live.metadata.annotations?.[lastAppliedAnnotation];
  if (!text) return undefined;
  try {
    const last = JSON.parse(text) as Obj;
    const cmp = compareValues(last, withoutManagedFields(live), type);
    return fieldSetOf(last, type).difference(cmp.modified).difference(cmp.added).difference(cmp.removed);
  } catch {
    return undefined;
  }
}

/** The annotation kubectl's client-side apply would have written for this configuration. */
function lastAppliedOf(config: Obj): string {
  const copy = structuredClone(config) as { metadata?: { annotations?: Record<string, string> } };
  if (copy.metadata?.annotations) delete copy.metadata.annotations[lastAppliedAnnotation];
  return `${stableStringify(copy)}\n`;
}

/**
 * Server-side apply of `config` (already checked for apiVersion, kind, name and unknown fields)
 * by `req.manager`. Returns the new object with its managedFields; throws a 409 StatusError on
 * conflicts unless `force`, and upstream's 500 when the configuration cannot be typed (a keyed
 * list item without its key, duplicate items).
 */
export function applyConfiguration(rt: AnyResourceType, live: KubeObject | null, config: Obj, req: FieldManagerRequest & { force: boolean }, now = rfc3339()): KubeObject {
  const type = fieldTypeOf(rt);
  const managed = live ? decodeOrEmpty(live.metadata.managedFields) : new Map<string, Entry>();
  const liveBody: Obj = live ? withoutManagedFields(live) : {};
  if (live && managed.size === 0) {
    // Fields set before anyone applied belong to someone: keep them from being pruned.
    const before: Entry = { manager: beforeFirstApplyManager, operation: 'Update', apiVersion: req.apiVersion, subresource: '', time: now, set: fieldSetOf(liveBody, type).difference(neverOwned) };
    if (!before.set.isEmpty()) managed.set(identity(before), before);
  }
  const applied = scopeConfiguration(rt, config, req.subresource);
  let appliedSet: FieldSet;
  try {
    appliedSet = fieldSetOf(applied, type, true).difference(neverOwned);
  } catch (err) {
    if (err instanceof FieldTypeError) {
      // Upstream answers these with a plain error: 500, reason unknown, this message.
      const m = (config.metadata ?? {}) as { name?: string; namespace?: string };
      const message = `failed to create typed patch object (${m.namespace ?? ''}/${m.name ?? ''}; ${rt.group}/${rt.version}, Kind=${rt.kind}): ${err.message}`;
      throw new StatusError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: '', code: 500 });
    }
    throw err;
  }
  let merged = mergeValues(liveBody, applied, type) as Obj;

  const applier: Entry = { manager: req.manager, operation: 'Apply', apiVersion: req.apiVersion, subresource: req.subresource, set: appliedSet };
  const id = identity(applier);
  const previous = managed.get(id);
  applier.time = previous?.time;
  managed.set(id, applier);

  // Fields this manager applied last time and no longer applies go, unless someone owns them.
  if (previous && !previous.set.isEmpty()) {
    let owned = new FieldSet();
    for (const e of managed.values()) owned = owned.union(e.set);
    const gone = withNamedFields(previous.set, type).difference(withNamedFields(owned, type));
    merged = removeFields(merged, gone, type) as Obj;
  }

  const cmp = compareValues(liveBody, merged, type);
  const changed = cmp.added.union(cmp.modified);
  let conflicts: Conflict[] = [];
  for (const [oid, e] of managed) {
    if (oid === id) continue;
    const c = e.set.intersection(changed);
    if (!c.isEmpty()) conflicts.push({ entry: e, set: c });
    e.set = e.set.difference(cmp.removed);
  }
  if (conflicts.length && !req.force) {
    // kubectl apply --server-side over a client-side apply: values that still match the
    // last-applied annotation were the user's and pass as if forced.
    const allowed = req.manager === kubectlApplyManager && live ? lastAppliedFields(live, type) : undefined;
    const remaining = allowed ? conflicts.map((c) => ({ entry: c.entry, set: c.set.difference(allowed) })).filter((c) => !c.set.isEmpty()) : conflicts;
    if (remaining.length) throw conflictError(remaining);
  }
  for (const c of conflicts) c.entry.set = c.entry.set.difference(c.set);
  conflicts = [];
  if (!previous || !previous.set.equals(applier.set) || !jsonEqual(liveBody, merged)) applier.time = now;
  finish(managed);

  const result = merged as unknown as KubeObject;
  result.metadata ??= {};
  const annotations = result.metadata.annotations;
  if (req.manager === kubectlApplyManager && annotations?.[lastAppliedAnnotation] !== undefined) {
    // Keep the client-side apply annotation in step, so going back to client-side apply works.
    result.metadata.annotations = { ...annotations, [lastAppliedAnnotation]: lastAppliedOf(config) };
  }
  setManagedFields(result, managed);
  return result;
}
