/**
 * `tkubectl patch` (strategic merge, JSON merge or JSON patch, sent as the user wrote it; the
 * API server applies it) and `tkubectl scale` (through the scale subresource, with kubectl's
 * `--current-replicas` precondition).
 */
import fs from 'node:fs';
import path from 'node:path';
import { parse as parseYAML } from 'yaml';
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { jsonEqual } from '../../machinery/index.js';
import { patchContentTypes, type PatchType } from '../../client/index.js';
import { resourcePath } from '../resource/builder.js';
import { filenameFlags } from './create.js';
import { ErrorReporter, dryRunFlag, dryRunOf, mutationOutput, printFlags, printMutation } from './common.js';
import { resolveObjects } from './label.js';

type Obj = Record<string, any>;

/** A patch given as JSON or YAML text, as JSON. */
function patchBody(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text));
  } catch {
    try {
      const v = parseYAML(text) as unknown;
      if (v !== null && typeof v === 'object') return JSON.stringify(v);
    } catch {
      /* send it as it is: the server says what is wrong */
    }
    return text;
  }
}

async function runPatch(ctx: CommandContext): Promise<number> {
  const type = ctx.flags.type as string;
  if (!['json', 'merge', 'strategic'].includes(type)) throw new CommandError(`--type must be one of [json merge strategic], not "${type}"`);
  let text = ctx.flags.patch as string;
  const file = ctx.flags['patch-file'] as string;
  if (text && file) throw new CommandError('--patch and --patch-file are mutually exclusive');
  if (file) text = fs.readFileSync(path.resolve(ctx.io.cwd, file), 'utf8');
  if (!text) throw new CommandError('must specify --patch or --patch-file containing the contents of the patch');
  const out = mutationOutput(ctx);
  const dry = dryRunOf(ctx);
  const targets = await resolveObjects(ctx, ctx.args, { allowSelector: false });
  const body = patchBody(text);
  const sub = (ctx.flags.subresource as string) || undefined;
  const errors = new ErrorReporter(ctx);
  const client = ctx.f.client();
  for (const t of targets) {
    try {
      const before = await client.request<Obj>({ path: resourcePath(t.resource, t.namespace, t.name, sub) });
      let after: Obj;
      if (dry === 'client') after = before;
      else {
        after = await client.request<Obj>({
          method: 'PATCH',
          path: resourcePath(t.resource, t.namespace, t.name, sub),
          body,
          contentType: patchContentTypes[type as PatchType],
          query: { fieldManager: 'kubectl-patch', dryRun: dry === 'server' ? 'All' : undefined },
        });
      }
      printMutation(ctx, out, after, jsonEqual(before, after) ? 'patched (no change)' : 'patched', dry);
    } catch (err) {
      errors.report(err);
    }
  }
  errors.finish();
  return 0;
}

export const patchCommand: Command = {
  name: 'patch',
  short: 'Update fields of a resource',
  long: `Update fields of a resource using strategic merge patch, a JSON merge patch, or a JSON patch.

 JSON and YAML formats are accepted.

 Note: Strategic merge patch is not supported for custom resources.`,
  usage: '(-f FILENAME | TYPE NAME) [-p PATCH|--patch-file FILE]',
  examples: `  # Partially update a node using a strategic merge patch, specifying the patch as JSON
  tkubectl patch node k8s-node-1 -p '{"spec":{"unschedulable":true}}'

  # Update a container's image using a JSON patch with positional arrays
  tkubectl patch pod valid-pod --type='json' -p='[{"op": "replace", "path": "/spec/containers/0/image", "value":"new image"}]'`,
  group: 'Advanced Commands:',
  flags: {
    ...printFlags,
    ...dryRunFlag,
    ...filenameFlags,
    patch: f('string', '', 'The patch to be applied to the resource JSON file.', { short: 'p' }),
    'patch-file': f('string', '', 'A file containing a patch to be applied to the resource.'),
    type: f('string', 'strategic', 'The type of patch being provided; one of [json merge strategic]'),
    subresource: f('string', '', "If specified, patch will operate on the subresource of the requested object. Must be one of [status scale]."),
    local: f('bool', false, 'If true, patch will operate on the content of the file, not the server-side resource.'),
  },
  run: runPatch,
};

async function runScale(ctx: CommandContext): Promise<number> {
  if (!ctx.changed.has('replicas')) throw new CommandError('required flag(s) "replicas" not set');
  const replicas = ctx.flags.replicas as number;
  if (replicas < 0) throw new CommandError('The --replicas=COUNT flag is required, and COUNT must be greater than or equal to 0');
  const current = ctx.flags['current-replicas'] as number;
  const rv = ctx.flags['resource-version'] as string;
  const out = mutationOutput(ctx);
  const dry = dryRunOf(ctx);
  const targets = await resolveObjects(ctx, ctx.args, { allowSelector: true });
  if (targets.length === 0) throw new CommandError('no objects passed to scale');
  const errors = new ErrorReporter(ctx);
  const client = ctx.f.client();
  for (const t of targets) {
    try {
      const scalePath = resourcePath(t.resource, t.namespace, t.name, 'scale');
      if (current >= 0 || rv) {
        const scale = await client.request<Obj>({ path: scalePath });
        if (current >= 0 && scale.spec?.replicas !== current) throw new CommandError(`Expected replicas to be ${current}, was ${scale.spec?.replicas ?? 0}`);
        if (rv && scale.metadata?.resourceVersion !== rv) throw new CommandError(`Expected resourceVersion to be ${rv}, was ${scale.metadata?.resourceVersion}`);
      }
      if (dry !== 'client') {
        const patch: Obj = { spec: { replicas } };
        if (rv) patch.metadata = { resourceVersion: rv };
        await client.request({ method: 'PATCH', path: scalePath, body: patch, contentType: 'application/merge-patch+json', query: { fieldManager: 'kubectl-scale', dryRun: dry === 'server' ? 'All' : undefined } });
      }
      const obj = await client.request<Obj>({ path: resourcePath(t.resource, t.namespace, t.name) });
      printMutation(ctx, out, obj, 'scaled', dry);
    } catch (err) {
      errors.report(err);
    }
  }
  errors.finish();
  return 0;
}

export const scaleCommand: Command = {
  name: 'scale',
  short: 'Set a new size for a deployment, replica set, or replication controller',
  long: `Set a new size for a deployment, replica set, replication controller, or stateful set.

 Scale also allows users to specify one or more preconditions for the scale action.

 If --current-replicas or --resource-version is specified, it is validated before the scale is attempted, and it is guaranteed that the precondition holds true when the scale is sent to the server.`,
  usage: '[--resource-version=version] [--current-replicas=count] --replicas=COUNT (-f FILENAME | TYPE NAME)',
  examples: '  # Scale a replica set named \'foo\' to 3\n  tkubectl scale --replicas=3 rs/foo',
  group: 'Deploy Commands:',
  flags: {
    ...printFlags,
    ...dryRunFlag,
    ...filenameFlags,
    replicas: f('int', 0, 'The new desired number of replicas. Required.'),
    'current-replicas': f('int', -1, 'Precondition for current size. Requires that the current size of the resource match this value in order to scale. -1 (default) for no condition.'),
    'resource-version': f('string', '', 'Precondition for resource version. Requires that the current resource version match this value in order to scale.'),
    all: f('bool', false, 'Select all resources in the namespace of the specified resource types'),
    selector: f('string', '', 'Selector (label query) to filter on, supports \'=\', \'==\', and \'!=\'.', { short: 'l' }),
    timeout: f('string', '0s', 'The length of time to wait before giving up on a scale operation, zero means don\'t wait.'),
  },
  run: runScale,
};

