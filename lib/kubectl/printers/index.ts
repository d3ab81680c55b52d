/**
 * Output formats (`-o`): the server's Tables rendered as kubectl renders them (uppercase
 * headers, priority-1 columns only with `-o wide`, NAMESPACE first with `-A`, `-L` label
 * columns and LABELS last, `kind/` name prefixes), and the object formats json, yaml, name,
 * jsonpath, jsonpath-as-json, jsonpath-file, custom-columns and custom-columns-file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { CommandError } from '../cli/errors.js';
import { customColumnCells, goValue, parseCustomColumns, parseCustomColumnsFile, type CustomColumn } from './custom-columns.js';
import { goJSON } from './json.js';
import { executeTemplate, findValues, parseTemplate, TemplateError } from './jsonpath-template.js';
import { alignRows } from './tabwriter.js';
import { toYAML, goFloat } from './yaml.js';

export { alignRows, alignTabs } from './tabwriter.js';
export { toYAML, goFloat } from './yaml.js';
export { goJSON } from './json.js';
export { executeTemplate, relaxedJSONPath, findValues, TemplateError } from './jsonpath-template.js';
export { sortByPath, naturalLess } from './sort.js';
export { parseCustomColumns, customColumnCells, goValue, type CustomColumn } from './custom-columns.js';

export type Output =
  | { kind: 'table'; wide: boolean }
  | { kind: 'json' }
  | { kind: 'yaml' }
  | { kind: 'name' }
  | { kind: 'jsonpath'; template: string; asJSON: boolean }
  | { kind: 'custom-columns'; columns: CustomColumn[]; fromFile?: boolean };

const allowedFormats = 'custom-columns,custom-columns-file,go-template,go-template-file,json,jsonpath,jsonpath-as-json,jsonpath-file,name,template,templatefile,wide,yaml';

/** Parses `-o` (and `--template`), reading `-file` forms relative to `cwd`. */
export function parseOutput(output: string, opts: { template?: string; cwd: string; allowed?: string } = { cwd: '.' }): Output {
  if (output === '' || output === 'wide') {
    if (opts.template) return parseOutput('jsonpath', opts);
    return { kind: 'table', wide: output === 'wide' };
  }
  const eq = output.indexOf('=');
  const fmt = eq >= 0 ? output.slice(0, eq) : output;
  let arg = eq >= 0 ? output.slice(eq + 1) : (opts.template ?? '');
  const read = (p: string) => {
    try {
      return fs.readFileSync(path.resolve(opts.cwd, p), 'utf8');
    } catch (e) {
      throw new CommandError(`error reading --template ${p}, ${(e as Error).message}`);
    }
  };
  switch (fmt) {
    case 'json':
      return { kind: 'json' };
    case 'yaml':
      return { kind: 'yaml' };
    case 'name':
      return { kind: 'name' };
    case 'jsonpath':
    case 'jsonpath-as-json':
    case 'jsonpath-file': {
      if (fmt === 'jsonpath-file') arg = read(arg);
      if (arg === '') throw new CommandError('template format specified but no template given');
      try {
        parseTemplate(arg);
      } catch (e) {
        if (e instanceof TemplateError) throw new CommandError(`error parsing jsonpath ${arg}, ${e.message}`);
        throw e;
      }
      return { kind: 'jsonpath', template: arg, asJSON: fmt === 'jsonpath-as-json' };
    }
    case 'custom-columns':
      return { kind: 'custom-columns', columns: parseCustomColumns(arg) };
    case 'custom-columns-file':
      return { kind: 'custom-columns', columns: parseCustomColumnsFile(read(arg)), fromFile: true };
    case 'go-template':
    case 'go-template-file':
    case 'template':
    case 'templatefile':
      throw new CommandError(`output format "${fmt}" is not supported by tkubectl; use -o jsonpath=... or -o custom-columns=... instead`);
    default:
      throw new CommandError(`unable to match a printer suitable for the output format "${output}", allowed formats are: ${opts.allowed ?? allowedFormats}`);
  }
}

export interface ObjectLike {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string> | null };
  [k: string]: unknown;
}

/** `deployment.apps/web`: the name form of an object. */
export function nameOf(obj: ObjectLike): string {
  const av = obj.apiVersion ?? '';
  const group = av.includes('/') ? av.split('/')[0]! : '';
  const kind = (obj.kind ?? '').toLowerCase();
  return `${group ? `${kind}.${group}` : kind}/${obj.metadata?.name ?? ''}`;
}

/** The List kubectl wraps several objects in. */
export function asList(items: unknown[]): Record<string, unknown> {
  return { apiVersion: 'v1', items, kind: 'List', metadata: { resourceVersion: '' } };
}

/**
 * Prints objects in a non-table format. `single` prints the one object itself (a name or
 * `type/name` was asked for); otherwise a List.
 */
export function formatObjects(out: Output, objs: ObjectLike[], single: boolean, opts: { noHeaders?: boolean } = {}): string {
  switch (out.kind) {
    case 'json':
      return `${goJSON(single && objs.length === 1 ? objs[0] : asList(objs), '    ')}\n`;
    case 'yaml':
      return toYAML(single && objs.length === 1 ? objs[0] : asList(objs));
    case 'name':
      return objs.map((o) => `${nameOf(o)}\n`).join('');
    case 'jsonpath': {
      const v = single && objs.length === 1 ? objs[0] : asList(objs);
      try {
        if (out.asJSON) return jsonPathAsJSON(out.template, v);
        return executeTemplate(out.template, v);
      } catch (e) {
        if (e instanceof TemplateError) throw new CommandError(`error executing jsonpath ${JSON.stringify(out.template)}: ${e.message}`);
        throw e;
      }
    }
    case 'custom-columns': {
      const rows = objs.map((o) => customColumnCells(o, out.columns));
      // kubectl's file form prints its header even with --no-headers.
      if (!opts.noHeaders || out.fromFile) rows.unshift(out.columns.map((c) => c.header));
      return alignRows(rows);
    }
    case 'table':
      throw new Error('formatObjects: tables come from the server');
  }
}

/** `-o jsonpath-as-json`: each action's results as an indented JSON list. */
function jsonPathAsJSON(template: string, v: unknown): string {
  return parseTemplate(template)
    .filter((n) => n.kind === 'path')
    .map((n) => `${goJSON(findValues(v, `{${(n as { expr: string }).expr}}`), '    ')}\n`)
    .join('');
}

// ---- server-side Tables ---------------------------------------------------------------

export interface TableColumn {
  name: string;
  type?: string;
  format?: string;
  priority?: number;
}

export interface TableRow {
  cells: unknown[];
  object?: { metadata?: { name?: string; namespace?: string; labels?: Record<string, string> | null }; [k: string]: unknown };
}

export interface Table {
  columnDefinitions: TableColumn[];
  rows: TableRow[];
}

export interface TableOptions {
  wide?: boolean;
  noHeaders?: boolean;
  /** Add NAMESPACE as the first column (`-A` on a namespaced resource). */
  withNamespace?: boolean;
  showLabels?: boolean;
  /** `-L` label keys. */
  labelColumns?: string[];
  /** Prefix for names (`deployment.apps`), when several kinds are printed or --show-kind. */
  kindPrefix?: string;
}

/** kubectl's text for one table cell. */
export function formatCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') {
    const cut = v.search(/[\f\n\r]/);
    return cut >= 0 ? `${v.slice(0, cut)}...` : v;
  }
  if (typeof v === 'number') return goFloat(v);
  if (typeof v === 'boolean') return String(v);
  return goValue(v);
}

export function formatLabels(labels: Record<string, string> | null | undefined): string {
  // As labels.Set.String(): the `key=value` strings are what is sorted.
  const pairs = Object.entries(labels ?? {}).map(([k, v]) => `${k}=${v}`).sort();
  return pairs.length ? pairs.join(',') : '<none>';
}

/** The header and rows of a Table with kubectl's decorations; cells are text. */
export function tableCells(t: Table, o: TableOptions): { header: string[]; rows: string[][] } {
  const visible = t.columnDefinitions.map((c, i) => ({ c, i })).filter(({ c }) => o.wide || !c.priority);
  const nameCol = t.columnDefinitions.findIndex((c) => c.format === 'name');
  const header: string[] = [];
  if (o.withNamespace) header.push('NAMESPACE');
  header.push(...visible.map(({ c }) => c.name.toUpperCase()));
  for (const l of o.labelColumns ?? []) header.push(l.split('/').pop()!.toUpperCase());
  if (o.showLabels) header.push('LABELS');
  const rows = t.rows.map((r) => {
    const cells: string[] = [];
    if (o.withNamespace) cells.push(r.object?.metadata?.namespace ?? '');
    for (const { i } of visible) {
      let text = formatCell(r.cells[i]);
      if (i === nameCol && o.kindPrefix) text = `${o.kindPrefix}/${text}`;
      cells.push(text);
    }
    const labels = r.object?.metadata?.labels ?? {};
    for (const l of o.labelColumns ?? []) cells.push(labels[l] ?? '');
    if (o.showLabels) cells.push(formatLabels(labels));
    return cells;
  });
  return { header, rows };
}

/** A Table as aligned text (nothing at all when it has no rows, as kubectl). */
export function formatTable(t: Table, o: TableOptions): string {
  if (t.rows.length === 0) return '';
  const { header, rows } = tableCells(t, o);
  return alignRows(o.noHeaders ? rows : [header, ...rows]);
}
