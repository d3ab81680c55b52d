/**
 * `tkubectl describe`: a readable account of objects and of what happened to them (their
 * Events). `describe TYPE PREFIX` describes every object whose name starts with PREFIX when no
 * object has exactly that name, as kubectl does.
 */
import type { Command, CommandContext } from '../cli/command.js';
import { UsageError } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { isNotFound, jsonEqual, newNotFound } from '../../machinery/index.js';
import type { APIResource } from '../discovery.js';
import {
  DescribeWriter,
  describeDeployment,
  describeEvents,
  describeGeneric,
  describeNamespace,
  describeConfigMap,
  describeSecret,
  describePersistentVolume,
  describePersistentVolumeClaim,
  describeNode,
  describePod,
  describeReplicaSet,
  describeService,
} from '../describe/describers.js';
import { parseTargets, readManifests, resourcePath } from '../resource/builder.js';
import { placeManifest, filenameFlags } from './create.js';
import { ErrorReporter, listObjects } from './common.js';

type Obj = Record<string, any>;

/** The Events recorded about an object (core/v1 events, by involvedObject). */
export async function eventsFor(ctx: CommandContext, obj: Obj, kind: string): Promise<Obj[]> {
  const mapper = await ctx.f.mapper();
  const r = mapper.resolve('events');
  const m = obj.metadata ?? {};
  const sel = [`involvedObject.name=${m.name}`, `involvedObject.kind=${kind}`, m.namespace ? `involvedObject.namespace=${m.namespace}` : '', m.uid ? `involvedObject.uid=${m.uid}` : ''].filter(Boolean).join(',');
  return listObjects(ctx, r, r.namespaced ? m.namespace || undefined : undefined, { fieldSelector: sel });
}

async function describeOne(ctx: CommandContext, r: APIResource, obj: Obj, showEvents: boolean): Promise<string> {
  const w = new DescribeWriter();
  const now = ctx.f.now();
  const mapper = await ctx.f.mapper();
  const ns = obj.metadata?.namespace;
  switch (`${r.group}/${r.kind}`) {
    case '/Pod':
      describePod(obj, w, now);
      break;
    case 'apps/Deployment': {
      const rss = (await listObjects(ctx, mapper.resolve('replicasets.apps'), ns)).filter((rs) => (rs.metadata.ownerReferences ?? []).some((o: Obj) => o.uid === obj.metadata.uid));
      const rev = (x: Obj) => Number(x.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
      rss.sort((a, b) => rev(b) - rev(a));
      const newRS = rss.find((rs) => templatesMatch(rs.spec?.template, obj.spec?.template));
      describeDeployment(obj, w, { newRS, oldRSs: rss.filter((rs) => rs !== newRS && (rs.spec?.replicas ?? 0) > 0) });
      break;
    }
    case 'apps/ReplicaSet': {
      const sel = obj.spec?.selector?.matchLabels ?? {};
      const pods = (await listObjects(ctx, mapper.resolve('pods'), ns, { labelSelector: Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',') || undefined })).filter((p) =>
        (p.metadata.ownerReferences ?? []).some((o: Obj) => o.uid === obj.metadata.uid),
      );
      describeReplicaSet(obj, w, pods);
      break;
    }
    case '/Service': {
      let ep: Obj | undefined;
      try {
        ep = await ctx.f.client().request<Obj>({ path: resourcePath(mapper.resolve('endpoints'), ns, obj.metadata.name) });
      } catch {
        ep = undefined;
      }
      describeService(obj, w, ep);
      break;
    }
    case '/Node': {
      const pods = await listObjects(ctx, mapper.resolve('pods'), undefined, { fieldSelector: `spec.nodeName=${obj.metadata.name}` });
      describeNode(obj, w, pods, now);
      break;
    }
    case '/ConfigMap':
      describeConfigMap(obj, w);
      break;
    case '/Secret':
      // As kubectl: no Events section for a Secret.
      describeSecret(obj, w);
      return w.text();
    case '/PersistentVolume':
      describePersistentVolume(obj, w, now);
      break;
    case '/PersistentVolumeClaim': {
      const claimed = (p: Obj) => (p.spec?.volumes ?? []).some((v: Obj) => v.persistentVolumeClaim?.claimName === obj.metadata.name || (v.ephemeral && `${p.metadata.name}-${v.name}` === obj.metadata.name));
      const usedBy = (await listObjects(ctx, mapper.resolve('pods'), ns)).filter(claimed).map((p) => p.metadata.name as string);
      describePersistentVolumeClaim(obj, w, usedBy, now);
      break;
    }
    case '/Namespace':
      describeNamespace(obj, w);
      return `${w.text()}\nNo resource quota.\n\nNo LimitRange resource.\n`;
    default:
      describeGeneric(obj, w);
  }
  if (showEvents) describeEvents(await eventsFor(ctx, obj, r.kind), w, now);
  return w.text();
}

function templatesMatch(a: Obj | undefined, b: Obj | undefined): boolean {
  const strip = (t: Obj | undefined) => {
    const c = structuredClone(t ?? {});
    if (c.metadata?.labels) delete c.metadata.labels['pod-template-hash'];
    return c;
  };
  return jsonEqual(strip(a), strip(b));
}

async function runDescribe(ctx: CommandContext): Promise<number> {
  const files = ctx.flags.filename as string[];
  const selector = ctx.flags.selector as string;
  const all = ctx.flags['all-namespaces'] as boolean;
  const showEvents = ctx.flags['show-events'] as boolean;
  const { namespace } = ctx.f.namespace();
  const mapper = await ctx.f.mapper();
  const client = ctx.f.client();
  const items: { r: APIResource; obj: Obj; byPrefix?: boolean }[] = [];
  const errors = new ErrorReporter(ctx);
  if (files.length) {
    for (const m of await readManifests(files, ctx.flags.recursive as boolean, ctx.io)) {
      const p = await placeManifest(ctx, m);
      try {
        items.push({ r: p.resource, obj: await client.request<Obj>({ path: resourcePath(p.resource, p.namespace, p.name) }) });
      } catch (err) {
        errors.report(err);
      }
    }
  } else {
    if (ctx.args.length === 0) throw new UsageError(`You must specify the type of resource to describe. Use "tkubectl api-resources" for a complete list of supported resources.`);
    const { targets } = parseTargets(mapper, ctx.args, 'describe');
    for (const t of targets) {
      const ns = t.resource.namespaced && !all ? namespace : undefined;
      if (t.name === undefined) {
        const list = await listObjects(ctx, t.resource, ns, { labelSelector: selector || undefined });
        for (const obj of list) items.push({ r: t.resource, obj });
        continue;
      }
      try {
        items.push({ r: t.resource, obj: await client.request<Obj>({ path: resourcePath(t.resource, ns, t.name) }) });
      } catch (err) {
        if (!isNotFound(err)) throw err;
        // No exact match: every object whose name starts with it.
        const list = (await listObjects(ctx, t.resource, ns)).filter((o) => String(o.metadata?.name).startsWith(t.name!));
        if (list.length === 0) errors.report(newNotFound({ group: t.resource.group, resource: t.resource.resource }, t.name));
        for (const obj of list) items.push({ r: t.resource, obj, byPrefix: true });
      }
    }
    if (items.length === 0 && errors.count === 0) {
      ctx.err(targets.every((t) => t.resource.namespaced) && !all ? `No resources found in ${namespace} namespace.\n` : 'No resources found\n');
    }
  }
  let first = true;
  for (const { r, obj, byPrefix } of items) {
    const text = await describeOne(ctx, r, obj, showEvents);
    // kubectl separates objects with two newlines, but ends each prefix match with one.
    if (byPrefix) ctx.out(`${text}\n`);
    else ctx.out(first ? text : `\n\n${text}`);
    first = false;
  }
  errors.finish();
  return 0;
}

export const describeCommand: Command = {
  name: 'describe',
  short: 'Show details of a specific resource or group of resources',
  long: `Show details of a specific resource or group of resources.

 Print a detailed description of the selected resources, including related resources such as events or controllers. You may select a single object by name, all objects of that type, provide a name prefix, or label selector.

 The Events at the end are what the components (scheduler, controllers, kubelet) recorded about the object, oldest first: the FROM column names the component that acted.`,
  usage: '(-f FILENAME | TYPE [NAME_PREFIX | -l label] | TYPE/NAME)',
  examples: '  # Describe a node\n  tkubectl describe nodes kubernetes-node-emt8.c.myproject.internal\n\n  # Describe all pods managed by the \'frontend\' replication controller\n  tkubectl describe pods frontend',
  group: 'Troubleshooting and Debugging Commands:',
  flags: {
    ...filenameFlags,
    selector: f('string', '', 'Selector (label query) to filter on, supports \'=\', \'==\', and \'!=\'.', { short: 'l' }),
    'all-namespaces': f('bool', false, 'If present, list the requested object(s) across all namespaces.', { short: 'A' }),
    'show-events': f('bool', true, 'If true, display events related to the described object.'),
    'chunk-size': f('int', 500, 'Return large lists in chunks rather than all at once.'),
  },
  run: runDescribe,
};

