/**
 * Server-side printing: lists and objects as meta.k8s.io/v1 Tables with the columns
 * `kubectl get` shows. Each kind registers a Printer; kinds without one get NAME and AGE.
 */
import type { AnyResourceType, KubeObject, Table, TableColumnDefinition, ListMeta } from '../../api/index.js';
import { evaluateJSONPath } from '../../machinery/index.js';

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

export const nameColumn: Column = { name: 'Name', type: 'string', format: 'name', description: 'Name must be unique within a namespace.' };
export const ageColumn: Column = { name: 'Age', type: 'string', description: 'Time since the object was created.' };

/** Go's duration.HumanDuration: 45s, 5m10s, 3h, 2d4h, 1y... */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 10) return seconds % 60 === 0 ? `${minutes}m` : `${minutes}m${seconds % 60}s`;
  if (minutes < 180) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 8) return minutes % 60 === 0 ? `${hours}h` : `${hours}h${minutes % 60}m`;
  if (hours < 48) return `${hours}h`;
  if (hours < 24 * 8) return hours % 24 === 0 ? `${Math.floor(hours / 24)}d` : `${Math.floor(hours / 24)}d${hours % 24}h`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24)}d`;
  if (hours < 24 * 365 * 8) {
    const days = Math.floor(hours / 24) % 365;
    return days === 0 ? `${Math.floor(hours / 24 / 365)}y` : `${Math.floor(hours / 24 / 365)}y${days}d`;
  }
  return `${Math.floor(hours / 24 / 365)}y`;
}

/** Age of an object for the AGE column; `<unknown>` without a creation time. */
export function age(ts: string | null | undefined, now: number): string {
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(ts));
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
