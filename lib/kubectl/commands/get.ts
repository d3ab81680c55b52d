/**
 * `tkubectl get`: lists and objects as the server's Tables (kubectl's default output) or in
 * any -o format, with paging, selectors, sorting, and watching. Beyond kubectl: on a terminal
 * (or with --color) a watch colours each line by its event type and shows the EVENT column,
 * so a learner sees the ADDED / MODIFIED / DELETED stream the API server actually sends.
 */
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError, UsageError } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { isNotFound, StatusError } from '../../machinery/index.js';
import { parseWatchEvent, LineSplitter } from '../../client/index.js';
import { kindPrefix, type APIResource } from '../discovery.js';
import { formatObjects, parseOutput, sortByPath, tableCells, type ObjectLike, type Output, type Table, type TableOptions } from '../printers/index.js';
import { alignRows } from '../printers/tabwriter.js';
import { RememberingTabWriter, colourFor } from '../printers/watch-writer.js';
import { parseTargets, readManifests, resourcePath, type Target } from '../resource/builder.js';
import { ErrorReporter, printFlags, stripManagedFields } from './common.js';

export const tableAccept = 'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

const getFlags = {
  ...printFlags,
  'all-namespaces': f('bool', false, 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.', { short: 'A' }),
  selector: f('string', '', 'Selector (label query) to filter on, supports \'=\', \'==\', \'!=\', \'in\', \'notin\'.(e.g. -l key1=value1,key2=value2). Matching objects must satisfy all of the specified label constraints.', { short: 'l' }),
  'field-selector': f('string', '', "Selector (field query) to filter on, supports '=', '==', and '!='.(e.g. --field-selector key1=value1,key2=value2). The server only supports a limited number of field queries per type."),
  watch: f('bool', false, 'After listing/getting the requested object, watch for changes.', { short: 'w' }),
  'watch-only': f('bool', false, 'Watch for changes to the requested object(s), without listing/getting first.'),
  'output-watch-events': f('bool', false, 'Output watch event objects when --watch or --watch-only is used. Existing objects are output as initial ADDED events.'),
  'show-labels': f('bool', false, 'When printing, show all labels as the last column (default hide labels column)'),
  'label-columns': f('stringSlice', [], 'Accepts a comma separated list of labels that are going to be presented as columns. Names are case-sensitive. You can also use multiple flag options like -L label1 -L label2...', { short: 'L' }),
  'no-headers': f('bool', false, 'When using the default or custom-column output format, don\'t print headers (default print headers).'),
  'chunk-size': f('int', 500, 'Return large lists in chunks rather than all at once. Pass 0 to disable.'),
  'show-kind': f('bool', false, 'If present, list the resource type for the requested object(s).'),
  'ignore-not-found': f('bool', false, 'If set to true, suppresses NotFound error for specific objects that do not exist. Using this flag with commands that query for collections of resources has no effect when no resources are found.'),
  'sort-by': f('string', '', "If non-empty, sort list types using this field specification.  The field specification is expressed as a JSONPath expression (e.g. '{.metadata.name}'). The field in the API resource specified by this JSONPath expression must be an integer or a string."),
  filename: f('stringArray', [], 'Filename, directory, or URL to files identifying the resource to get from a server.', { short: 'f' }),
  recursive: f('bool', false, 'Process the directory used in -f, --filename recursively.', { short: 'R' }),
  raw: f('string', '', 'Raw URI to request from the server.  Uses the transport specified by the kubeconfig file.'),
  color: f('bool', false, 'tkubectl: colour watch output by event type and add the EVENT column (automatic when stdout is a terminal).'),
};

interface Fetched {
  resource: APIResource;
  table?: Table;
  objects?: ObjectLike[];
}

function resourceNoun(ctx: CommandContext, all: boolean, resources: APIResource[], ns: string): string {
  return !all && resources.length > 0 && resources.every((r) => r.namespaced) ? `No resources found in ${ns} namespace.` : 'No resources found';
}

async function targetsOf(ctx: CommandContext): Promise<{ targets: (Target & { namespace?: string })[]; singleItem: boolean }> {
  const mapper = await ctx.f.mapper();
  const files = ctx.flags.filename as string[];
  if (files.length > 0) {
    const manifests = await readManifests(files, ctx.flags.recursive as boolean, ctx.io);
    const targets = manifests.map((m) => {
      const r = mapper.forKind(m.object.apiVersion!, m.object.kind!);
      if (!r) throw new CommandError(`resource mapping not found for name: "${m.object.metadata?.name ?? ''}" namespace: "${m.object.metadata?.namespace ?? ''}" from "${m.source}": no matches for kind "${m.object.kind}" in version "${m.object.apiVersion}"`);
      return { resource: r, name: m.object.metadata?.name as string, namespace: m.object.metadata?.namespace as string | undefined };
    });
    return { targets, singleItem: targets.length === 1 };
  }
  return parseTargets(mapper, ctx.args);
}

export async function runGet(ctx: CommandContext): Promise<number> {
  if (ctx.flags.raw) {
    const res = await ctx.f.client().requestRaw({ path: ctx.flags.raw as string });
    ctx.out(res.body.toString('utf8'));
    return 0;
  }
  const out = parseOutput(ctx.flags.output as string, { template: ctx.flags.template as string, cwd: ctx.io.cwd });
  if (ctx.args.length === 0 && (ctx.flags.filename as string[]).length === 0) {
    ctx.err('You must specify the type of resource to get. Use "tkubectl api-resources" for a complete list of supported resources.\n\n');
    throw new UsageError('Required resource not specified.\nUse "tkubectl explain <resource>" for a detailed description of that resource (e.g. tkubectl explain pods).');
  }
  const { targets, singleItem } = await targetsOf(ctx);
  const all = ctx.flags['all-namespaces'] as boolean;
  const { namespace } = ctx.f.namespace();
  if (all && targets.some((t) => t.name !== undefined) && (ctx.flags.filename as string[]).length === 0) {
    throw new CommandError('a resource cannot be retrieved by name across all namespaces');
  }
  if (ctx.flags.watch || ctx.flags['watch-only']) return runWatch(ctx, out, targets, namespace, all);

  const errors = new ErrorReporter(ctx);
  const ignoreNotFound = ctx.flags['ignore-not-found'] as boolean;
  const sortBy = ctx.flags['sort-by'] as string;
  const chunk = ctx.flags['chunk-size'] as number;
  const client = ctx.f.client();
  const fetched: Fetched[] = [];
  for (const t of targets) {
    const ns = t.resource.namespaced ? (t.namespace ?? (all ? undefined : namespace)) : undefined;
    try {
      if (out.kind === 'table') {
        const table = t.name !== undefined ? await fetchTable(ctx, t.resource, ns, t.name, sortBy !== '') : await listTable(ctx, t.resource, ns, chunk, sortBy !== '');
        fetched.push({ resource: t.resource, table });
      } else if (t.name !== undefined) {
        const obj = await client.request<ObjectLike>({ path: resourcePath(t.resource, ns, t.name) });
        fetched.push({ resource: t.resource, objects: [obj] });
      } else {
        fetched.push({ resource: t.resource, objects: await listPlain(ctx, t.resource, ns, chunk) });
      }
    } catch (err) {
      if (ignoreNotFound && isNotFound(err)) continue;
      errors.report(err);
    }
  }

  if (out.kind === 'table') {
    const printWithKind = (ctx.flags['show-kind'] as boolean) || new Set(fetched.map((x) => `${x.resource.group}/${x.resource.resource}`)).size > 1;
    let written = 0;
    let first = true;
    // Consecutive results of one resource share a table, as kubectl's printer per mapping.
    for (let i = 0; i < fetched.length; ) {
      const r = fetched[i]!.resource;
      const rows = [];
      let columns = fetched[i]!.table!.columnDefinitions;
      for (; i < fetched.length && fetched[i]!.resource === r; i++) {
        rows.push(...fetched[i]!.table!.rows);
        if (fetched[i]!.table!.columnDefinitions.length) columns = fetched[i]!.table!.columnDefinitions;
      }
      const table: Table = { columnDefinitions: columns, rows: sortBy ? sortRows(rows, sortBy) : rows };
      const text = renderTable(ctx, table, r, out.wide, all, printWithKind);
      if (text === '') continue;
      if (!first && !(ctx.flags['no-headers'] as boolean) && written > 0) ctx.out('\n');
      ctx.out(text);
      written += text.length;
      first = false;
    }
    if (written === 0 && errors.count === 0 && !ignoreNotFound) {
      ctx.err(`${resourceNoun(ctx, all, targets.map((t) => t.resource), namespace)}\n`);
    }
  } else {
    let objs = fetched.flatMap((x) => x.objects ?? []).map((o) => stripManagedFields(o, ctx.flags['show-managed-fields'] as boolean));
    if (sortBy) objs = sortByPath(objs, sortBy, (o) => o);
    if (!(singleItem && objs.length === 0)) {
      ctx.out(formatObjects(out, objs, singleItem, { noHeaders: ctx.flags['no-headers'] as boolean }));
    }
  }
  errors.finish();
  return 0;
}

/** Table rows by --sort-by; kubectl prints no rows at all when no object has the field. */
function sortRows(rows: Table['rows'], sortBy: string): Table['rows'] {
  try {
    return sortByPath(rows, sortBy, (row) => row.object);
  } catch (err) {
    if (err instanceof CommandError && /couldn't find any field/.test(err.message)) return [];
    throw err;
  }
}

function tableOptions(ctx: CommandContext, r: APIResource, wide: boolean, all: boolean, withKind: boolean): TableOptions {
  return {
    wide,
    noHeaders: ctx.flags['no-headers'] as boolean,
    withNamespace: all && r.namespaced,
    showLabels: ctx.flags['show-labels'] as boolean,
    labelColumns: ctx.flags['label-columns'] as string[],
    kindPrefix: withKind ? kindPrefix(r) : undefined,
  };
}

function renderTable(ctx: CommandContext, t: Table, r: APIResource, wide: boolean, all: boolean, withKind: boolean): string {
  if (t.rows.length === 0) return '';
  const o = tableOptions(ctx, r, wide, all, withKind);
  const { header, rows } = tableCells(t, o);
  return alignRows(o.noHeaders ? rows : [header, ...rows]);
}

async function fetchTable(ctx: CommandContext, r: APIResource, ns: string | undefined, name: string, withObject: boolean): Promise<Table> {
  return ctx.f.client().request<Table>({ path: resourcePath(r, ns, name), accept: tableAccept, query: withObject ? { includeObject: 'Object' } : undefined });
}

function selectorQuery(ctx: CommandContext): Record<string, string | undefined> {
  return {
    labelSelector: (ctx.flags.selector as string) || undefined,
    fieldSelector: (ctx.flags['field-selector'] as string) || undefined,
  };
}

async function listTable(ctx: CommandContext, r: APIResource, ns: string | undefined, chunk: number, withObject: boolean): Promise<Table> {
  const table: Table = { columnDefinitions: [], rows: [] };
  let cont: string | undefined;
  do {
    const page = await ctx.f.client().request<Table & { metadata?: { continue?: string } }>({
      path: resourcePath(r, ns),
      accept: tableAccept,
      query: { ...selectorQuery(ctx), includeObject: withObject ? 'Object' : undefined, limit: chunk > 0 ? String(chunk) : undefined, continue: cont },
    });
    if (page.columnDefinitions?.length) table.columnDefinitions = page.columnDefinitions;
    table.rows.push(...(page.rows ?? []));
    cont = page.metadata?.continue || undefined;
  } while (cont);
  return table;
}

async function listPlain(ctx: CommandContext, r: APIResource, ns: string | undefined, chunk: number): Promise<ObjectLike[]> {
  const items: ObjectLike[] = [];
  let cont: string | undefined;
  const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
  do {
    const list = await ctx.f.client().request<{ items?: ObjectLike[]; metadata?: { continue?: string } }>({
      path: resourcePath(r, ns),
      query: { ...selectorQuery(ctx), limit: chunk > 0 ? String(chunk) : undefined, continue: cont },
    });
    // Items of a list carry no apiVersion/kind on the wire; kubectl fills them in.
    for (const it of list.items ?? []) items.push({ apiVersion, kind: r.kind, ...it });
    cont = list.metadata?.continue || undefined;
  } while (cont);
  return items;
}

// ---- watch ------------------------------------------------------------------------------

async function runWatch(ctx: CommandContext, out: Output, targets: (Target & { namespace?: string })[], namespace: string, all: boolean): Promise<number> {
  const resources = new Set(targets.map((t) => `${t.resource.group}/${t.resource.resource}`));
  if (resources.size > 1) throw new CommandError('you may only specify a single resource type');
  if (targets.length > 1) throw new CommandError('watch is only supported on individual resources and resource collections, but 2 resources were found');
  const t = targets[0]!;
  const r = t.resource;
  const ns = r.namespaced ? (t.namespace ?? (all ? undefined : namespace)) : undefined;
  const colour = (ctx.flags.color as boolean) || ctx.io.stdoutIsTTY;
  const withEvents = (ctx.flags['output-watch-events'] as boolean) || colour;
  const withKind = ctx.flags['show-kind'] as boolean;
  const writer = new RememberingTabWriter();
  let printedHeader = false;
  const isTable = out.kind === 'table';
  const client = ctx.f.client();
  const opts = isTable ? tableOptions(ctx, r, out.wide, all, withKind) : undefined;

  const emit = (type: string, payload: unknown) => {
    if (isTable) {
      const table = payload as Table;
      if (table.rows.length === 0) return;
      const { header, rows } = tableCells(table, opts!);
      const lines: string[][] = [];
      if (!printedHeader && !opts!.noHeaders) lines.push(withEvents ? ['EVENT', ...header] : header);
      const headerLines = lines.length;
      for (const row of rows) lines.push(withEvents ? [type, ...row] : row);
      printedHeader = true;
      ctx.out(writer.format(lines, colour ? (line, i) => (i < headerLines ? line : colourFor(type, line)) : undefined));
      return;
    }
    const obj = stripManagedFields(payload as ObjectLike, ctx.flags['show-managed-fields'] as boolean);
    const text =
      out.kind === 'json' && withEvents
        ? formatObjects(out, [{ type, object: obj } as unknown as ObjectLike], true)
        : formatObjects(out, [obj], true);
    ctx.out(out.kind === 'yaml' && printedHeader ? `---\n${text}` : text);
    printedHeader = true;
  };
  // kubectl sizes the EVENT column for its longest value from the start.
  if (withEvents && isTable) writer.remember(0, 'MODIFIED'.length + 3);

  // List (or get) first, unless --watch-only.
  const query: Record<string, string | undefined> = { ...selectorQuery(ctx) };
  if (t.name !== undefined) query.fieldSelector = [query.fieldSelector, `metadata.name=${t.name}`].filter(Boolean).join(',');
  let rv: string | undefined;
  const apiVersion = r.group ? `${r.group}/${r.version}` : r.version;
  if (!ctx.flags['watch-only']) {
    if (t.name !== undefined) {
      const obj = await client.request<ObjectLike & { metadata: { resourceVersion?: string } }>({ path: resourcePath(r, ns, t.name), accept: isTable ? tableAccept : undefined });
      rv = (obj as { metadata?: { resourceVersion?: string } }).metadata?.resourceVersion;
      emit('ADDED', isTable ? obj : { apiVersion, kind: r.kind, ...obj });
    } else if (isTable) {
      const page = await client.request<Table & { metadata?: { resourceVersion?: string } }>({ path: resourcePath(r, ns), accept: tableAccept, query });
      rv = page.metadata?.resourceVersion;
      emit('ADDED', page);
    } else {
      const list = await client.request<{ items?: ObjectLike[]; metadata?: { resourceVersion?: string } }>({ path: resourcePath(r, ns), query });
      rv = list.metadata?.resourceVersion;
      for (const it of list.items ?? []) emit('ADDED', { apiVersion, kind: r.kind, ...it });
    }
  }
  for (;;) {
    const q: Record<string, string | undefined> = { ...query, watch: 'true', resourceVersion: rv, allowWatchBookmarks: 'true' };
    if (isTable) q.includeObject = 'Object';
    let res;
    try {
      res = await client.stream({ path: resourcePath(r, ns), accept: isTable ? tableAccept : undefined, query: q, signal: ctx.io.signal, timeoutMs: 0 });
    } catch (err) {
      if (ctx.io.signal?.aborted) return 0;
      throw err;
    }
    const lines = new LineSplitter();
    const onAbort = () => res.destroy();
    ctx.io.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of res) {
        for (const line of lines.push(chunk as Buffer)) {
          if (line.trim() === '') continue;
          const ev = parseWatchEvent<any>(line);
          if (ev.type === 'ERROR') {
            const st = ev.object as { code?: number };
            if (st.code === 410) {
              rv = undefined;
              break;
            }
            throw new StatusError(ev.object as never);
          }
          const newRV = isTable ? ev.object?.rows?.[0]?.object?.metadata?.resourceVersion ?? ev.object?.metadata?.resourceVersion : ev.object?.metadata?.resourceVersion;
          if (newRV) rv = newRV;
          if (ev.type === 'BOOKMARK') continue;
          emit(ev.type, isTable ? ev.object : { apiVersion, kind: r.kind, ...ev.object });
        }
      }
    } catch (err) {
      if (ctx.io.signal?.aborted) return 0;
      throw err;
    } finally {
      ctx.io.signal?.removeEventListener('abort', onAbort);
    }
    if (ctx.io.signal?.aborted) return 0;
    // The server ended the watch (its timeout): carry on from where it stopped.
  }
}

export const getCommand: Command = {
  name: 'get',
  short: 'Display one or many resources',
  long: `Display one or many resources.

 Prints a table of the most important information about the specified resources. You can filter the list using a label selector and the --selector flag. If the desired resource type is namespaced you will only see results in the current namespace if you don't specify any namespace.

 By specifying the output as 'jsonpath' and providing a JSONPath expression, you can filter the attributes of the fetched resources.

 Use "tkubectl api-resources" for a complete list of supported resources.

 tkubectl also colours --watch output by event type on a terminal (or with --color), with an EVENT column.`,
  usage: '[(-o|--output=)json|yaml|name|wide|custom-columns=...|custom-columns-file=...|jsonpath=...|jsonpath-file=...] (TYPE[.VERSION][.GROUP] [NAME | -l label] | TYPE[.VERSION][.GROUP]/NAME ...) [flags]',
  examples: `  # List all pods in ps output format
  tkubectl get pods

  # List pods with the node each runs on, sorted by node (as in the seed notes)
  tkubectl get po -o custom-columns=POD:metadata.name,NODE:spec.nodeName --sort-by spec.nodeName -n kube-system

  # Watch events as they happen, coloured by type
  tkubectl get events --watch --color

  # List a single deployment with specified NAME in JSON output format
  tkubectl get -o json deployment web

  # List all replication controllers and services together in ps output format
  tkubectl get rc,services`,
  flags: getFlags,
  group: 'Basic Commands (Beginner):',
  run: runGet,
};

