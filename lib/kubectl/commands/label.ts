/**
 * `tkubectl label` and `tkubectl annotate`: `key=value` sets, `key-` removes, `--overwrite`
 * allows changing a value, `--list` prints what is there. Each object is read, changed, and
 * written back with a JSON merge patch of its metadata (with the resourceVersion when
 * `--resource-version` asks for a precondition).
 */
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError, UsageError } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { createMergePatch } from '../../machinery/index.js';
import { parseTargets, readManifests, resourcePath } from '../resource/builder.js';
import { placeManifest, filenameFlags } from './create.js';
import { ErrorReporter, dryRunFlag, dryRunOf, listObjects, mutationOutput, printFlags, printMutation, type DryRun } from './common.js';
import type { APIResource } from '../discovery.js';

type Obj = Record<string, any>;

interface Change {
  set: Record<string, string>;
  remove: string[];
}

/** Splits `a=1 b- c=2` into sets and removals. */
export function parseChanges(args: string[], what: 'label' | 'annotation'): Change {
  const change: Change = { set: {}, remove: [] };
  for (const a of args) {
    if (a.endsWith('-') && !a.includes('=')) {
      change.remove.push(a.slice(0, -1));
      continue;
    }
    const eq = a.indexOf('=');
    if (eq <= 0) throw new CommandError(`invalid ${what} format: ${a}`);
    change.set[a.slice(0, eq)] = a.slice(eq + 1);
  }
  for (const k of change.remove) if (k in change.set) throw new CommandError(`can not both modify and remove ${what === 'label' ? 'a label' : 'an annotation'} in the same command`);
  return change;
}

export interface Target {
  resource: APIResource;
  namespace: string | undefined;
  name: string;
}

/** The objects a label/annotate/patch/scale command line names: `TYPE NAME...`, `TYPE/NAME`, `-f`, or `TYPE -l`/`--all`. */
export async function resolveObjects(ctx: CommandContext, args: string[], opts: { allowSelector: boolean }): Promise<Target[]> {
  const files = (ctx.flags.filename as string[] | undefined) ?? [];
  const { namespace } = ctx.f.namespace();
  const out: Target[] = [];
  if (files.length > 0) {
    for (const m of await readManifests(files, (ctx.flags.recursive as boolean) ?? false, ctx.io)) {
      const p = await placeManifest(ctx, m);
      out.push(p);
    }
    return out;
  }
  if (args.length === 0) throw new UsageError('one or more resources must be specified as <resource> <name> or <resource>/<name>');
  const mapper = await ctx.f.mapper();
  const { targets } = parseTargets(mapper, args);
  const all = (ctx.flags.all as boolean | undefined) ?? false;
  const selector = (ctx.flags.selector as string | undefined) ?? '';
  const allNamespaces = (ctx.flags['all-namespaces'] as boolean | undefined) ?? false;
  for (const t of targets) {
    const ns = t.resource.namespaced ? namespace : undefined;
    if (t.name !== undefined) {
      out.push({ resource: t.resource, namespace: ns, name: t.name });
      continue;
    }
    if (!opts.allowSelector || (!all && !selector)) throw new UsageError('resource(s) were provided, but no name was specified');
    const items = await listObjects(ctx, t.resource, t.resource.namespaced && !allNamespaces ? namespace : undefined, { labelSelector: selector || undefined });
    for (const it of items) out.push({ resource: t.resource, namespace: it.metadata?.namespace, name: it.metadata.name });
  }
  return out;
}

function metadataCommand(kind: 'label' | 'annotation'): Command {
  const field = kind === 'label' ? 'labels' : 'annotations';
  const verb = kind === 'label' ? 'label' : 'annotate';
  return {
    name: verb,
    short: kind === 'label' ? 'Update the labels on a resource' : 'Update the annotations on a resource',
    long:
      kind === 'label'
        ? `Update the labels on a resource.

 * A label key and value must begin with a letter or number, and may contain letters, numbers, hyphens, dots, and underscores, up to 63 characters each.
 * If --overwrite is true, then existing labels can be overwritten, otherwise attempting to overwrite a label will result in an error.
 * If --resource-version is specified, then updates will use this resource version, otherwise the existing resource-version will be used.`
        : `Update the annotations on one or more resources.

 All Kubernetes objects support the ability to store additional data with the object as annotations. Annotations are key/value pairs that can be larger than labels and include arbitrary string values such as structured JSON.`,
    usage: `[--overwrite] (-f FILENAME | TYPE NAME) KEY_1=VAL_1 ... KEY_N=VAL_N [--resource-version=version]`,
    examples: kind === 'label' ? `  # Update pod 'foo' with the label 'unhealthy' and the value 'true'\n  tkubectl label pods foo unhealthy=true\n\n  # Remove a label named 'bar' if it exists\n  tkubectl label pods foo bar-` : `  # Update pod 'foo' with the annotation 'description' and the value 'my frontend'\n  tkubectl annotate pods foo description='my frontend'`,
    group: 'Basic Commands (Intermediate):',
    flags: {
      ...printFlags,
      ...dryRunFlag,
      ...filenameFlags,
      overwrite: f('bool', false, `If true, allow ${field} to be overwritten, otherwise reject ${kind} updates that overwrite existing ${field}.`),
      all: f('bool', false, 'Select all resources, in the namespace of the specified resource types'),
      'all-namespaces': f('bool', false, 'If true, check the specified action in all namespaces.', { short: 'A' }),
      selector: f('string', '', 'Selector (label query) to filter on, supports \'=\', \'==\', \'!=\', \'in\', \'notin\'.', { short: 'l' }),
      'resource-version': f('string', '', `If non-empty, the ${kind} update will only succeed if this is the current resource-version for the object. Only valid when specifying a single resource.`),
      list: f('bool', false, `If true, display the ${field} for a given resource.`),
      local: f('bool', false, `If true, ${verb} will NOT contact api-server but run locally.`),
    },
    async run(ctx) {
      // Resource arguments come first; key=value and key- after them.
      const isChange = (a: string) => /=/.test(a) || (a.endsWith('-') && !a.includes('/'));
      const firstChange = ctx.args.findIndex((a, i) => i > 0 && isChange(a));
      const resArgs = firstChange < 0 ? ctx.args : ctx.args.slice(0, firstChange);
      const changeArgs = firstChange < 0 ? [] : ctx.args.slice(firstChange);
      const list = ctx.flags.list as boolean;
      if (!list && changeArgs.length === 0) throw new CommandError(`at least one ${kind} update is required`);
      const change = parseChanges(changeArgs, kind);
      const out = mutationOutput(ctx);
      const dry = dryRunOf(ctx);
      const targets = await resolveObjects(ctx, (ctx.flags.filename as string[]).length ? [] : resArgs, { allowSelector: true });
      if (ctx.flags['resource-version'] && targets.length > 1) throw new CommandError('--resource-version may only be used with a single resource');
      const errors = new ErrorReporter(ctx);
      for (const t of targets) {
        try {
          await applyChange(ctx, t, change, kind, out, dry, list);
        } catch (err) {
          errors.report(err);
        }
      }
      errors.finish();
      return 0;
    },
  };
}

async function applyChange(ctx: CommandContext, t: Target, change: Change, kind: 'label' | 'annotation', out: ReturnType<typeof mutationOutput>, dry: DryRun, list: boolean): Promise<void> {
  const field = kind === 'label' ? 'labels' : 'annotations';
  const client = ctx.f.client();
  const obj = await client.request<Obj>({ path: resourcePath(t.resource, t.namespace, t.name) });
  const before: Record<string, string> | undefined = obj.metadata?.[field];
  if (list) {
    for (const [k, v] of Object.entries(before ?? {})) ctx.out(`${k}=${v}\n`);
    return;
  }
  const overwrite = ctx.flags.overwrite as boolean;
  if (!overwrite) {
    const clashes = Object.entries(change.set).filter(([k, v]) => before?.[k] !== undefined && before[k] !== v);
    if (clashes.length) {
      if (kind === 'label') throw new CommandError(`'${clashes[0]![0]}' already has a value (${before![clashes[0]![0]]}), and --overwrite is false`);
      throw new CommandError(`--overwrite is false but found the following declared annotation(s): ${clashes.map(([k]) => `'${k}' already has a value (${before![k]})`).join('; ')}`);
    }
  }
  const after: Record<string, string> = { ...(before ?? {}) };
  for (const k of change.remove) {
    if (!(k in after) && kind === 'label') ctx.err(`label "${k}" not found.\n`);
    delete after[k];
  }
  Object.assign(after, change.set);
  const oldJSON = JSON.stringify(obj.metadata ?? {});
  const newMeta = { ...(obj.metadata ?? {}), [field]: after };
  const newJSON = JSON.stringify(newMeta);
  let message: string;
  if (kind === 'label') {
    // kubectl's wording compares the object's JSON before and after.
    message = oldJSON === newJSON ? 'not labeled' : !overwrite && newJSON.length < oldJSON.length ? 'unlabeled' : 'labeled';
  } else message = 'annotated';
  let result = obj;
  if (oldJSON !== newJSON || kind === 'annotation') {
    const patch: Obj = { metadata: createMergePatch({ [field]: before ?? {} }, { [field]: after }) };
    if (ctx.flags['resource-version']) patch.metadata.resourceVersion = ctx.flags['resource-version'];
    if (dry === 'client') result = { ...obj, metadata: newMeta };
    else {
      result = await client.request<Obj>({
        method: 'PATCH',
        path: resourcePath(t.resource, t.namespace, t.name),
        body: patch,
        contentType: 'application/merge-patch+json',
        query: { fieldManager: `kubectl-${kind === 'label' ? 'label' : 'annotate'}`, dryRun: dry === 'server' ? 'All' : undefined },
      });
    }
  }
  printMutation(ctx, out, result, message, dry);
}

export const labelCommand = metadataCommand('label');
export const annotateCommand = metadataCommand('annotation');
