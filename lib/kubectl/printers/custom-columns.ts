/**
 * `-o custom-columns=HEADER:PATH,...` and `-o custom-columns-file=FILE` (a header line and a
 * line of paths). Values are printed the way Go's `%v` prints them (maps as `map[k:v]`, lists
 * as `[a b]`), several values joined by commas, and `<none>` when a path finds nothing.
 */
import { CommandError } from '../cli/errors.js';
import { findValues, relaxedJSONPath, TemplateError } from './jsonpath-template.js';
import { goFloat } from './yaml.js';

export interface CustomColumn {
  header: string;
  /** The relaxed template, `{.metadata.name}`. */
  path: string;
}

export function parseCustomColumns(spec: string): CustomColumn[] {
  if (spec === '') throw new CommandError('custom-columns format specified but no custom columns given');
  return spec.split(',').map((part) => {
    const i = part.indexOf(':');
    if (i < 0) throw new CommandError(`unexpected custom-columns spec: ${part}, expected <header>:<json-path-expr>`);
    try {
      return { header: part.slice(0, i), path: relaxedJSONPath(part.slice(i + 1)) };
    } catch (e) {
      if (e instanceof TemplateError) throw new CommandError(e.message);
      throw e;
    }
  });
}

/** The file form: headers on the first line, paths on the second, separated by blanks. */
export function parseCustomColumnsFile(text: string): CustomColumn[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 2) throw new CommandError(`unexpected lines in custom columns file: ${lines.length}, expected 2`);
  const headers = lines[0]!.trim().split(/\s+/);
  const paths = lines[1]!.trim().split(/\s+/);
  if (headers.length !== paths.length) throw new CommandError(`number of headers (${headers.length}) does not match number of paths (${paths.length})`);
  return headers.map((h, i) => ({ header: h, path: relaxedJSONPath(paths[i]!) }));
}

/** Go's fmt `%v` of a decoded JSON value. */
export function goValue(v: unknown): string {
  if (v === null || v === undefined) return '<nil>';
  if (Array.isArray(v)) return `[${v.map(goValue).join(' ')}]`;
  if (typeof v === 'object') {
    const keys = Object.keys(v).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return `map[${keys.map((k) => `${k}:${goValue((v as Record<string, unknown>)[k])}`).join(' ')}]`;
  }
  if (typeof v === 'number') return goFloat(v);
  return String(v);
}

/** One row of cells for an object. */
export function customColumnCells(obj: unknown, columns: CustomColumn[]): string[] {
  return columns.map((c) => {
    const vals = findValues(obj, c.path);
    if (vals.length === 0) return '<none>';
    return vals.map(goValue).join(',');
  });
}
