/**
 * `tkubectl create -f` and the generators kubectl has (`create deployment|namespace|configmap|
 * secret generic|service clusterip|nodeport|job|cronjob|serviceaccount`), plus `run` and
 * `expose`. Generated objects have the shape kubectl's generators give them (down to
 * `creationTimestamp: null` and `resources: {}`), so `--dry-run=client -o yaml` reads the same.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError, UsageError, withSource } from '../cli/errors.js';
import { f, type FlagDefs } from '../cli/flags.js';
import { StatusError, applyStrategicMergePatch } from '../../machinery/index.js';
import { builtinResources, schemaNode } from '../../api/index.js';
import type { APIResource } from '../discovery.js';
import { readManifests, resourcePath, type Manifest } from '../resource/builder.js';
import { ErrorReporter, dryRunFlag, dryRunOf, mutationOutput, printFlags, printMutation } from './common.js';

type Obj = Record<string, any>;

export const validateFlag = {
  validate: f('string', 'strict', "Must be one of: strict (or true), warn, ignore (or false). \"strict\" will use the server's strict field validation, \"warn\" will warn about unknown or duplicate fields, \"ignore\" will not perform any schema validation.", { noOptDefault: 'strict' }),
} satisfies FlagDefs;

export function fieldValidation(ctx: CommandContext): string | undefined {
  const v = String(ctx.flags.validate ?? 'strict');
  if (v === 'strict' || v === 'true') return 'Strict';
  if (v === 'warn') return 'Warn';
  if (v === 'ignore' || v === 'false') return 'Ignore';
  throw new CommandError(`invalid - validate option "${v}"; must be one of: strict (or true), warn, ignore (or false)`);
}

export const filenameFlags = {
  filename: f('stringArray', [], 'Filename, directory, or URL to files to use to create the resource', { short: 'f' }),
  recursive: f('bool', false, 'Process the directory used in -f, --filename recursively. Useful when you want to manage related manifests organized within the same directory.', { short: 'R' }),
} satisfies FlagDefs;

/** Where an object from a file goes: its resource and namespace, checked against -n. */
export async function placeManifest(ctx: CommandContext, m: Manifest): Promise<{ resource: APIResource; namespace: string | undefined; name: string }> {
  const mapper = await ctx.f.mapper();
  const obj = m.object;
  const resource = mapper.forKind(obj.apiVersion!, obj.kind!);
  const name = (obj.metadata?.name as string) ?? '';
  if (!resource) {
    throw new CommandError(`resource mapping not found for name: "${name}" namespace: "${obj.metadata?.namespace ?? ''}" from "${m.source}": no matches for kind "${obj.kind}" in version "${obj.apiVersion}"\nensure CRDs are installed first`);
  }
  const { namespace, explicit } = ctx.f.namespace();
  let ns: string | undefined;
  if (resource.namespaced) {
    const own = obj.metadata?.namespace as string | undefined;
    if (own && explicit && own !== namespace) {
      throw new CommandError(`the namespace from the provided object "${own}" does not match the namespace "${namespace}". You must pass '--namespace=${own}' to perform this operation.`);
    }
    ns = own || namespace;
  }
  return { resource, namespace: ns, name };
}

async function runCreateFiles(ctx: CommandContext): Promise<number> {
  const files = ctx.flags.filename as string[];
  if (files.length === 0) throw new UsageError('must specify one of -f and -k');
  const out = mutationOutput(ctx);
  const dry = dryRunOf(ctx);
  const manifests = await readManifests(files, ctx.flags.recursive as boolean, ctx.io);
  const errors = new ErrorReporter(ctx);
  const client = ctx.f.client();
  for (const m of manifests) {
    try {
      const { resource, namespace } = await placeManifest(ctx, m);
      let created: Obj = m.object;
      if (dry !== 'client') {
        created = await client.request<Obj>({
          method: 'POST',
          path: resourcePath(resource, namespace),
          body: m.object,
          query: { fieldValidation: fieldValidation(ctx), dryRun: dry === 'server' ? 'All' : undefined, fieldManager: 'kubectl-create' },
        });
      }
      printMutation(ctx, out, created, 'created', dry);
    } catch (err) {
      errors.report(withSource(err, 'creating', m.source));
    }
  }
  errors.finish();
  return 0;
}

// ---- generators ------------------------------------------------------------------------

/** Sends a generated object (or prints it, for --dry-run=client). */
async function createGenerated(ctx: CommandContext, resourceName: string, obj: Obj, failPrefix?: string): Promise<number> {
  const out = mutationOutput(ctx);
  const dry = dryRunOf(ctx);
  const mapper = await ctx.f.mapper();
  const r = mapper.resolve(resourceName);
  const { namespace } = ctx.f.namespace();
  if (r.namespaced && dry === 'client') {
    // kubectl leaves the namespace out of generated objects unless -n was given.
    if (ctx.changed.has('namespace')) obj.metadata.namespace = namespace;
  }
  let result: Obj = obj;
  if (dry !== 'client') {
    try {
      result = await ctx.f.client().request<Obj>({
        method: 'POST',
        path: resourcePath(r, r.namespaced ? namespace : undefined),
        body: obj,
        query: { fieldManager: 'kubectl-create', fieldValidation: 'Strict', dryRun: dry === 'server' ? 'All' : undefined },
      });
    } catch (err) {
      if (failPrefix && err instanceof StatusError) throw new CommandError(`failed to create ${failPrefix}: ${err.status.message}`);
      throw err;
    }
  }
  printMutation(ctx, out, result, 'created', dry);
  return 0;
}

function requireName(ctx: CommandContext): string {
  if (ctx.args.length === 0) throw new UsageError(`NAME is required`);
  if (ctx.args.length > 1) throw new UsageError(`exactly one NAME is required, got ${ctx.args.length}`);
  return ctx.args[0]!;
}

function meta(name: string, labels?: Record<string, string>): Obj {
  return labels ? { name, creationTimestamp: null, labels } : { name, creationTimestamp: null };
}

/** `--from-literal`, `--from-file` and `--from-env-file` into a data map (configmaps and secrets). */
function dataFrom(ctx: CommandContext): Record<string, string> {
  const data: Record<string, string> = {};
  const add = (k: string, v: string) => {
    if (k in data) throw new CommandError(`cannot add key ${k}, another key by that name already exists in data: ${JSON.stringify(data)}`);
    data[k] = v;
  };
  for (const file of ctx.flags['from-file'] as string[]) {
    const eq = file.indexOf('=');
    const [key, p] = eq >= 0 ? [file.slice(0, eq), file.slice(eq + 1)] : [undefined, file];
    const abs = path.resolve(ctx.io.cwd, p);
    if (!fs.existsSync(abs)) throw new CommandError(`error reading ${p}: no such file or directory`);
    if (fs.statSync(abs).isDirectory()) {
      if (key) throw new CommandError('cannot give a key name for a directory path');
      for (const e of fs.readdirSync(abs).sort()) {
        const fp = path.join(abs, e);
        if (fs.statSync(fp).isFile()) add(e, fs.readFileSync(fp, 'utf8'));
      }
    } else add(key ?? path.basename(p), fs.readFileSync(abs, 'utf8'));
  }
  for (const lit of ctx.flags['from-literal'] as string[]) {
    const eq = lit.indexOf('=');
    if (eq <= 0) throw new CommandError(`invalid literal source ${lit}, expected key=value`);
    add(lit.slice(0, eq), lit.slice(eq + 1));
  }
  for (const file of ctx.flags['from-env-file'] as string[]) {
    const text = fs.readFileSync(path.resolve(ctx.io.cwd, file), 'utf8');
    for (const line of text.split('\n')) {
      const l = line.trim();
      if (l === '' || l.startsWith('#')) continue;
      const eq = l.indexOf('=');
      if (eq < 0) add(l, ctx.io.env[l] ?? '');
      else add(l.slice(0, eq), l.slice(eq + 1));
    }
  }
  return data;
}

const dataFlags = {
  'from-literal': f('stringArray', [], 'Specify a key and literal value to insert (i.e. mykey=somevalue)'),
  'from-file': f('stringArray', [], 'Key file can be specified using its file path, in which case file basename will be used as key, or optionally with a key and file path, in which case the given key will be used.  Specifying a directory will iterate each named file in the directory whose basename is a valid key.'),
  'from-env-file': f('stringArray', [], 'Specify the path to a file to read lines of key=val pairs to create a configmap.'),
} satisfies FlagDefs;

const genFlags = { ...printFlags, ...dryRunFlag, ...validateFlag } satisfies FlagDefs;

function imageName(image: string): string {
  // kubectl names the container after the image: registry and tag dropped, invalid characters replaced.
  let n = image.split('/').pop()!;
  n = n.split('@')[0]!.split(':')[0]!;
  return n.toLowerCase().replace(/[^a-z0-9-]/g, '-');
}

function containerPorts(port: number | undefined): Obj {
  return port !== undefined && port >= 0 ? { ports: [{ containerPort: port }] } : {};
}

function servicePorts(specs: string[]): Obj[] {
  return specs.map((s) => {
    const [p, t] = s.split(':');
    const port = Number(p);
    if (!Number.isInteger(port)) throw new CommandError(`invalid port ${p}`);
    const target = t === undefined ? port : /^\d+$/.test(t) ? Number(t) : t;
    return { name: t === undefined ? p : `${p}-${t}`, port, protocol: 'TCP', targetPort: target };
  });
}

const createDeployment: Command = {
  name: 'deployment',
  aliases: ['deploy'],
  short: 'Create a deployment with the specified name',
  usage: 'NAME --image=image -- [COMMAND] [args...] [options]',
  examples: '  # Create a deployment named my-dep that runs the busybox image\n  tkubectl create deployment my-dep --image=busybox',
  flags: { ...genFlags, image: f('stringArray', [], 'Image names to run. A deployment can have multiple images set for multi-container pod.'), port: f('int', -1, 'The containerPort that this deployment exposes.'), replicas: f('int', 1, 'Number of replicas to create. Default is 1.') },
  async run(ctx) {
    const name = requireName(ctx);
    const images = ctx.flags.image as string[];
    if (images.length === 0) throw new UsageError('required flag(s) "image" not set');
    if (images.length > 1 && ctx.dashArgs.length > 0) throw new CommandError('cannot specify multiple --image options and command');
    const labels = { app: name };
    const containers = images.map((img, i) => ({
      ...(ctx.dashArgs.length ? { command: ctx.dashArgs } : {}),
      image: img,
      name: imageName(img),
      ...(i === 0 ? containerPorts(ctx.flags.port as number) : {}),
      resources: {},
    }));
    const obj = {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: meta(name, labels),
      spec: { replicas: ctx.flags.replicas, selector: { matchLabels: labels }, strategy: {}, template: { metadata: { creationTimestamp: null, labels }, spec: { containers } } },
      status: {},
    };
    return createGenerated(ctx, 'deployments.apps', obj, 'deployment');
  },
};

const createNamespace: Command = {
  name: 'namespace',
  aliases: ['ns'],
  short: 'Create a namespace with the specified name',
  usage: 'NAME [--dry-run=server|client|none] [options]',
  flags: genFlags,
  async run(ctx) {
    const name = requireName(ctx);
    return createGenerated(ctx, 'namespaces', { apiVersion: 'v1', kind: 'Namespace', metadata: meta(name), spec: {}, status: {} });
  },
};

const createConfigMap: Command = {
  name: 'configmap',
  aliases: ['cm'],
  short: 'Create a config map from a local file, directory or literal value',
  usage: 'NAME [--from-file=[key=]source] [--from-literal=key1=value1] [--dry-run=server|client|none] [options]',
  flags: { ...genFlags, ...dataFlags, 'append-hash': f('bool', false, 'Append a hash of the configmap to its name.') },
  async run(ctx) {
    const name = requireName(ctx);
    const data = dataFrom(ctx);
    const obj: Obj = { apiVersion: 'v1', kind: 'ConfigMap', metadata: meta(name) };
    if (Object.keys(data).length) obj.data = data;
    return createGenerated(ctx, 'configmaps', obj, 'configmap');
  },
};

const createSecretGeneric: Command = {
  name: 'generic',
  short: 'Create a secret from a local file, directory, or literal value',
  usage: 'NAME [--type=string] [--from-file=[key=]source] [--from-literal=key1=value1] [--dry-run=server|client|none] [options]',
  flags: { ...genFlags, ...dataFlags, type: f('string', '', 'The type of secret to create') },
  async run(ctx) {
    const name = requireName(ctx);
    const data = dataFrom(ctx);
    const obj: Obj = { apiVersion: 'v1', kind: 'Secret', metadata: meta(name) };
    if (Object.keys(data).length) obj.data = Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
    if (ctx.flags.type) obj.type = ctx.flags.type;
    return createGenerated(ctx, 'secrets', obj, 'secret');
  },
};

const createSecret: Command = {
  name: 'secret',
  short: 'Create a secret using a specified subcommand',
  subcommands: [createSecretGeneric],
};

function serviceCommand(name: string, type: 'ClusterIP' | 'NodePort'): Command {
  const flags: FlagDefs = { ...genFlags, tcp: f('stringSlice', [], 'Port pairs can be specified as \'<port>:<targetPort>\'.') };
  if (type === 'ClusterIP') flags.clusterip = f('string', '', 'Assign your own ClusterIP or set to \'None\' for a \'headless\' service (no loadbalancing).');
  if (type === 'NodePort') flags['node-port'] = f('int', 0, 'Port used to expose the service on each node in a cluster.');
  return {
    name,
    short: `Create a ${type} service`,
    usage: `NAME [--tcp=<port>:<targetPort>] [--dry-run=server|client|none] [options]`,
    flags,
    async run(ctx) {
      const svcName = requireName(ctx);
      const tcp = ctx.flags.tcp as string[];
      const headless = ctx.flags.clusterip === 'None';
      if (tcp.length === 0 && !headless) throw new UsageError('at least one tcp port specifier must be provided');
      const ports = servicePorts(tcp);
      if (type === 'NodePort' && (ctx.flags['node-port'] as number) > 0) for (const p of ports) p.nodePort = ctx.flags['node-port'];
      const spec: Obj = {};
      if (headless) spec.clusterIP = 'None';
      else if (ctx.flags.clusterip) spec.clusterIP = ctx.flags.clusterip;
      if (ports.length) spec.ports = ports.map((p) => sortKeysLike(p));
      spec.selector = { app: svcName };
      spec.type = type;
      const obj = { apiVersion: 'v1', kind: 'Service', metadata: meta(svcName, { app: svcName }), spec, status: { loadBalancer: {} } };
      return createGenerated(ctx, 'services', obj, `${type} service`);
    },
  };
}

function sortKeysLike(o: Obj): Obj {
  return Object.fromEntries(Object.keys(o).sort().map((k) => [k, o[k]]));
}

const createService: Command = {
  name: 'service',
  aliases: ['svc'],
  short: 'Create a service using a specified subcommand',
  subcommands: [serviceCommand('clusterip', 'ClusterIP'), serviceCommand('nodeport', 'NodePort')],
};

const createJob: Command = {
  name: 'job',
  short: 'Create a job with the specified name',
  usage: 'NAME --image=image [--from=cronjob/name] -- [COMMAND] [args...] [options]',
  flags: { ...genFlags, image: f('string', '', 'Image name to run.'), from: f('string', '', 'The name of the resource to create a Job from (only cronjob is supported).') },
  async run(ctx) {
    const name = requireName(ctx);
    if (ctx.flags.from) {
      const [kind, cj] = (ctx.flags.from as string).split('/');
      if (!/^cronjobs?(\.batch)?$|^cj$/.test(kind ?? '') || !cj) throw new CommandError(`from must be an existing cronjob: ${ctx.flags.from}`);
      const { namespace } = ctx.f.namespace();
      const mapper = await ctx.f.mapper();
      const src = await ctx.f.client().request<Obj>({ path: resourcePath(mapper.resolve('cronjobs.batch'), namespace, cj) });
      const tpl = src.spec.jobTemplate;
      const obj = {
        apiVersion: 'batch/v1',
        kind: 'Job',
        metadata: { ...meta(name, tpl.metadata?.labels), annotations: { 'cronjob.kubernetes.io/instantiate': 'manual', ...(tpl.metadata?.annotations ?? {}) }, ownerReferences: [{ apiVersion: 'batch/v1', kind: 'CronJob', name: src.metadata.name, uid: src.metadata.uid, controller: true }] },
        spec: tpl.spec,
        status: {},
      };
      return createGenerated(ctx, 'jobs.batch', obj, 'job');
    }
    if (!ctx.flags.image) throw new UsageError('--image must be specified');
    const container: Obj = { ...(ctx.dashArgs.length ? { command: ctx.dashArgs } : {}), image: ctx.flags.image, name, resources: {} };
    const obj = { apiVersion: 'batch/v1', kind: 'Job', metadata: meta(name), spec: { template: { metadata: { creationTimestamp: null }, spec: { containers: [container], restartPolicy: 'Never' } } }, status: {} };
    return createGenerated(ctx, 'jobs.batch', obj, 'job');
  },
};

const createCronJob: Command = {
  name: 'cronjob',
  aliases: ['cj'],
  short: 'Create a cron job with the specified name',
  usage: 'NAME --image=image --schedule=\'0/5 * * * ?\' -- [COMMAND] [args...] [options]',
  flags: { ...genFlags, image: f('string', '', 'Image name to run.'), schedule: f('string', '', 'A schedule in the Cron format the job should be run with.'), restart: f('string', '', "job's restart policy. supported values: OnFailure, Never") },
  async run(ctx) {
    const name = requireName(ctx);
    if (!ctx.flags.image) throw new UsageError('--image must be specified');
    if (!ctx.flags.schedule) throw new UsageError('--schedule must be specified');
    const container: Obj = { ...(ctx.dashArgs.length ? { command: ctx.dashArgs } : {}), image: ctx.flags.image, name, resources: {} };
    const obj = {
      apiVersion: 'batch/v1',
      kind: 'CronJob',
      metadata: meta(name),
      spec: {
        jobTemplate: { metadata: { creationTimestamp: null, name }, spec: { template: { metadata: { creationTimestamp: null }, spec: { containers: [container], restartPolicy: (ctx.flags.restart as string) || 'OnFailure' } } } },
        schedule: ctx.flags.schedule,
      },
      status: {},
    };
    return createGenerated(ctx, 'cronjobs.batch', obj, 'cronjob');
  },
};

const createServiceAccount: Command = {
  name: 'serviceaccount',
  aliases: ['sa'],
  short: 'Create a service account with the specified name',
  usage: 'NAME [--dry-run=server|client|none] [options]',
  flags: genFlags,
  async run(ctx) {
    const name = requireName(ctx);
    return createGenerated(ctx, 'serviceaccounts', { apiVersion: 'v1', kind: 'ServiceAccount', metadata: meta(name) });
  },
};

export const createCommand: Command = {
  name: 'create',
  short: 'Create a resource from a file or from stdin',
  long: `Create a resource from a file or from stdin.

 JSON and YAML formats are accepted.`,
  usage: '-f FILENAME [flags]',
  examples: `  # Create a pod using the data in pod.json
  tkubectl create -f ./pod.json

  # Create a pod based on the JSON passed into stdin
  cat pod.json | tkubectl create -f -`,
  flags: { ...printFlags, ...dryRunFlag, ...validateFlag, ...filenameFlags, 'save-config': f('bool', false, 'If true, the configuration of current object will be saved in its annotation.') },
  group: 'Basic Commands (Beginner):',
  subcommands: [createConfigMap, createCronJob, createDeployment, createJob, createNamespace, createSecret, createService, createServiceAccount],
  run: runCreateFiles,
};

// ---- run and expose --------------------------------------------------------------------

function parseKeyValues(list: string[], what: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of list) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new CommandError(`invalid ${what}: ${item}`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

export const runCommand: Command = {
  name: 'run',
  short: 'Run a particular image on the cluster',
  long: 'Create and run a particular image in a pod.',
  usage: 'NAME --image=image [--env="key=value"] [--port=port] [--dry-run=server|client] [--overrides=inline-json] [--command] -- [COMMAND] [args...]',
  examples: '  # Start a busybox pod that sleeps\n  tkubectl run web --image=busybox -- sleep 3600',
  group: 'Basic Commands (Beginner):',
  flags: {
    ...genFlags,
    image: f('string', '', 'The image for the container to run.'),
    env: f('stringArray', [], 'Environment variables to set in the container.'),
    port: f('string', '', "The port that this container exposes."),
    labels: f('string', '', 'Comma separated labels to apply to the pod. Will override previous values.', { short: 'l' }),
    restart: f('string', 'Always', "The restart policy for this Pod.  Legal values [Always, OnFailure, Never]."),
    command: f('bool', false, 'If true and extra arguments are present, use them as the \'command\' field in the container, rather than the \'args\' field which is the default.'),
    'image-pull-policy': f('string', '', "The image pull policy for the container."),
    annotations: f('stringArray', [], 'Annotations to apply to the pod.'),
    overrides: f('string', '', 'An inline JSON override for the generated object.'),
    stdin: f('bool', false, 'Keep stdin open on the container in the pod.', { short: 'i' }),
    tty: f('bool', false, 'Allocate a TTY for the container in the pod.', { short: 't' }),
    rm: f('bool', false, 'If true, delete the pod after it exits.'),
    attach: f('bool', false, 'If true, wait for the Pod to start running, and then attach to the Pod.'),
    expose: f('bool', false, 'If true, create a ClusterIP service associated with the pod.'),
  },
  async run(ctx) {
    if (ctx.args.length === 0) throw new UsageError('NAME is required for run');
    const name = ctx.args[0]!;
    const args = [...ctx.args.slice(1), ...ctx.dashArgs];
    if (!ctx.flags.image) throw new UsageError('--image is required');
    if (ctx.flags.stdin || ctx.flags.tty || ctx.flags.attach || ctx.flags.rm) throw new CommandError('attaching to a pod (-i, -t, --attach, --rm) is not supported by tkubectl yet: it needs the kubelet\'s attach stream');
    const labels = ctx.flags.labels ? parseKeyValues((ctx.flags.labels as string).split(','), 'label') : { run: name };
    const container: Obj = {};
    if (args.length) container[ctx.flags.command ? 'command' : 'args'] = args;
    const env = ctx.flags.env as string[];
    if (env.length) container.env = env.map((e) => ({ name: e.split('=')[0], value: e.slice(e.indexOf('=') + 1) }));
    container.image = ctx.flags.image;
    if (ctx.flags['image-pull-policy']) container.imagePullPolicy = ctx.flags['image-pull-policy'];
    container.name = name;
    if (ctx.flags.port) container.ports = [{ containerPort: Number(ctx.flags.port) }];
    container.resources = {};
    const metadata: Obj = { creationTimestamp: null, labels, name };
    const ann = ctx.flags.annotations as string[];
    if (ann.length) metadata.annotations = parseKeyValues(ann, 'annotation');
    let obj: Obj = { apiVersion: 'v1', kind: 'Pod', metadata, spec: { containers: [container], dnsPolicy: 'ClusterFirst', restartPolicy: ctx.flags.restart }, status: {} };
    if (ctx.flags.overrides) {
      const rt = builtinResources.find((r) => r.kind === 'Pod' && r.group === '');
      obj = applyStrategicMergePatch(obj, JSON.parse(ctx.flags.overrides as string), schemaNode(rt?.schema)) as Obj;
    }
    const code = await createGenerated(ctx, 'pods', obj);
    if (ctx.flags.expose && ctx.flags.port) {
      const svc = { apiVersion: 'v1', kind: 'Service', metadata: meta(name), spec: { ports: [{ port: Number(ctx.flags.port), protocol: 'TCP', targetPort: Number(ctx.flags.port) }], selector: labels }, status: { loadBalancer: {} } };
      return createGenerated(ctx, 'services', svc);
    }
    return code;
  },
};

export const exposeCommand: Command = {
  name: 'expose',
  short: 'Take a replication controller, service, deployment or pod and expose it as a new Kubernetes service',
  usage: '(-f FILENAME | TYPE NAME) [--port=port] [--protocol=TCP|UDP|SCTP] [--target-port=number-or-name] [--name=name] [--external-ip=external-ip-of-service] [--type=type]',
  group: 'Basic Commands (Beginner):',
  flags: {
    ...genFlags,
    port: f('string', '', 'The port that the service should serve on. Copied from the resource being exposed, if unspecified'),
    'target-port': f('string', '', 'Name or number for the port on the container that the service should direct traffic to. Optional.'),
    protocol: f('string', '', 'The network protocol for the service to be created. Default is \'TCP\'.'),
    name: f('string', '', 'The name for the newly created object.'),
    type: f('string', '', "Type for this service: ClusterIP, NodePort, LoadBalancer, or ExternalName. Default is 'ClusterIP'."),
    selector: f('string', '', 'A label selector to use for this service. Only equality-based selector requirements are supported.'),
    labels: f('string', '', 'Labels to apply to the service created by this call.', { short: 'l' }),
    'cluster-ip': f('string', '', "ClusterIP to be assigned to the service. Leave empty to auto-allocate, or set to 'None' to create a headless service."),
    'external-ip': f('string', '', 'Additional external IP address (not managed by Kubernetes) to accept for the service.'),
  },
  async run(ctx) {
    if (ctx.args.length === 0) throw new UsageError('You must provide one or more resources by argument or filename.');
    const mapper = await ctx.f.mapper();
    const [type, name] = ctx.args.length === 1 && ctx.args[0]!.includes('/') ? ctx.args[0]!.split('/') : [ctx.args[0]!, ctx.args[1]];
    if (!name) throw new UsageError('You must provide one or more resources by argument or filename.');
    const r = mapper.resolve(type!);
    const { namespace } = ctx.f.namespace();
    const src = await ctx.f.client().request<Obj>({ path: resourcePath(r, namespace, name) });
    let selector: Record<string, string> | undefined;
    if (ctx.flags.selector) selector = parseKeyValues((ctx.flags.selector as string).split(','), 'selector');
    else if (r.kind === 'Pod' || r.kind === 'Service') selector = r.kind === 'Pod' ? src.metadata.labels : src.spec.selector;
    else if (src.spec?.selector?.matchExpressions?.length) throw new CommandError(`couldn't retrieve selectors via --selector flag or introspection: the ${r.kind} has match expressions, which a service selector cannot express`);
    else selector = src.spec?.selector?.matchLabels ?? src.spec?.selector;
    if (!selector || Object.keys(selector).length === 0) throw new CommandError(`couldn't retrieve selectors via --selector flag or introspection: the ${r.kind.toLowerCase()} has no selector`);
    const containerPorts: Obj[] =
      r.kind === 'Service' ? src.spec.ports ?? [] : ((r.kind === 'Pod' ? src.spec.containers : src.spec?.template?.spec?.containers) ?? []).flatMap((c: Obj) => c.ports ?? []);
    let ports: Obj[];
    const proto = (ctx.flags.protocol as string) || undefined;
    if (ctx.flags.port) {
      const port = Number(ctx.flags.port);
      const tp = ctx.flags['target-port'] as string;
      ports = [{ port, protocol: proto ?? 'TCP', targetPort: tp ? (/^\d+$/.test(tp) ? Number(tp) : tp) : port }];
    } else {
      if (containerPorts.length === 0) throw new CommandError(`couldn't find port via --port flag or introspection`);
      ports = containerPorts.map((p, i) => {
        const port = r.kind === 'Service' ? p.port : p.containerPort;
        const tp = ctx.flags['target-port'] as string;
        const out: Obj = {};
        if (containerPorts.length > 1) out.name = p.name ?? `port-${i + 1}`;
        out.port = port;
        out.protocol = proto ?? p.protocol ?? 'TCP';
        out.targetPort = tp ? (/^\d+$/.test(tp) ? Number(tp) : tp) : r.kind === 'Service' ? p.targetPort : port;
        return out;
      });
    }
    const labels = ctx.flags.labels ? parseKeyValues((ctx.flags.labels as string).split(','), 'label') : src.metadata.labels;
    const spec: Obj = { ports, selector };
    if (ctx.flags.type) spec.type = ctx.flags.type;
    if (ctx.flags['cluster-ip']) spec.clusterIP = ctx.flags['cluster-ip'];
    if (ctx.flags['external-ip']) spec.externalIPs = [ctx.flags['external-ip']];
    const svc = { apiVersion: 'v1', kind: 'Service', metadata: meta((ctx.flags.name as string) || name, labels), spec, status: { loadBalancer: {} } };
    const out = mutationOutput(ctx);
    const dry = dryRunOf(ctx);
    let result: Obj = svc;
    if (dry !== 'client') {
      const svcR = mapper.resolve('services');
      result = await ctx.f.client().request<Obj>({ method: 'POST', path: resourcePath(svcR, namespace), body: svc, query: { fieldManager: 'kubectl-expose', dryRun: dry === 'server' ? 'All' : undefined } });
    }
    printMutation(ctx, out, result, 'exposed', dry);
    return 0;
  },
};
