/**
 * Pieces several commands share: print flags and printing what a mutation did
 * (`deployment.apps/web created`, or the object with `-o yaml`), reading objects by target,
 * label selectors, and collecting per-object errors the way kubectl reports them.
 */
import type { CommandContext } from '../cli/command.js';
import { CommandError, ReportedError, errorText, standardErrorText } from '../cli/errors.js';
import { f, type FlagDefs } from '../cli/flags.js';
import { kindPrefix, type APIResource } from '../discovery.js';
import { formatObjects, parseOutput, type ObjectLike, type Output } from '../printers/index.js';
import { resourcePath } from '../resource/builder.js';

export const printFlags = {
  output: f('string', '', 'Output format. One of: (json, yaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file).', { short: 'o' }),
  template: f('string', '', 'Template string or path to template file to use when -o=jsonpath, -o=jsonpath-file.'),
  'show-managed-fields': f('bool', false, 'If true, keep the managedFields when printing objects in JSON or YAML format.'),
  'allow-missing-template-keys': f('bool', true, 'If true, ignore any errors in templates when a field or map key is missing in the template.'),
} satisfies FlagDefs;

export const dryRunFlag = {
  'dry-run': f('string', 'none', 'Must be "none", "server", or "client". If client strategy, only print the object that would be sent, without sending it. If server strategy, submit server-side request without persisting the resource.', { noOptDefault: 'unchanged' }),
} satisfies FlagDefs;

export type DryRun = 'none' | 'client' | 'server';

export function dryRunOf(ctx: CommandContext): DryRun {
  const v = ctx.flags['dry-run'] as string | undefined;
  if (v === undefined || v === 'none' || v === 'false') return 'none';
  if (v === 'client' || v === 'true' || v === 'unchanged') return 'client';
  if (v === 'server') return 'server';
  throw new CommandError(`Invalid dry-run value (${v}). Must be "none", "server", or "client".`);
}

export function dryRunSuffix(d: DryRun): string {
  return d === 'client' ? ' (dry run)' : d === 'server' ? ' (server dry run)' : '';
}

/** The -o of a mutating command: undefined for the default `x created` message. */
export function mutationOutput(ctx: CommandContext): Output | undefined {
  const o = ctx.flags.output as string;
  if (!o) return undefined;
  const out = parseOutput(o, { template: ctx.flags.template as string, cwd: ctx.io.cwd, allowed: 'json, yaml, name, go-template, go-template-file, template, templatefile, jsonpath, jsonpath-as-json, jsonpath-file' });
  if (out.kind === 'table' || out.kind === 'custom-columns') {
    throw new CommandError(`unable to match a printer suitable for the output format "${o}", allowed formats are: json,yaml,name,go-template,go-template-file,template,templatefile,jsonpath,jsonpath-as-json,jsonpath-file`);
  }
  return out;
}

/** Drops metadata.managedFields unless --show-managed-fields, as kubectl does for json/yaml. */
export function stripManagedFields<T>(obj: T, keep: boolean): T {
  const o = obj as { metadata?: { managedFields?: unknown } };
  if (keep || !o?.metadata?.managedFields) return obj;
  const { managedFields: _m, ...meta } = o.metadata;
  return { ...o, metadata: meta } as T;
}

/**
 * Prints the result of a mutation: `kind/name <verb>` or the object in the -o format.
 * Several objects in json/yaml print one after the other (yaml separated by `---`), as kubectl.
 */
export function printMutation(ctx: CommandContext, out: Output | undefined, obj: ObjectLike, verb: string, dry: DryRun = 'none'): void {
  if (!out) {
    ctx.out(`${nameFor(obj)} ${verb}${dryRunSuffix(dry)}\n`);
    return;
  }
  if (out.kind === 'name') {
    ctx.out(`${nameFor(obj)}\n`);
    return;
  }
  ctx.out(formatObjects(out, [stripManagedFields(obj, ctx.flags['show-managed-fields'] as boolean)], true));
}

/** `deployment.apps/web` from an object's apiVersion and kind. */
export function nameFor(obj: ObjectLike): string {
  const av = obj.apiVersion ?? '';
  const group = av.includes('/') ? av.split('/')[0]! : '';
  return `${kindPrefix({ group, kind: obj.kind ?? '' })}/${obj.metadata?.name ?? ''}`;
}

/** `deployment.apps/web` from a resource and a name. */
export function targetName(r: APIResource, name: string): string {
  return `${kindPrefix(r)}/${name}`;
}

/**
 * Collects the errors of individual objects while a command carries on with the others, and
 * prints them at the end as kubectl does: one error as CheckErr prints it, several one per line.
 */
export class ErrorReporter {
  private readonly errors: unknown[] = [];
  constructor(private readonly ctx: CommandContext) {}
  get count(): number {
    return this.errors.length;
  }
  report(err: unknown): void {
    this.errors.push(err);
  }
  /** Prints what was collected and throws (exit 1) if anything was. */
  finish(): void {
    if (this.errors.length === 0) return;
    if (this.errors.length === 1) this.ctx.err(`${errorText(this.errors[0], this.ctx.path)}\n`);
    else for (const e of this.errors) this.ctx.err(`${standardErrorText(e, this.ctx.path)}\n`);
    throw new ReportedError(1);
  }
}

export async function getObject(ctx: CommandContext, r: APIResource, namespace: string, name: string): Promise<Record<string, any>> {
  return ctx.f.client().request({ path: resourcePath(r, namespace, name) });
}

export async function listObjects(ctx: CommandContext, r: APIResource, namespace: string | undefined, query: Record<string, string | undefined> = {}): Promise<Record<string, any>[]> {
  const items: Record<string, any>[] = [];
  let cont: string | undefined;
  do {
    const list = await ctx.f.client().request<{ items?: Record<string, any>[]; metadata?: { continue?: string } }>({
      path: resourcePath(r, namespace),
      query: { ...query, limit: '500', continue: cont },
    });
    for (const it of list.items ?? []) items.push({ apiVersion: r.group ? `${r.group}/${r.version}` : r.version, kind: r.kind, ...it });
    cont = list.metadata?.continue || undefined;
  } while (cont);
  return items;
}
