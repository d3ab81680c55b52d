/**
 * `tkubectl config`: reads and edits kubeconfig files as kubectl does. The files are those of
 * `--kubeconfig`, else $KUBECONFIG (merged, the first definition of a name wins), else
 * ~/.kube/config. Changes are written to the file that defines the entry (a new entry, or
 * current-context, go to the first file).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseYAML } from 'yaml';
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { formatObjects } from '../printers/index.js';
import { alignRows } from '../printers/tabwriter.js';
import { toYAML } from '../printers/yaml.js';

type Obj = Record<string, any>;

interface LoadedFile {
  path: string;
  doc: Obj;
}

function kubeconfigFiles(ctx: CommandContext): string[] {
  const explicit = ctx.flags.kubeconfig as string;
  if (explicit) return [path.resolve(ctx.io.cwd, explicit)];
  const env = ctx.io.env.KUBECONFIG;
  if (env) return env.split(':').filter(Boolean);
  return [path.join(ctx.io.env.HOME ?? os.homedir(), '.kube', 'config')];
}

function load(ctx: CommandContext): LoadedFile[] {
  return kubeconfigFiles(ctx).map((p) => {
    let doc: Obj = {};
    if (fs.existsSync(p)) doc = (parseYAML(fs.readFileSync(p, 'utf8')) as Obj | null) ?? {};
    else if (ctx.flags.kubeconfig) throw new CommandError(`stat ${ctx.flags.kubeconfig}: no such file or directory`);
    return { path: p, doc };
  });
}

function save(file: LoadedFile): void {
  fs.mkdirSync(path.dirname(file.path), { recursive: true });
  const d = file.doc;
  const out: Obj = { apiVersion: d.apiVersion ?? 'v1', clusters: d.clusters ?? null, contexts: d.contexts ?? null, 'current-context': d['current-context'] ?? '', kind: d.kind ?? 'Config', preferences: d.preferences ?? {}, users: d.users ?? null };
  for (const [k, v] of Object.entries(d)) if (!(k in out)) out[k] = v;
  fs.writeFileSync(file.path, toYAML(out), { mode: 0o600 });
}

/** The merged view: the first file to define a name (or current-context) wins. */
function merged(files: LoadedFile[]): Obj {
  const out: Obj = { apiVersion: 'v1', clusters: [], contexts: [], 'current-context': '', kind: 'Config', preferences: {}, users: [] };
  for (const key of ['clusters', 'contexts', 'users']) {
    const seen = new Set<string>();
    for (const file of files) for (const e of (file.doc[key] as Obj[] | undefined) ?? []) {
      if (seen.has(e.name)) continue;
      seen.add(e.name);
      out[key].push(e);
    }
    out[key].sort((a: Obj, b: Obj) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }
  out['current-context'] = files.find((x) => x.doc['current-context'])?.doc['current-context'] ?? '';
  return out;
}

function redact(cfg: Obj): Obj {
  const c = structuredClone(cfg);
  for (const cl of c.clusters ?? []) if (cl.cluster?.['certificate-authority-data']) cl.cluster['certificate-authority-data'] = 'DATA+OMITTED';
  for (const u of c.users ?? []) {
    const user = u.user ?? {};
    for (const k of ['client-certificate-data', 'client-key-data']) if (user[k]) user[k] = 'DATA+OMITTED';
    for (const k of ['token', 'password']) if (user[k]) user[k] = 'REDACTED';
  }
  return c;
}

function fileDefining(files: LoadedFile[], key: string, name: string): LoadedFile | undefined {
  return files.find((x) => ((x.doc[key] as Obj[] | undefined) ?? []).some((e) => e.name === name));
}

const view: Command = {
  name: 'view',
  short: 'Display merged kubeconfig settings or a specified kubeconfig file',
  flags: {
    minify: f('bool', false, 'Remove all information not used by current-context from the output'),
    raw: f('bool', false, 'Display raw byte data and sensitive data'),
    flatten: f('bool', false, 'Flatten the resulting kubeconfig file into self-contained output (useful for creating portable kubeconfig files)'),
    output: f('string', 'yaml', 'Output format. One of: (json, yaml).', { short: 'o' }),
  },
  async run(ctx) {
    let cfg = merged(load(ctx));
    if (ctx.flags.minify) {
      const cur = (ctx.flags.context as string) || cfg['current-context'];
      if (!cur) throw new CommandError('current-context must exist in order to minify');
      const context = cfg.contexts.find((c: Obj) => c.name === cur);
      if (!context) throw new CommandError(`cannot locate context ${cur}`);
      cfg = { ...cfg, 'current-context': cur, contexts: [context], clusters: cfg.clusters.filter((c: Obj) => c.name === context.context?.cluster), users: cfg.users.filter((u: Obj) => u.name === context.context?.user) };
    }
    if (!ctx.flags.raw) cfg = redact(cfg);
    const o = ctx.flags.output as string;
    if (o !== 'yaml' && o !== 'json') throw new CommandError(`--output must be one of: json, yaml`);
    ctx.out(formatObjects({ kind: o }, [cfg], true));
    return 0;
  },
};

const currentContext: Command = {
  name: 'current-context',
  short: 'Display the current-context',
  async run(ctx) {
    const cur = merged(load(ctx))['current-context'];
    if (!cur) throw new CommandError('current-context is not set');
    ctx.out(`${cur}\n`);
    return 0;
  },
};

const getContexts: Command = {
  name: 'get-contexts',
  short: 'Describe one or many contexts',
  flags: { 'no-headers': f('bool', false, "When using the default or custom-column output format, don't print headers (default print headers)."), output: f('string', '', 'Output format. One of: (name).', { short: 'o' }) },
  async run(ctx) {
    const cfg = merged(load(ctx));
    let contexts: Obj[] = cfg.contexts;
    if (ctx.args.length) {
      for (const n of ctx.args) if (!contexts.some((c) => c.name === n)) throw new CommandError(`context ${n} not found`);
      contexts = contexts.filter((c) => ctx.args.includes(c.name));
    }
    if (ctx.flags.output === 'name') {
      for (const c of contexts) ctx.out(`${c.name}\n`);
      return 0;
    }
    const rows = contexts.map((c) => [c.name === cfg['current-context'] ? '*' : '', c.name, c.context?.cluster ?? '', c.context?.user ?? '', c.context?.namespace ?? '']);
    ctx.out(alignRows(ctx.flags['no-headers'] ? rows : [['CURRENT', 'NAME', 'CLUSTER', 'AUTHINFO', 'NAMESPACE'], ...rows]));
    return 0;
  },
};

const getClusters: Command = {
  name: 'get-clusters',
  short: 'Display clusters defined in the kubeconfig',
  async run(ctx) {
    ctx.out('NAME\n');
    for (const c of merged(load(ctx)).clusters) ctx.out(`${c.name}\n`);
    return 0;
  },
};

const useContext: Command = {
  name: 'use-context',
  aliases: ['use'],
  short: 'Set the current-context in a kubeconfig file',
  usage: 'CONTEXT_NAME',
  async run(ctx) {
    const name = ctx.args[0];
    if (!name) throw new CommandError('empty context names are not allowed');
    const files = load(ctx);
    if (!fileDefining(files, 'contexts', name)) throw new CommandError(`no context exists with the name: "${name}"`);
    const target = files.find((x) => x.doc['current-context']) ?? files[0]!;
    target.doc['current-context'] = name;
    save(target);
    ctx.out(`Switched to context "${name}".\n`);
    return 0;
  },
};

const setContext: Command = {
  name: 'set-context',
  short: 'Set a context entry in kubeconfig',
  usage: '[NAME | --current] [--cluster=cluster_nickname] [--user=user_nickname] [--namespace=namespace]',
  flags: { current: f('bool', false, 'Modify the current context') },
  async run(ctx) {
    const files = load(ctx);
    let name = ctx.args[0];
    if (ctx.flags.current) {
      if (name) throw new CommandError('you cannot specify a context name and --current');
      name = merged(files)['current-context'];
      if (!name) throw new CommandError('no current context is set');
    }
    if (!name) throw new CommandError('you must specify a non-empty context name or --current');
    const target = fileDefining(files, 'contexts', name) ?? files[0]!;
    target.doc.contexts ??= [];
    let entry = (target.doc.contexts as Obj[]).find((c) => c.name === name);
    const existed = !!entry;
    if (!entry) {
      entry = { context: {}, name };
      target.doc.contexts.push(entry);
    }
    entry.context ??= {};
    for (const k of ['cluster', 'user', 'namespace']) if (ctx.changed.has(k)) entry.context[k] = ctx.flags[k];
    save(target);
    ctx.out(`Context "${name}" ${existed ? 'modified' : 'created'}.\n`);
    return 0;
  },
};

const deleteContext: Command = {
  name: 'delete-context',
  short: 'Delete the specified context from the kubeconfig',
  async run(ctx) {
    const name = ctx.args[0];
    const files = load(ctx);
    const target = name ? fileDefining(files, 'contexts', name) : undefined;
    if (!name || !target) throw new CommandError(`cannot delete context ${name ?? ''}, not in ${files.map((x) => x.path).join(':')}`);
    target.doc.contexts = (target.doc.contexts as Obj[]).filter((c) => c.name !== name);
    if (merged(files)['current-context'] === name) ctx.err(`warning: this removed your active context, use "kubectl config use-context" to select a different one\n`);
    save(target);
    ctx.out(`deleted context ${name} from ${target.path}\n`);
    return 0;
  },
};

export const configCommand: Command = {
  name: 'config',
  short: 'Modify kubeconfig files',
  long: `Modify kubeconfig files using subcommands like "tkubectl config set current-context my-context".

 The loading order follows these rules:

  1.  If the --kubeconfig flag is set, then only that file is loaded. The flag may only be set once and no merging takes place.
  2.  If $KUBECONFIG environment variable is set, then it is used as a list of paths (normal path delimiting rules for your system). These paths are merged. When a value is modified, it is modified in the file that defines the stanza. When a value is created, it is created in the first file that exists. If no files in the chain exist, then it creates the last file in the list.
  3.  Otherwise, \${HOME}/.kube/config is used and no merging takes place.`,
  group: 'Settings Commands:',
  subcommands: [currentContext, deleteContext, getClusters, getContexts, setContext, useContext, view],
};
