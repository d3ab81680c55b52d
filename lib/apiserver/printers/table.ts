/**
 * Server-side printing: lists and objects as meta.k8s.io/v1 Tables with the columns
 * `kubectl get` shows. Each kind registers a Printer; kinds without one get NAME and AGE.
 */
import type { AnyResourceType, KubeObject, Table, TableColumnDefinition, ListMeta } from '../../api/index.js';
import { evaluateJSONPath, humanDuration } from '../../machinery/index.js';

export { humanDuration };

export interface Column {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  format?: string;
  description: string;
  /** 0: always shown; 1: only with -o wide. */
  priority?: number;
}

export interface Printer {
  columns: Column[];
  /** One cell per column, in order. `now` is the time the table is built (ms). */
  row(obj: KubeObject, now: number): unknown[];
}

export const nameColumn: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name of the object, unique within its namespace (or the cluster).' };
export const ageColumn: Column = { name: 'Age', type: 'string', description: 'Time since the object was created.' };


/** Age of an object for the AGE column; `<unknown>` without a creation time. */
export function age(ts: string | null | undefined, now: number): string {
  if (!ts) return '<unknown>';
  const t = Date.parse(ts);
  if (Number.isNaN(t)) return '<unknown>';
  return humanDuration(now - t);
}

/** A label map as `a=b,c=d` (keys sorted), or `<none>`. */
export function formatLabels(labels: Record<string, string> | undefined | null): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels![k]}`).join(',');
}

interface SelectorLike {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** A label selector as kubectl shows it (`app=web,tier in (a,b)`), sorted by key; `<none>` when it selects nothing or everything. */
export function formatSelector(sel: SelectorLike | undefined | null): string {
  if (!sel) return '<none>';
  const reqs: { key: string; text: string }[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) reqs.push({ key: k, text: `${k}=${v}` });
  for (const e of sel.matchExpressions ?? []) {
    const values = [...new Set(e.values ?? [])].sort();
    const text =
      e.operator === 'In' ? `${e.key} in (${values.join(',')})` :
      e.operator === 'NotIn' ? `${e.key} notin (${values.join(',')})` :
      e.operator === 'Exists' ? e.key :
      e.operator === 'DoesNotExist' ? `!${e.key}` : '<error>';
    reqs.push({ key: e.key, text });
  }
  reqs.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const s = reqs.map((r) => r.text).join(',');
  return s === '' ? '<none>' : s;
}

/** The CONTAINERS and IMAGES cells of a pod template: names and images, comma separated. */
export function containerCells(spec: { containers?: { name: string; image?: string }[] } | undefined): [string, string] {
  const cs = spec?.containers ?? [];
  return [cs.map((c) => c.name).join(','), cs.map((c) => c.image ?? '').join(',')];
}

/** Up to `max` items, then `+ N more...`; `empty` when there are none. */
export function listWithMore(items: string[], total: number, max: number, empty: string): string {
  if (total > max) return `${items.slice(0, max).join(',')} + ${total - max} more...`;
  return items.length ? items.join(',') : empty;
}

/** Go's resource.Quantity String() for the common cases: the value as written, "0" when unset. */
export function quantityText(q: string | number | undefined): string {
  return q === undefined ? '0' : String(q);
}

const printers = new Map<string, Printer>();

export function registerPrinter(group: string, resource: string, p: Printer): void {
  printers.set(`${group}/${resource}`, p);
}

/** The printer of a custom resource: NAME, its additionalPrinterColumns (or AGE when it has none). */
function customPrinter(rt: AnyResourceType): Printer {
  const cols = rt.printerColumns ?? [];
  if (cols.length === 0) return { columns: [nameColumn, ageColumn], row: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)] };
  return {
    columns: [nameColumn, ...cols.map((c) => ({ name: c.name, type: (c.type === 'date' ? 'date' : c.type) as Column['type'], format: c.format, description: c.description ?? '', priority: c.priority ?? 0 }))],
    row: (o, now) => [
      o.metadata.name,
      ...cols.map((c) => {
        let vals: unknown[];
        try {
          vals = evaluateJSONPath(o, c.jsonPath);
        } catch {
          vals = [];
        }
        if (vals.length === 0) return null;
        const v = vals[0];
        if (c.type === 'date' && typeof v === 'string') return age(v, now);
        if (c.type === 'integer' || c.type === 'number') return typeof v === 'number' ? v : Number(v);
        if (c.type === 'boolean') return v === true || v === 'true';
        return typeof v === 'string' ? v : JSON.stringify(v);
      }),
    ],
  };
}

export function printerFor(rt: AnyResourceType): Printer {
  if (rt.custom) return customPrinter(rt);
  return (
    printers.get(`${rt.group}/${rt.resource}`) ?? {
      columns: [nameColumn, ageColumn],
      row: (o, now) => [o.metadata.name, age(o.metadata.creationTimestamp, now)],
    }
  );
}

export type IncludeObject = 'None' | 'Metadata' | 'Object';

function partialMetadata(o: KubeObject): unknown {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

export function toTable(rt: AnyResourceType, objects: KubeObject[], opts: { includeObject?: IncludeObject; listMeta?: ListMeta; printer?: Printer; noHeaders?: boolean } = {}): Table {
  const p = opts.printer ?? printerFor(rt);
  const now = Date.now();
  const include = opts.includeObject ?? 'Metadata';
  const columnDefinitions: TableColumnDefinition[] = opts.noHeaders
    ? []
    : p.columns.map((c) => ({ name: c.name, type: c.type, format: c.format ?? '', description: c.description, priority: c.priority ?? 0 }));
  return {
    kind: 'Table',
    apiVersion: 'meta.k8s.io/v1',
    metadata: opts.listMeta ?? {},
    columnDefinitions,
    rows: objects.map((o) => ({
      cells: p.row(o, now),
      object: include === 'Object' ? withTypeMeta(o, rt) : include === 'Metadata' ? partialMetadata(o) : undefined,
    })),
  };
}

function withTypeMeta(o: KubeObject, rt: AnyResourceType): KubeObject {
  if (o.apiVersion && o.kind) return o;
  return { ...o, apiVersion: rt.group ? `${rt.group}/${rt.version}` : rt.version, kind: rt.kind };
}
