/**
 * `tkubectl delete`: by name, `type/name`, `-f`, `-l`, `--field-selector` or `--all`, with
 * kubectl's cascade (background, foreground, orphan), grace period, `--force`, `--now` and
 * `--wait` (until the objects are really gone, which finalizers and graceful pod shutdown delay).
 */
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { sleep } from '../../base/clock.js';
import { isNotFound } from '../../machinery/index.js';
import { kindPrefix, type APIResource } from '../discovery.js';
import { parseTargets, readManifests, resourcePath } from '../resource/builder.js';
import { placeManifest, filenameFlags } from './create.js';
import { ErrorReporter, dryRunFlag, dryRunOf, dryRunSuffix, listObjects } from './common.js';
import { parseGoDuration } from '../cli/flags.js';

interface Victim {
  resource: APIResource;
  namespace: string | undefined;
  name: string;
  uid?: string;
}

export function cascadePolicy(v: string): 'Background' | 'Foreground' | 'Orphan' {
  switch (v) {
    case 'background':
    case 'true':
      return 'Background';
    case 'foreground':
      return 'Foreground';
    case 'orphan':
    case 'false':
      return 'Orphan';
  }
  throw new CommandError(`invalid cascade value (${v}). Must be "background", "foreground", or "orphan"`);
}

/** Waits until each object is gone (or replaced by one with another uid). */
export async function waitForDeletion(ctx: CommandContext, victims: Victim[], timeoutMs: number): Promise<void> {
  const deadline = timeoutMs > 0 ? Date.now() + timeoutMs : Infinity;
  for (const v of victims) {
    for (;;) {
      try {
        const cur = await ctx.f.client().request<{ metadata?: { uid?: string } }>({ path: resourcePath(v.resource, v.namespace, v.name) });
        if (v.uid && cur.metadata?.uid !== v.uid) break;
      } catch (err) {
        if (isNotFound(err)) break;
        throw err;
      }
      if (Date.now() > deadline) throw new CommandError(`timed out waiting for the condition on ${v.resource.resource}/${v.name}`);
      if (ctx.io.signal?.aborted) return;
      await sleep(500, ctx.io.signal);
    }
  }
}

async function runDelete(ctx: CommandContext): Promise<number> {
  const files = ctx.flags.filename as string[];
  const selector = ctx.flags.selector as string;
  const fieldSelector = ctx.flags['field-selector'] as string;
  const all = ctx.flags.all as boolean;
  const allNamespaces = ctx.flags['all-namespaces'] as boolean;
  if (all && selector) throw new CommandError("setting 'all' parameter but found a non empty selector. ");
  const policy = cascadePolicy(ctx.flags.cascade as string);
  let grace = ctx.flags['grace-period'] as number;
  const force = ctx.flags.force as boolean;
  if (ctx.flags.now) {
    if (grace !== -1) throw new CommandError('--now and --grace-period cannot be specified together');
    grace = 1;
  }
  if (force && grace < 0) grace = 0;
  if (force && grace === 0) ctx.err('Warning: Immediate deletion does not wait for confirmation that the running resource has been terminated. The resource may continue to run on the cluster indefinitely.\n');
  const dry = dryRunOf(ctx);
  const ignoreNotFound = (ctx.flags['ignore-not-found'] as boolean) || (all && !ctx.changed.has('ignore-not-found'));
  const { namespace } = ctx.f.namespace();
  const errors = new ErrorReporter(ctx);
  const victims: Victim[] = [];

  if (files.length > 0) {
    for (const m of await readManifests(files, ctx.flags.recursive as boolean, ctx.io)) {
      const p = await placeManifest(ctx, m);
      victims.push({ resource: p.resource, namespace: p.namespace, name: p.name });
    }
  } else {
    if (ctx.args.length === 0) {
      throw new CommandError(`You must provide one or more resources by argument or filename.
Example resource specifications include:
   '-f rsrc.yaml'
   '--filename=rsrc.json'
   '<resource> <name>'
   '<resource>'`);
    }
    const mapper = await ctx.f.mapper();
    const { targets } = parseTargets(mapper, ctx.args, 'delete');
    for (const t of targets) {
      if (t.name !== undefined) {
        victims.push({ resource: t.resource, namespace: t.resource.namespaced ? namespace : undefined, name: t.name });
        continue;
      }
      if (!all && !selector && !fieldSelector) throw new CommandError('resource(s) were provided, but no name was specified');
      const ns = t.resource.namespaced && !allNamespaces ? namespace : undefined;
      const items = await listObjects(ctx, t.resource, ns, { labelSelector: selector || undefined, fieldSelector: fieldSelector || undefined });
      for (const it of items) victims.push({ resource: t.resource, namespace: it.metadata?.namespace, name: it.metadata.name });
    }
    if (victims.length === 0) {
      ctx.out('No resources found\n');
      return 0;
    }
  }

  const deleted: Victim[] = [];
  for (const v of victims) {
    const body: Record<string, unknown> = { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: policy };
    if (grace >= 0) body.gracePeriodSeconds = grace;
    if (dry === 'server') body.dryRun = ['All'];
    try {
      let uid: string | undefined;
      if (dry !== 'client') {
        const res = await ctx.f.client().request<{ kind?: string; metadata?: { uid?: string }; details?: { uid?: string } }>({ method: 'DELETE', path: resourcePath(v.resource, v.namespace, v.name), body });
        uid = res.kind === 'Status' ? res.details?.uid : res.metadata?.uid;
      }
      deleted.push({ ...v, uid });
      const what = `${kindPrefix(v.resource)}`;
      if (ctx.flags.output === 'name') ctx.out(`${what}/${v.name}\n`);
      else ctx.out(`${what} "${v.name}" ${force && grace === 0 ? 'force deleted' : 'deleted'}${dryRunSuffix(dry)}\n`);
    } catch (err) {
      if (ignoreNotFound && isNotFound(err)) continue;
      errors.report(err);
    }
  }
  if ((ctx.flags.wait as boolean) && dry === 'none' && deleted.length > 0) {
    const timeout = ctx.flags.timeout as string;
    await waitForDeletion(ctx, deleted, timeout === '0s' || timeout === '0' ? 0 : parseGoDuration(timeout));
  }
  errors.finish();
  return 0;
}

export const deleteCommand: Command = {
  name: 'delete',
  short: 'Delete resources by file names, stdin, resources and names, or by resources and label selector',
  long: `Delete resources by file names, stdin, resources and names, or by resources and label selector.

 Deleting an object sets its deletionTimestamp; the API server removes it once its finalizers are
done. With --cascade=background (the default) the garbage collector deletes what the object owns
afterwards; foreground deletes the dependents first; orphan leaves them running.`,
  usage: '([-f FILENAME] | [-k DIRECTORY] | TYPE [(NAME | -l label | --all)])',
  examples: `  # Delete a pod with minimal delay
  tkubectl delete pod foo --now

  # Delete pods and services with label name=myLabel
  tkubectl delete pods,services -l name=myLabel`,
  group: 'Basic Commands (Intermediate):',
  flags: {
    ...filenameFlags,
    ...dryRunFlag,
    output: f('string', '', "Output mode. Use \"-o name\" for shorter output (resource/name).", { short: 'o' }),
    all: f('bool', false, 'Delete all resources, in the namespace of the specified resource types.'),
    'all-namespaces': f('bool', false, 'If present, list the requested object(s) across all namespaces. Namespace in current context is ignored even if specified with --namespace.', { short: 'A' }),
    selector: f('string', '', 'Selector (label query) to filter on, not including uninitialized ones.', { short: 'l' }),
    'field-selector': f('string', '', "Selector (field query) to filter on, supports '=', '==', and '!='."),
    cascade: f('string', 'background', 'Must be "background", "orphan", or "foreground". Selects the deletion cascading strategy for the dependents (e.g. Pods created by a ReplicationController). Defaults to background.', { noOptDefault: 'background' }),
    'grace-period': f('int', -1, 'Period of time in seconds given to the resource to terminate gracefully. Ignored if negative. Set to 1 for immediate shutdown. Can only be set to 0 when --force is true (force deletion).'),
    force: f('bool', false, 'If true, immediately remove resources from API and bypass graceful deletion. Note that immediate deletion of some resources may result in inconsistency or data loss and requires confirmation.'),
    now: f('bool', false, 'If true, resources are signaled for immediate shutdown (same as --grace-period=1).'),
    wait: f('bool', true, 'If true, wait for resources to be gone before returning. This waits for finalizers.'),
    timeout: f('string', '0s', 'The length of time to wait before giving up on a delete, zero means determine a timeout from the size of the object'),
    'ignore-not-found': f('bool', false, 'Treat "resource not found" as a successful delete. Defaults to "true" when --all is specified.'),
  },
  run: runDelete,
};
