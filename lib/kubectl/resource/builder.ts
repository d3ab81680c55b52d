/**
 * From what a user typed to what to fetch: `TYPE`, `TYPE NAME...`, `TYPE1,TYPE2 [NAME...]`,
 * `TYPE/NAME...`, categories such as `all`; and from `-f` to objects (files, directories with
 * `-R`, `-` for stdin, multi-document YAML, JSON, and `kind: List`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { CommandError, UsageError } from '../cli/errors.js';
import { readAll, type IOStreams } from '../cli/io.js';
import type { APIResource, RESTMapper } from '../discovery.js';

export interface Target {
  resource: APIResource;
  /** Undefined: the whole collection (list). */
  name?: string;
}

export interface ParsedTargets {
  targets: Target[];
  /** One named object of one type: printed as itself, not a List. */
  singleItem: boolean;
}

/** Expands `pods,svc`, `all`, short names... into resources, keeping order and dropping repeats. */
export function resolveTypes(mapper: RESTMapper, types: string): APIResource[] {
  const out: APIResource[] = [];
  for (const t of types.split(',')) {
    if (t === '') continue;
    const expanded = mapper.find(t) ? [mapper.resolve(t)] : (mapper.category(t) ?? [mapper.resolve(t)]);
    for (const r of expanded) if (!out.some((o) => o.group === r.group && o.resource === r.resource)) out.push(r);
  }
  return out;
}

/** kubectl's ResourceTypeOrNameArgs. */
export function parseTargets(mapper: RESTMapper, args: string[], verb = 'get'): ParsedTargets {
  if (args.length === 0) return { targets: [], singleItem: false };
  if (args.some((a) => a.includes('/'))) {
    if (!args.every((a) => a.includes('/'))) {
      throw new CommandError(
        `there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'tkubectl ${verb} resource/<resource_name>' instead of 'tkubectl ${verb} resource resource/<resource_name>'`,
      );
    }
    const targets = args.map((a) => {
      const i = a.indexOf('/');
      const type = a.slice(0, i);
      const name = a.slice(i + 1);
      if (name === '' || type === '') throw new CommandError(`arguments in resource/name form must have a single resource and name`);
      return { resource: mapper.resolve(type), name };
    });
    return { targets, singleItem: targets.length === 1 };
  }
  const types = args[0]!.split(',').filter(Boolean);
  const names = args.slice(1);
  if (names.length > 0) {
    if (types.some((t) => !mapper.find(t) && mapper.category(t))) throw new CommandError('you must specify only one resource');
    const resources = resolveTypes(mapper, args[0]!);
    const targets = resources.flatMap((r) => names.map((n) => ({ resource: r, name: n })));
    return { targets, singleItem: resources.length === 1 && names.length === 1 };
  }
  return { targets: resolveTypes(mapper, args[0]!).map((r) => ({ resource: r })), singleItem: false };
}

/** The URL of a resource (collection when `name` is undefined). */
export function resourcePath(r: { group: string; version: string; resource: string; namespaced: boolean }, namespace: string | undefined, name?: string, subresource?: string): string {
  let p = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.resource}`;
  if (name !== undefined) {
    p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
  }
  return p;
}

// ---- manifests -------------------------------------------------------------------------

export interface Manifest {
  /** Where it came from: the file name, or `STDIN`. */
  source: string;
  object: Record<string, unknown> & { apiVersion?: string; kind?: string; metadata?: Record<string, any> };
}

const manifestExt = new Set(['.yaml', '.yml', '.json']);

function filesIn(dir: string, recursive: boolean): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) {
      if (recursive) out.push(...filesIn(p, recursive));
    } else if (manifestExt.has(path.extname(e.name))) out.push(p);
  }
  return out;
}

/** Parses YAML or JSON text: every document, with `List` kinds flattened. */
export function parseManifests(text: string, source: string): Manifest[] {
  const out: Manifest[] = [];
  let docs: unknown[];
  try {
    docs = parseAllDocuments(text).map((d) => {
      if (d.errors.length) throw d.errors[0];
      return d.toJS();
    });
  } catch (e) {
    throw new CommandError(`error parsing ${source}: ${(e as Error).message.split('\n')[0]}`);
  }
  const add = (o: unknown) => {
    if (o === null || o === undefined) return;
    if (typeof o !== 'object' || Array.isArray(o)) throw new CommandError(`error parsing ${source}: the document is not an object`);
    const obj = o as Manifest['object'];
    if (typeof obj.kind === 'string' && obj.kind.endsWith('List') && Array.isArray(obj.items)) {
      for (const it of obj.items) add(it);
      return;
    }
    if (!obj.apiVersion || !obj.kind) {
      const missing = !obj.apiVersion ? 'apiVersion' : 'kind';
      throw new CommandError(`error validating "${source}": error validating data: ${missing} not set; if you choose to ignore these errors, turn validation off with --validate=false`);
    }
    out.push({ source, object: obj });
  };
  for (const d of docs) add(d);
  return out;
}

/** Reads `-f` arguments (files, directories, `-`). */
export async function readManifests(filenames: string[], recursive: boolean, io: IOStreams): Promise<Manifest[]> {
  const out: Manifest[] = [];
  for (const f of filenames) {
    if (f === '-') {
      out.push(...parseManifests(await readAll(io.stdin), 'STDIN'));
      continue;
    }
    if (/^https?:\/\//.test(f)) throw new CommandError(`reading manifests from URLs is not supported by tkubectl: ${f}`);
    const p = path.resolve(io.cwd, f);
    if (!fs.existsSync(p)) throw new CommandError(`the path "${f}" does not exist`);
    const files = fs.statSync(p).isDirectory() ? filesIn(p, recursive).map((x) => path.join(f, path.relative(p, x))) : [f];
    for (const file of files) out.push(...parseManifests(fs.readFileSync(path.resolve(io.cwd, file), 'utf8'), file));
  }
  return out;
}

export function requireFilenames(filenames: string[]): void {
  if (filenames.length === 0) throw new UsageError('must specify one of -f and -k');
}
