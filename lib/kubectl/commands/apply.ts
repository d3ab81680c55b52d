/**
 * `tkubectl apply -f`: declarative configuration. Client-side (the default), as kubectl: the
 * object is created if missing, otherwise patched with the three-way patch computed from the
 * `kubectl.kubernetes.io/last-applied-configuration` annotation, the file and the live object;
 * the annotation is updated in the same patch. `--server-side` sends the file as an apply patch
 * and lets the API server track field ownership (managedFields) instead.
 */
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError, UsageError, withSource } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { builtinResources, schemaNode } from '../../api/index.js';
import { isConflict, isNotFound, type SchemaNode } from '../../machinery/index.js';
import { threeWayPatch } from '../apply/three-way.js';
import type { APIResource } from '../discovery.js';
import { goJSON } from '../printers/json.js';
import { readManifests, resourcePath } from '../resource/builder.js';
import { fieldValidation, filenameFlags, placeManifest, validateFlag } from './create.js';
import { ErrorReporter, dryRunFlag, dryRunOf, mutationOutput, printFlags, printMutation } from './common.js';
import { formatObjects } from '../printers/index.js';
import { resolveObjects } from './label.js';

type Obj = Record<string, any>;

export const lastAppliedAnnotation = 'kubectl.kubernetes.io/last-applied-configuration';

/** The patch schema of a built-in kind; undefined for custom resources (JSON merge patch). */
export function patchSchemaOf(r: APIResource): SchemaNode | undefined {
  const rt = builtinResources.find((b) => b.group === r.group && b.version === r.version && b.kind === r.kind);
  return rt && !rt.custom ? schemaNode(rt.schema) : undefined;
}

/**
 * The object with the last-applied annotation set to its own JSON (without the annotation),
 * as kubectl's GetModifiedConfiguration.
 */
export function withLastApplied(obj: Obj): { modified: Obj; lastApplied: string } {
  const copy: Obj = structuredClone(obj);
  const annotations: Record<string, string> = { ...(copy.metadata?.annotations ?? {}) };
  delete annotations[lastAppliedAnnotation];
  // An empty map stays (`"annotations":{}`), as kubectl's unstructured SetAnnotations leaves it.
  copy.metadata = { ...(copy.metadata ?? {}), annotations };
  const lastApplied = `${goJSON(copy)}\n`;
  copy.metadata.annotations = { ...annotations, [lastAppliedAnnotation]: lastApplied };
  return { modified: copy, lastApplied };
}

const maxConflictRetries = 5;

async function applyOne(ctx: CommandContext, m: { source: string; object: Obj }, out: ReturnType<typeof mutationOutput>): Promise<void> {
  const dry = dryRunOf(ctx);
  const { resource, namespace, name } = await placeManifest(ctx, m);
  if (!name) throw new CommandError(`error when retrieving current configuration of:\nResource: "${resource.group ? `${resource.group}/` : ''}${resource.version}, Resource=${resource.resource}", GroupVersionKind: "${m.object.apiVersion}, Kind=${m.object.kind}"\nName: "", Namespace: "${namespace ?? ''}"\nfrom server for: "${m.source}": resource name may not be empty`);
  const obj: Obj = structuredClone(m.object);
  if (resource.namespaced) obj.metadata = { ...(obj.metadata ?? {}), namespace };
  const client = ctx.f.client();
  const path = resourcePath(resource, namespace, name);
  const dryQuery = dry === 'server' ? 'All' : undefined;

  if (ctx.flags['server-side']) {
    const manager = ctx.flags['field-manager'] as string;
    let result: Obj = obj;
    if (dry !== 'client') {
      result = await client.request<Obj>({
        method: 'PATCH',
        path,
        body: obj,
        contentType: 'application/apply-patch+yaml',
        query: { fieldManager: manager === 'kubectl-client-side-apply' ? 'kubectl' : manager, force: String(ctx.flags['force-conflicts'] as boolean), fieldValidation: fieldValidation(ctx), dryRun: dryQuery },
      });
    }
    printMutation(ctx, out, result, 'serverside-applied', dry);
    return;
  }

  const { modified } = withLastApplied(obj);
  for (let attempt = 0; ; attempt++) {
    let current: Obj;
    try {
      current = await client.request<Obj>({ path });
    } catch (err) {
      if (!isNotFound(err)) throw withSource(err, 'retrieving current configuration of', m.source);
      let created: Obj = modified;
      if (dry !== 'client') {
        created = await client.request<Obj>({
          method: 'POST',
          path: resourcePath(resource, namespace),
          body: modified,
          query: { fieldManager: 'kubectl-client-side-apply', fieldValidation: fieldValidation(ctx), dryRun: dryQuery },
        });
      }
      printMutation(ctx, out, created, 'created', dry);
      return;
    }
    const originalText = current.metadata?.annotations?.[lastAppliedAnnotation] as string | undefined;
    if (originalText === undefined) {
      ctx.err(
        `Warning: resource ${resource.resource}/${name} is missing the ${lastAppliedAnnotation} annotation which is required by kubectl apply. kubectl apply should only be used on resources created declaratively by either kubectl create --save-config or kubectl apply. The missing annotation will be patched automatically.\n`,
      );
    }
    let original: unknown;
    try {
      original = originalText ? JSON.parse(originalText) : undefined;
    } catch {
      original = undefined;
    }
    const schema = patchSchemaOf(resource);
    const patch = threeWayPatch(original, modified, current, schema);
    if (Object.keys(patch).length === 0) {
      printMutation(ctx, out, current, 'unchanged', dry);
      return;
    }
    if (dry === 'client') {
      printMutation(ctx, out, current, 'configured', dry);
      return;
    }
    try {
      const patched = await client.request<Obj>({
        method: 'PATCH',
        path,
        body: patch,
        contentType: schema ? 'application/strategic-merge-patch+json' : 'application/merge-patch+json',
        query: { fieldManager: 'kubectl-client-side-apply', fieldValidation: fieldValidation(ctx), dryRun: dryQuery },
      });
      printMutation(ctx, out, patched, 'configured', dry);
      return;
    } catch (err) {
      // Someone changed the object between our read and our patch: read again and recompute.
      if (isConflict(err) && attempt < maxConflictRetries) continue;
      throw withSource(err, 'applying patch', m.source);
    }
  }
}

async function runApply(ctx: CommandContext): Promise<number> {
  const files = ctx.flags.filename as string[];
  if (files.length === 0) throw new UsageError('must specify one of -f and -k');
  if (ctx.flags.prune) throw new CommandError('--prune is not supported by tkubectl');
  if (ctx.flags['force-conflicts'] && !ctx.flags['server-side']) throw new CommandError('--force-conflicts only works with --server-side');
  const out = mutationOutput(ctx);
  const manifests = await readManifests(files, ctx.flags.recursive as boolean, ctx.io);
  const errors = new ErrorReporter(ctx);
  for (const m of manifests) {
    try {
      await applyOne(ctx, m, out);
    } catch (err) {
      errors.report(err);
    }
  }
  errors.finish();
  return 0;
}

const viewLastApplied: Command = {
  name: 'view-last-applied',
  short: 'View the latest last-applied-configuration annotations of a resource/object',
  usage: '(TYPE [NAME | -l label] | TYPE/NAME | -f FILENAME)',
  flags: { ...filenameFlags, output: f('string', 'yaml', 'Output format. Must be one of (yaml, json)', { short: 'o' }) },
  async run(ctx) {
    const targets = await resolveObjects(ctx, ctx.args, { allowSelector: false });
    for (const t of targets) {
      const obj = await ctx.f.client().request<Obj>({ path: resourcePath(t.resource, t.namespace, t.name) });
      const text = obj.metadata?.annotations?.[lastAppliedAnnotation] as string | undefined;
      if (!text) throw new CommandError(`no last-applied-configuration annotation found on resource: ${t.name}`);
      const v = JSON.parse(text) as Obj;
      const fmt = ctx.flags.output as string;
      if (fmt === 'json') ctx.out(formatObjects({ kind: 'json' }, [v], true));
      else if (fmt === 'yaml') ctx.out(formatObjects({ kind: 'yaml' }, [v], true));
      else throw new CommandError(`unexpected -o output mode: ${fmt}, the flag 'output' must be one of yaml|json`);
    }
    return 0;
  },
};

export const applyCommand: Command = {
  name: 'apply',
  short: 'Apply a configuration to a resource by file name or stdin',
  long: `Apply a configuration to a resource by file name or stdin. The resource name must be specified. This resource will be created if it doesn't exist yet. To use 'apply', always create the resource initially with either 'apply' or 'create --save-config'.

 JSON and YAML formats are accepted.

 Client-side apply keeps the configuration you applied in the kubectl.kubernetes.io/last-applied-configuration annotation and sends a three-way patch: what your file changes or adds, and what it no longer has compared to the last apply. Fields set by others are left alone.`,
  usage: '(-f FILENAME | -k DIRECTORY)',
  examples: `  # Apply the configuration in pod.json to a pod
  tkubectl apply -f ./pod.json

  # Apply the JSON passed into stdin to a pod
  cat pod.json | tkubectl apply -f -

  # Let the API server merge and track field ownership
  tkubectl apply --server-side -f deploy.yaml`,
  group: 'Advanced Commands:',
  flags: {
    ...printFlags,
    ...dryRunFlag,
    ...validateFlag,
    ...filenameFlags,
    'server-side': f('bool', false, 'If true, apply runs in the server instead of the client.'),
    'force-conflicts': f('bool', false, 'If true, server-side apply will force the changes against conflicts.'),
    'field-manager': f('string', 'kubectl-client-side-apply', 'Name of the manager used to track field ownership.'),
    prune: f('bool', false, 'Automatically delete resource objects that do not appear in the configs (not supported by tkubectl).'),
    overwrite: f('bool', true, 'Automatically resolve conflicts between the modified and live configuration by using values from the modified configuration'),
  },
  subcommands: [viewLastApplied],
  run: runApply,
};

