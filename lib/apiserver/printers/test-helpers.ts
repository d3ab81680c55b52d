/** Test helpers: a printer's row as a map from column name to cell. */
import type { AnyResourceType, KubeObject } from '../../api/index.js';
import { printerFor } from './index.js';

export const now = Date.parse('2025-01-01T12:00:00Z');

/** An RFC 3339 time `ms` milliseconds before `now`. */
export function ago(ms: number): string {
  return new Date(now - ms).toISOString().replace(/\.\d+Z$/, 'Z');
}
export const seconds = 1000;
export const minutes = 60 * seconds;
export const hours = 60 * minutes;

export function columnsOf(group: string, resource: string): { name: string; priority: number }[] {
  return printerFor({ group, resource } as AnyResourceType).columns.map((c) => ({ name: c.name, priority: c.priority ?? 0 }));
}

/** The cells of `obj`'s row by column name. */
export function cells(group: string, resource: string, obj: Partial<KubeObject> & Record<string, unknown>): Record<string, unknown> {
  const p = printerFor({ group, resource } as AnyResourceType);
  const o = { ...obj, metadata: { name: 'x', creationTimestamp: ago(90 * seconds), ...(obj.metadata ?? {}) } } as KubeObject;
  const row = p.row(o, now);
  expectLength(row.length, p.columns.length);
  return Object.fromEntries(p.columns.map((c, i) => [c.name, row[i]]));
}

function expectLength(got: number, want: number) {
  if (got !== want) throw new Error(`row has ${got} cells for ${want} columns`);
}
