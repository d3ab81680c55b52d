/**
 * `tkubectl edit`: opens the object in $KUBE_EDITOR or $EDITOR (vi otherwise) as YAML, and
 * saves what changed as a patch. If the server refuses it, the file is reopened with the
 * reason at the top, as kubectl does; an unchanged or empty file cancels the edit.
 *
 * `tkubectl explain`: field documentation from the server's OpenAPI v3 documents.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYAML } from 'yaml';
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError, UsageError, errorText } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { jsonEqual } from '../../machinery/index.js';
import { threeWayPatch } from '../apply/three-way.js';
import { toYAML } from '../printers/yaml.js';
import { goJSON } from '../printers/json.js';
import { resourcePath } from '../resource/builder.js';
import { patchSchemaOf } from './apply.js';
import { printMutation, mutationOutput, printFlags } from './common.js';
import { resolveObjects } from './label.js';

type Obj = Record<string, any>;

const header = `# Please edit the object below. Lines beginning with a '#' will be ignored,
# and an empty file will abort the edit. If an error occurs while saving this file will be
# reopened with the relevant failures.
#
`;

function runEditor(ctx: CommandContext, file: string): void {
  const editor = ctx.io.env.KUBE_EDITOR || ctx.io.env.EDITOR || 'vi';
  // The editor may carry arguments ("code --wait"); run it through the shell as kubectl does.
  const r = spawnSync('/bin/sh', ['-c', `${editor} "$1"`, 'editor', file], { stdio: 'inherit', env: { ...process.env, ...ctx.io.env } as NodeJS.ProcessEnv });
  if (r.status !== 0) throw new CommandError(`there was a problem with the editor "${editor}"`);
}

export const editCommand: Command = {
  name: 'edit',
  short: 'Edit a resource on the server',
  long: `Edit a resource from the default editor.

 The edit command allows you to directly edit any API resource you can retrieve via the command-line tools. It will open the editor defined by your KUBE_EDITOR, or EDITOR environment variables, or fall back to 'vi'. The changes are sent as a patch; if the server rejects them, the file is reopened with the error at the top.`,
  usage: '(RESOURCE/NAME | -f FILENAME)',
  group: 'Basic Commands (Intermediate):',
  flags: { ...printFlags, filename: f('stringArray', [], 'Filename identifying the resource to edit', { short: 'f' }), 'output-patch': f('bool', false, 'Output the patch if the resource is edited.') },
  async run(ctx) {
    if (ctx.args.length === 0 && !(ctx.flags.filename as string[]).length) throw new UsageError('you must provide one or more resources by argument or filename');
    const out = mutationOutput(ctx);
    const client = ctx.f.client();
    for (const t of await resolveObjects(ctx, ctx.args, { allowSelector: false })) {
      const original = await client.request<Obj>({ path: resourcePath(t.resource, t.namespace, t.name) });
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkubectl-edit-'));
      const file = path.join(dir, `${t.name}.yaml`);
      let failure = '';
      let text = toYAML(original);
      try {
        for (;;) {
          fs.writeFileSync(file, `${header}${failure}${text}`);
          runEditor(ctx, file);
          const edited = fs.readFileSync(file, 'utf8');
          const body = edited.split('\n').filter((l) => !l.startsWith('#')).join('\n');
          if (body.trim() === '') {
            ctx.out('Edit cancelled, no changes made.\n');
            break;
          }
          let obj: Obj;
          try {
            obj = parseYAML(body) as Obj;
          } catch (e) {
            failure = `# The edited file had a syntax error: ${(e as Error).message.split('\n')[0]}\n#\n`;
            text = body;
            continue;
          }
          if (jsonEqual(obj, original)) {
            ctx.out('Edit cancelled, no changes made.\n');
            break;
          }
          const patch = threeWayPatch(original, obj, original, patchSchemaOf(t.resource));
          if (ctx.flags['output-patch']) ctx.out(`Patch: ${goJSON(patch)}\n`);
          try {
            const result = await client.request<Obj>({
              method: 'PATCH',
              path: resourcePath(t.resource, t.namespace, t.name),
              body: patch,
              contentType: patchSchemaOf(t.resource) ? 'application/strategic-merge-patch+json' : 'application/merge-patch+json',
              query: { fieldManager: 'kubectl-edit' },
            });
            printMutation(ctx, out, result, 'edited');
            break;
          } catch (err) {
            // Reopen with the reason, keeping the user's changes.
            const reason = errorText(err).split('\n').map((l) => `# ${l}`).join('\n');
            failure = `# ${t.resource.group ? `${t.resource.resource}.${t.resource.group}` : t.resource.resource} "${t.name}" was not valid:\n${reason}\n#\n`;
            text = body.replace(/^\n+/, '');
          }
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }
    return 0;
  },
};

// ---- explain ----------------------------------------------------------------------------

interface OpenAPIDoc {
  components?: { schemas?: Record<string, Obj> };
}

function deref(doc: OpenAPIDoc, s: Obj | undefined): Obj | undefined {
  if (!s) return s;
  const ref = s.$ref ?? s.allOf?.[0]?.$ref;
  if (ref) {
    const target = doc.components?.schemas?.[String(ref).replace('#/components/schemas/', '')];
    return target ? { ...target, description: s.description ?? target.description } : s;
  }
  return s;
}

function typeName(doc: OpenAPIDoc, s: Obj | undefined): string {
  if (!s) return 'Object';
  const ref = s.$ref ?? s.allOf?.[0]?.$ref;
  if (ref) return String(ref).split('.').pop()!;
  if (s.type === 'array') return `[]${typeName(doc, s.items)}`;
  if (s.type === 'object' && s.additionalProperties) return `map[string]${typeName(doc, s.additionalProperties)}`;
  return s.type ?? (s['x-kubernetes-int-or-string'] ? 'IntOrString' : 'Object');
}

function wrap(text: string, indent: string, width = 80): string {
  const out: string[] = [];
  for (const para of text.split('\n')) {
    let line = '';
    for (const word of para.split(/\s+/).filter(Boolean)) {
      if (line && indent.length + line.length + 1 + word.length > width) {
        out.push(indent + line);
        line = word;
      } else line = line ? `${line} ${word}` : word;
    }
    out.push(indent + line);
  }
  return out.join('\n');
}

export const explainCommand: Command = {
  name: 'explain',
  short: 'Get documentation for a resource',
  long: `Describe fields and structure of various resources.

 This command describes the fields associated with each supported API resource. Fields are identified via a simple JSONPath identifier:

        <type>.<fieldName>[.<fieldName>]

 Information about each field is retrieved from the server in OpenAPI format.`,
  usage: 'TYPE [--recursive=FALSE|TRUE] [--api-version=api-version-group]',
  examples: '  # Get the documentation of the resource and its fields\n  tkubectl explain pods\n\n  # Get the documentation of a specific field of a resource\n  tkubectl explain pods.spec.containers',
  group: 'Basic Commands (Intermediate):',
  flags: { recursive: f('bool', false, 'When true, print the name of all the fields recursively.'), 'api-version': f('string', '', 'Use given api-version (group/version) of the resource.') },
  async run(ctx) {
    if (ctx.args.length === 0) throw new UsageError('You must specify the type of resource to explain. Use "tkubectl api-resources" for a complete list of supported resources.');
    const [typeArg, ...fields] = ctx.args[0]!.split('.');
    const mapper = await ctx.f.mapper();
    let r = mapper.find(typeArg!);
    // `deployments.apps` style names: the group is not a field.
    if (!r) throw new CommandError(`the server doesn't have a resource type "${typeArg}"`);
    if (ctx.flags['api-version']) {
      const [g, v] = (ctx.flags['api-version'] as string).includes('/') ? (ctx.flags['api-version'] as string).split('/') : ['', ctx.flags['api-version'] as string];
      r = mapper.discovery.resources.find((x) => x.resource === r!.resource && x.group === g && x.version === v) ?? r;
    }
    const client = ctx.f.client();
    const index = await client.request<{ paths?: Record<string, { serverRelativeURL: string }> }>({ path: '/openapi/v3' });
    const key = r.group ? `apis/${r.group}/${r.version}` : `api/${r.version}`;
    const entry = index.paths?.[key];
    if (!entry) throw new CommandError(`couldn't find resource for "${r.kind}" in the OpenAPI documents`);
    const doc = await client.request<OpenAPIDoc>({ path: entry.serverRelativeURL.split('?')[0]!, query: Object.fromEntries(new URLSearchParams(entry.serverRelativeURL.split('?')[1] ?? '')) });
    const schemas = doc.components?.schemas ?? {};
    const rootName = Object.keys(schemas).find((n) => (schemas[n]!['x-kubernetes-group-version-kind'] ?? []).some((g: Obj) => g.group === r!.group && g.version === r!.version && g.kind === r!.kind));
    if (!rootName) throw new CommandError(`couldn't find resource for "${r.kind}" in the OpenAPI documents`);
    let schema: Obj | undefined = schemas[rootName];
    let fieldName = '';
    let fieldType = '';
    for (const fld of fields) {
      const props = deref(doc, schema)?.properties ?? {};
      const next = props[fld];
      if (!next) throw new CommandError(`field "${fld}" does not exist`);
      fieldName = fld;
      fieldType = typeName(doc, next);
      schema = deref(doc, next.type === 'array' ? { ...next.items, description: next.description } : next);
    }
    const lines: string[] = [];
    lines.push(`GROUP:      ${r.group}`.trimEnd(), `KIND:       ${r.kind}`, `VERSION:    ${r.version}`, '');
    if (fieldName) lines.push(`FIELD: ${fieldName} <${fieldType}>`, '');
    lines.push('DESCRIPTION:', wrap(schema?.description ?? '<empty>', '    '), '');
    const props = deref(doc, schema)?.properties as Record<string, Obj> | undefined;
    if (props && Object.keys(props).length) {
      lines.push('FIELDS:');
      const required = new Set<string>(deref(doc, schema)?.required ?? []);
      if (ctx.flags.recursive) {
        const walk = (s: Obj | undefined, indent: string, depth: number) => {
          const ps = deref(doc, s)?.properties as Record<string, Obj> | undefined;
          for (const k of Object.keys(ps ?? {}).sort()) {
            lines.push(`${indent}${k}\t<${typeName(doc, ps![k])}>`);
            if (depth < 15) walk(ps![k]!.type === 'array' ? ps![k]!.items : ps![k], `${indent}  `, depth + 1);
          }
        };
        walk(schema, '  ', 0);
      } else {
        for (const k of Object.keys(props).sort()) {
          lines.push(`  ${k}\t<${typeName(doc, props[k])}>${required.has(k) ? ' -required-' : ''}`);
          const en = deref(doc, props[k])?.enum as unknown[] | undefined;
          if (en?.length) lines.push(`  enum: ${en.join(', ')}`);
          lines.push(wrap(props[k]!.description ?? deref(doc, props[k])?.description ?? '<no description>', '    '), '');
        }
      }
    }
    ctx.out(`${lines.join('\n').replace(/\n+$/, '')}\n\n`);
    return 0;
  },
};
