/**
 * Workload commands: `rollout status|history|undo|restart|pause|resume`, `set image`, `wait`,
 * and `logs` (the pods/log stream).
 */
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError, UsageError } from '../cli/errors.js';
import { f, parseGoDuration } from '../cli/flags.js';
import { sleep } from '../../base/clock.js';
import { isNotFound } from '../../machinery/index.js';
import type { APIResource } from '../discovery.js';
import { findValues, relaxedJSONPath } from '../printers/index.js';
import { alignRows } from '../printers/tabwriter.js';
import { parseTargets, resourcePath } from '../resource/builder.js';
import { dryRunFlag, dryRunOf, listObjects, mutationOutput, printFlags, printMutation, targetName } from './common.js';
import { resolveObjects, type Target } from './label.js';
import { describePodTemplate } from '../describe/describers.js';

type Obj = Record<string, any>;

async function getObj(ctx: CommandContext, t: Target): Promise<Obj> {
  return ctx.f.client().request<Obj>({ path: resourcePath(t.resource, t.namespace, t.name) });
}

async function patchObj(ctx: CommandContext, t: Target, patch: Obj, type: 'strategic' | 'merge' = 'strategic', manager = 'kubectl-rollout'): Promise<Obj> {
  const dry = dryRunOf(ctx);
  if (dry === 'client') return getObj(ctx, t);
  return ctx.f.client().request<Obj>({
    method: 'PATCH',
    path: resourcePath(t.resource, t.namespace, t.name),
    body: patch,
    contentType: type === 'strategic' ? 'application/strategic-merge-patch+json' : 'application/merge-patch+json',
    query: { fieldManager: manager, dryRun: dry === 'server' ? 'All' : undefined },
  });
}

// ---- rollout ----------------------------------------------------------------------------

/** kubectl's status viewers: the message for the current state, and whether the rollout is done. */
export function rolloutStatus(kind: string, obj: Obj): { message: string; done: boolean } {
  const name = obj.metadata?.name;
  const st = obj.status ?? {};
  const gen = obj.metadata?.generation ?? 0;
  if (kind === 'Deployment') {
    if (gen > (st.observedGeneration ?? 0)) return { message: 'Waiting for deployment spec update to be observed...', done: false };
    const progressing = (st.conditions ?? []).find((c: Obj) => c.type === 'Progressing');
    if (progressing?.reason === 'ProgressDeadlineExceeded') throw new CommandError(`deployment "${name}" exceeded its progress deadline`);
    const replicas = obj.spec?.replicas ?? 1;
    const updated = st.updatedReplicas ?? 0;
    if (updated < replicas) return { message: `Waiting for deployment "${name}" rollout to finish: ${updated} out of ${replicas} new replicas have been updated...`, done: false };
    if ((st.replicas ?? 0) > updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${(st.replicas ?? 0) - updated} old replicas are pending termination...`, done: false };
    if ((st.availableReplicas ?? 0) < updated) return { message: `Waiting for deployment "${name}" rollout to finish: ${st.availableReplicas ?? 0} of ${updated} updated replicas are available...`, done: false };
    return { message: `deployment "${name}" successfully rolled out`, done: true };
  }
  if (kind === 'DaemonSet') {
    if (gen > (st.observedGeneration ?? 0)) return { message: 'Waiting for daemon set spec update to be observed...', done: false };
    const desired = st.desiredNumberScheduled ?? 0;
    if ((st.updatedNumberScheduled ?? 0) < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${st.updatedNumberScheduled ?? 0} out of ${desired} new pods have been updated...`, done: false };
    if ((st.numberAvailable ?? 0) < desired) return { message: `Waiting for daemon set "${name}" rollout to finish: ${st.numberAvailable ?? 0} of ${desired} updated pods are available...`, done: false };
    return { message: `daemon set "${name}" successfully rolled out`, done: true };
  }
  if (kind === 'StatefulSet') {
    if (gen > (st.observedGeneration ?? 0)) return { message: 'Waiting for statefulset spec update to be observed...', done: false };
    const replicas = obj.spec?.replicas ?? 1;
    if ((st.readyReplicas ?? 0) < replicas) return { message: `Waiting for ${replicas - (st.readyReplicas ?? 0)} pods to be ready...`, done: false };
    if (st.updateRevision !== st.currentRevision) return { message: `waiting for statefulset rolling update to complete ${st.updatedReplicas ?? 0} pods at revision ${st.updateRevision}...`, done: false };
    return { message: `statefulset rolling update complete ${st.currentReplicas ?? replicas} pods at revision ${st.currentRevision}...`, done: true };
  }
  throw new CommandError(`no status viewer has been implemented for ${kind}`);
}

async function rolloutTargets(ctx: CommandContext): Promise<Target[]> {
  if (ctx.args.length === 0 && !(ctx.flags.filename as string[] | undefined)?.length) throw new UsageError('required resource not specified');
  return resolveObjects(ctx, ctx.args, { allowSelector: true });
}

const rolloutStatusCmd: Command = {
  name: 'status',
  short: 'Show the status of the rollout',
  long: 'Show the status of the rollout.\n\n By default \'rollout status\' will watch the status of the latest rollout until it\'s done.',
  usage: '(TYPE NAME | TYPE/NAME) [flags]',
  flags: { watch: f('bool', true, 'Watch the status of the rollout until it\'s done.', { short: 'w' }), timeout: f('string', '0s', 'The length of time to wait before ending watch, zero means never.'), revision: f('int', 0, 'Pin to a specific revision for showing its status.'), selector: f('string', '', 'Selector (label query) to filter on', { short: 'l' }), filename: f('stringArray', [], 'Filename identifying the resource.', { short: 'f' }) },
  async run(ctx) {
    const timeout = parseGoDuration(ctx.flags.timeout as string);
    const deadline = timeout > 0 ? Date.now() + timeout : Infinity;
    for (const t of await rolloutTargets(ctx)) {
      let last = '';
      for (;;) {
        const obj = await getObj(ctx, t);
        const s = rolloutStatus(t.resource.kind, obj);
        if (s.message !== last) ctx.out(`${s.message}\n`);
        last = s.message;
        if (s.done || !ctx.flags.watch) break;
        if (Date.now() > deadline) throw new CommandError('timed out waiting for the condition');
        if (ctx.io.signal?.aborted) return 1;
        await sleep(500, ctx.io.signal);
      }
    }
    return 0;
  },
};

/** The ReplicaSets a Deployment owns, with their revision numbers, oldest first. */
export async function ownedReplicaSets(ctx: CommandContext, deploy: Obj): Promise<Obj[]> {
  const mapper = await ctx.f.mapper();
  const rsR = mapper.resolve('replicasets.apps');
  const all = await listObjects(ctx, rsR, deploy.metadata.namespace);
  return all
    .filter((rs) => (rs.metadata.ownerReferences ?? []).some((o: Obj) => o.uid === deploy.metadata.uid))
    .sort((a, b) => revisionOf(a) - revisionOf(b));
}

function revisionOf(o: Obj): number {
  return Number(o.metadata?.annotations?.['deployment.kubernetes.io/revision'] ?? 0);
}

const rolloutHistory: Command = {
  name: 'history',
  short: 'View rollout history',
  usage: '(TYPE NAME | TYPE/NAME) [flags]',
  flags: { revision: f('int', 0, 'See the details, including podTemplate of the revision specified'), ...printFlags },
  async run(ctx) {
    for (const t of await rolloutTargets(ctx)) {
      if (t.resource.kind !== 'Deployment') throw new CommandError(`no history viewer has been implemented for ${t.resource.kind}`);
      const deploy = await getObj(ctx, t);
      const rss = await ownedReplicaSets(ctx, deploy);
      const rev = ctx.flags.revision as number;
      if (rev > 0) {
        const rs = rss.find((x) => revisionOf(x) === rev);
        if (!rs) throw new CommandError(`unable to find the specified revision`);
        ctx.out(`${targetName(t.resource, t.name)} with revision #${rev}\n${describePodTemplate(rs.spec.template)}\n`);
        continue;
      }
      if (rss.length === 0) {
        ctx.out(`${targetName(t.resource, t.name)} \nNo rollout history found.\n`);
        continue;
      }
      const rows = rss.map((rs) => [String(revisionOf(rs)), rs.metadata.annotations?.['kubernetes.io/change-cause'] ?? '<none>']);
      ctx.out(`${targetName(t.resource, t.name)} \n${alignRows([['REVISION', 'CHANGE-CAUSE'], ...rows])}\n`);
    }
    return 0;
  },
};

const rolloutUndo: Command = {
  name: 'undo',
  short: 'Undo a previous rollout',
  usage: '(TYPE NAME | TYPE/NAME) [flags]',
  flags: { 'to-revision': f('int', 0, 'The revision to rollback to. Default to 0 (last revision).'), ...dryRunFlag, ...printFlags },
  async run(ctx) {
    for (const t of await rolloutTargets(ctx)) {
      if (t.resource.kind !== 'Deployment') throw new CommandError(`no rollbacker has been implemented for ${t.resource.kind}`);
      const deploy = await getObj(ctx, t);
      const rss = await ownedReplicaSets(ctx, deploy);
      if (rss.length === 0) throw new CommandError(`no rollout history found for deployment "${t.name}"`);
      const want = ctx.flags['to-revision'] as number;
      // The previous revision: the newest ReplicaSet older than the current one.
      const current = Math.max(revisionOf(deploy), ...rss.map(revisionOf));
      const target = want > 0 ? rss.find((r) => revisionOf(r) === want) : [...rss].reverse().find((r) => revisionOf(r) < current);
      if (!target) throw new CommandError(want > 0 ? `unable to find specified revision ${want} in history` : `no rollout history found for deployment "${t.name}"`);
      const template = structuredClone(target.spec.template);
      delete template.metadata?.labels?.['pod-template-hash'];
      const same = JSON.stringify(template) === JSON.stringify(deploy.spec.template);
      if (same) {
        ctx.out(`${targetName(t.resource, t.name)} skipped rollback (current template already matches revision ${revisionOf(target)})\n`);
        continue;
      }
      const patched = await patchObj(ctx, t, { spec: { template: { ...template, $patch: 'replace' } } });
      printMutation(ctx, mutationOutput(ctx), patched, 'rolled back', dryRunOf(ctx));
    }
    return 0;
  },
};

function simpleRollout(name: 'restart' | 'pause' | 'resume'): Command {
  return {
    name,
    short: name === 'restart' ? 'Restart a resource' : name === 'pause' ? 'Mark the provided resource as paused' : 'Resume a paused resource',
    usage: 'RESOURCE',
    flags: { ...dryRunFlag, ...printFlags, selector: f('string', '', 'Selector (label query) to filter on', { short: 'l' }) },
    async run(ctx) {
      for (const t of await rolloutTargets(ctx)) {
        const obj = await getObj(ctx, t);
        if (name === 'restart') {
          if (obj.spec?.paused) throw new CommandError(`can't restart paused deployment (run rollout resume first)`);
          const now = new Date(ctx.f.now()).toISOString().replace(/\.\d+Z$/, 'Z');
          const patched = await patchObj(ctx, t, { spec: { template: { metadata: { annotations: { 'kubectl.kubernetes.io/restartedAt': now } } } } });
          printMutation(ctx, mutationOutput(ctx), patched, 'restarted', dryRunOf(ctx));
          continue;
        }
        if (t.resource.kind !== 'Deployment') throw new CommandError(`${t.resource.resource} "${t.name}" ${name === 'pause' ? 'pausing' : 'resuming'} is not supported`);
        const want = name === 'pause';
        if (Boolean(obj.spec?.paused) === want) throw new CommandError(`${t.resource.resource}.${t.resource.group} "${t.name}" is ${want ? 'already paused' : 'not paused'}`);
        const patched = await patchObj(ctx, t, { spec: { paused: want ? true : null } });
        printMutation(ctx, mutationOutput(ctx), patched, want ? 'paused' : 'resumed', dryRunOf(ctx));
      }
      return 0;
    },
  };
}

export const rolloutCommand: Command = {
  name: 'rollout',
  short: 'Manage the rollout of a resource',
  long: `Manage the rollout of one or many resources.

 A Deployment rolls out by creating a new ReplicaSet for its new pod template and scaling it up while scaling the old ones down; each ReplicaSet it keeps is a revision ("rollout history") that "rollout undo" can return to.`,
  group: 'Deploy Commands:',
  subcommands: [rolloutHistory, simpleRollout('pause'), simpleRollout('restart'), simpleRollout('resume'), rolloutStatusCmd, rolloutUndo],
};

// ---- set image --------------------------------------------------------------------------

const setImage: Command = {
  name: 'image',
  short: 'Update the image of a pod template',
  usage: '(-f FILENAME | TYPE NAME) CONTAINER_NAME_1=CONTAINER_IMAGE_1 ... CONTAINER_NAME_N=CONTAINER_IMAGE_N',
  examples: "  # Set a deployment's nginx container image to 'nginx:1.9.1'\n  tkubectl set image deployment/nginx nginx=nginx:1.9.1\n\n  # Update image of all containers of deployment frontend to 'nginx:1.9.1'\n  tkubectl set image deployments frontend *=nginx:1.9.1",
  flags: { ...dryRunFlag, ...printFlags, all: f('bool', false, 'Select all resources'), selector: f('string', '', 'Selector (label query) to filter on', { short: 'l' }) },
  async run(ctx) {
    const firstImage = ctx.args.findIndex((a) => a.includes('='));
    if (firstImage < 0) throw new UsageError('at least one image update is required');
    const images = Object.fromEntries(ctx.args.slice(firstImage).map((a) => [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]));
    for (const t of await resolveObjects(ctx, ctx.args.slice(0, firstImage), { allowSelector: true })) {
      const obj = await getObj(ctx, t);
      const spec = t.resource.kind === 'Pod' ? obj.spec : t.resource.kind === 'CronJob' ? obj.spec?.jobTemplate?.spec?.template?.spec : obj.spec?.template?.spec;
      if (!spec) throw new CommandError(`${t.resource.kind} has no pod template`);
      let changed = false;
      const patchList = (list: Obj[] | undefined) =>
        (list ?? []).flatMap((c) => {
          const img = images[c.name] ?? images['*'];
          if (img === undefined) return [];
          changed = true;
          return [{ name: c.name, image: img }];
        });
      const containers = patchList(spec.containers);
      const initContainers = patchList(spec.initContainers);
      for (const n of Object.keys(images)) if (n !== '*' && ![...(spec.containers ?? []), ...(spec.initContainers ?? [])].some((c: Obj) => c.name === n)) throw new CommandError(`unable to find container named "${n}"`);
      if (!changed) continue;
      const podSpec: Obj = {};
      if (containers.length) podSpec.containers = containers;
      if (initContainers.length) podSpec.initContainers = initContainers;
      const patch = t.resource.kind === 'Pod' ? { spec: podSpec } : t.resource.kind === 'CronJob' ? { spec: { jobTemplate: { spec: { template: { spec: podSpec } } } } } : { spec: { template: { spec: podSpec } } };
      const patched = await patchObj(ctx, t, patch, 'strategic', 'kubectl-set');
      printMutation(ctx, mutationOutput(ctx), patched, 'image updated', dryRunOf(ctx));
    }
    return 0;
  },
};

export const setCommand: Command = {
  name: 'set',
  short: 'Set specific features on objects',
  group: 'Basic Commands (Intermediate):',
  subcommands: [setImage],
};

// ---- wait -------------------------------------------------------------------------------

type WaitFor = { kind: 'delete' } | { kind: 'condition'; type: string; value: string } | { kind: 'jsonpath'; path: string; value?: string } | { kind: 'create' };

export function parseWaitFor(s: string): WaitFor {
  if (s === 'delete') return { kind: 'delete' };
  if (s === 'create') return { kind: 'create' };
  if (s.startsWith('condition=')) {
    const body = s.slice('condition='.length);
    const eq = body.indexOf('=');
    return eq >= 0 ? { kind: 'condition', type: body.slice(0, eq), value: body.slice(eq + 1) } : { kind: 'condition', type: body, value: 'true' };
  }
  if (s.startsWith('jsonpath=')) {
    const body = s.slice('jsonpath='.length);
    const m = /^(\{.*\}|[^=]+)(?:=(.*))?$/.exec(body);
    if (!m) throw new CommandError(`jsonpath wait format must be --for=jsonpath='{.status.readyReplicas}'=3 or --for=jsonpath='{.status.readyReplicas}'`);
    return { kind: 'jsonpath', path: m[1]!.replace(/^'|'$/g, ''), value: m[2] };
  }
  throw new CommandError(`unrecognized condition: "${s}"`);
}

function conditionMet(obj: Obj, w: WaitFor): boolean {
  if (w.kind === 'condition') {
    return (obj.status?.conditions ?? []).some((c: Obj) => String(c.type).toLowerCase() === w.type.toLowerCase() && String(c.status).toLowerCase() === w.value.toLowerCase() && (c.observedGeneration === undefined || obj.metadata?.generation === undefined || c.observedGeneration >= obj.metadata.generation));
  }
  if (w.kind === 'jsonpath') {
    const vals = findValues(obj, relaxedJSONPath(w.path));
    if (w.value === undefined) return vals.length > 0;
    return vals.length > 0 && vals.every((v) => String(typeof v === 'object' ? JSON.stringify(v) : v) === w.value);
  }
  return true;
}

export const waitCommand: Command = {
  name: 'wait',
  short: 'Experimental: Wait for a specific condition on one or many resources',
  usage: "([-f FILENAME] | resource.group/resource.name | resource.group [(-l label | --all)]) [--for=create|--for=delete|--for condition=available|--for=jsonpath='{}'[=value]]",
  examples: "  # Wait for the pod \"busybox1\" to contain the status condition of type \"Ready\"\n  tkubectl wait --for=condition=Ready pod/busybox1\n\n  # Wait for the pod \"busybox1\" to be deleted, with a timeout of 60s\n  tkubectl wait --for=delete pod/busybox1 --timeout=60s",
  group: 'Advanced Commands:',
  flags: {
    for: f('string', '', "The condition to wait on: [create|delete|condition=condition-name[=condition-value]|jsonpath='{JSONPath expression}'=[JSONPath value]]."),
    timeout: f('string', '30s', 'The length of time to wait before giving up.  Zero means check once and don\'t wait, negative means wait for a week.'),
    selector: f('string', '', 'Selector (label query) to filter on', { short: 'l' }),
    all: f('bool', false, 'Select all resources in the namespace of the specified resource types'),
    'all-namespaces': f('bool', false, 'If present, list the requested object(s) across all namespaces.', { short: 'A' }),
    filename: f('stringArray', [], 'identifying the resource.', { short: 'f' }),
    output: f('string', '', 'Output format. One of: (name).', { short: 'o' }),
  },
  async run(ctx) {
    if (!ctx.flags.for) throw new CommandError('--for must be set');
    const w = parseWaitFor(ctx.flags.for as string);
    const timeoutMs = parseGoDuration(ctx.flags.timeout as string);
    const deadline = timeoutMs < 0 ? Date.now() + 7 * 24 * 3600_000 : Date.now() + timeoutMs;
    const mapper = await ctx.f.mapper();
    const { namespace } = ctx.f.namespace();
    let targets: Target[];
    const named = parseTargets(mapper, ctx.args).targets;
    if (named.some((t) => t.name === undefined)) {
      const r = named[0]!.resource;
      const list = await listObjects(ctx, r, r.namespaced && !ctx.flags['all-namespaces'] ? namespace : undefined, { labelSelector: (ctx.flags.selector as string) || undefined });
      targets = list.map((o) => ({ resource: r, namespace: o.metadata.namespace, name: o.metadata.name }));
      if (targets.length === 0) throw new CommandError('no matching resources found');
    } else targets = await resolveObjects(ctx, ctx.args, { allowSelector: true });
    for (const t of targets) {
      const label = `${t.resource.group ? `${t.resource.resource}.${t.resource.group}` : t.resource.resource}/${t.name}`;
      for (;;) {
        let obj: Obj | undefined;
        try {
          obj = await getObj(ctx, t);
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        const met = w.kind === 'delete' ? obj === undefined : obj !== undefined && conditionMet(obj, w);
        if (met) {
          ctx.out(ctx.flags.output === 'name' ? `${targetName(t.resource, t.name)}\n` : `${targetName(t.resource, t.name)} condition met\n`);
          break;
        }
        if (obj === undefined && w.kind !== 'delete' && w.kind !== 'create') throw new CommandError(`${t.resource.resource}${t.resource.group ? `.${t.resource.group}` : ''} "${t.name}" not found`);
        if (Date.now() >= deadline) throw new CommandError(`timed out waiting for the condition on ${label}`);
        if (ctx.io.signal?.aborted) return 1;
        await sleep(Math.min(500, Math.max(10, deadline - Date.now())), ctx.io.signal);
      }
    }
    return 0;
  },
};

// ---- logs -------------------------------------------------------------------------------

async function podFor(ctx: CommandContext, arg: string, namespace: string): Promise<Obj> {
  const mapper = await ctx.f.mapper();
  let r: APIResource = mapper.resolve('pods');
  let name = arg;
  if (arg.includes('/')) {
    const [type, n] = arg.split('/');
    r = mapper.resolve(type!);
    name = n!;
  }
  const obj = await ctx.f.client().request<Obj>({ path: resourcePath(r, namespace, name) });
  if (r.kind === 'Pod') return obj;
  const sel = obj.spec?.selector?.matchLabels ?? obj.spec?.selector;
  if (!sel) throw new CommandError(`cannot get the logs from ${r.kind}: it has no pod selector`);
  const selector = Object.entries(sel).map(([k, v]) => `${k}=${v}`).join(',');
  const pods = await listObjects(ctx, mapper.resolve('pods'), namespace, { labelSelector: selector });
  if (pods.length === 0) throw new CommandError(`no pods found for ${r.kind.toLowerCase()} ${name}`);
  pods.sort((a, b) => String(a.metadata.creationTimestamp).localeCompare(String(b.metadata.creationTimestamp)));
  if (pods.length > 1) ctx.err(`Found ${pods.length} pods, using pod/${pods[0]!.metadata.name}\n`);
  return pods[0]!;
}

export const logsCommand: Command = {
  name: 'logs',
  short: 'Print the logs for a container in a pod',
  long: "Print the logs for a container in a pod or specified resource. If the pod has only one container, the container name is optional.\n\n The API server proxies the request to the kubelet of the pod's node, which reads the container runtime's log.",
  usage: '[-f] [-p] (POD | TYPE/NAME) [-c CONTAINER]',
  group: 'Troubleshooting and Debugging Commands:',
  flags: {
    follow: f('bool', false, 'Specify if the logs should be streamed.', { short: 'f' }),
    tail: f('int', -1, 'Lines of recent log file to display. Defaults to -1 with no selector, showing all log lines otherwise 10, if a selector is provided.'),
    since: f('string', '0s', 'Only return logs newer than a relative duration like 5s, 2m, or 3h. Defaults to all logs. Only one of since-time / since may be used.'),
    'since-time': f('string', '', 'Only return logs after a specific date (RFC3339). Defaults to all logs. Only one of since-time / since may be used.'),
    timestamps: f('bool', false, 'Include timestamps on each line in the log output'),
    previous: f('bool', false, 'If true, print the logs for the previous instance of the container in a pod if it exists.', { short: 'p' }),
    container: f('string', '', 'Print the logs of this container', { short: 'c' }),
    'all-containers': f('bool', false, 'Get all containers\' logs in the pod(s).'),
    'limit-bytes': f('int', 0, 'Maximum bytes of logs to return. Defaults to no limit.'),
    prefix: f('bool', false, 'Prefix each log line with the log source (pod name and container name)'),
  },
  async run(ctx) {
    if (ctx.args.length === 0) throw new UsageError('expected POD or TYPE/NAME is a required argument for the logs command');
    const { namespace } = ctx.f.namespace();
    const pod = await podFor(ctx, ctx.args[0]!, namespace);
    const containers: string[] = (pod.spec?.containers ?? []).map((c: Obj) => c.name);
    let names: string[];
    if (ctx.flags['all-containers']) names = containers;
    else if (ctx.flags.container || ctx.args[1]) {
      const c = (ctx.flags.container as string) || ctx.args[1]!;
      const all = [...containers, ...(pod.spec?.initContainers ?? []).map((x: Obj) => x.name)];
      if (!all.includes(c)) throw new CommandError(`container ${c} is not valid for pod ${pod.metadata.name}`);
      names = [c];
    } else {
      const def = pod.metadata?.annotations?.['kubectl.kubernetes.io/default-container'] ?? containers[0];
      if (containers.length > 1) ctx.err(`Defaulted container "${def}" out of: ${containers.join(', ')}\n`);
      names = [def];
    }
    for (const c of names) {
      const since = parseGoDuration(ctx.flags.since as string);
      const query: Record<string, string | undefined> = {
        container: c,
        follow: ctx.flags.follow ? 'true' : undefined,
        previous: ctx.flags.previous ? 'true' : undefined,
        timestamps: ctx.flags.timestamps ? 'true' : undefined,
        tailLines: (ctx.flags.tail as number) >= 0 ? String(ctx.flags.tail) : undefined,
        sinceSeconds: since > 0 ? String(Math.ceil(since / 1000)) : undefined,
        sinceTime: (ctx.flags['since-time'] as string) || undefined,
        limitBytes: (ctx.flags['limit-bytes'] as number) > 0 ? String(ctx.flags['limit-bytes']) : undefined,
      };
      const res = await ctx.f.client().stream({ path: resourcePath({ group: '', version: 'v1', resource: 'pods', namespaced: true }, pod.metadata.namespace, pod.metadata.name, 'log'), query, accept: '*/*', signal: ctx.io.signal, timeoutMs: 0 });
      const prefix = ctx.flags.prefix ? `[pod/${pod.metadata.name}/${c}] ` : '';
      try {
        let pending = '';
        for await (const chunk of res) {
          const text = pending + (chunk as Buffer).toString('utf8');
          if (!prefix) {
            ctx.out(text);
            continue;
          }
          const lines = text.split('\n');
          pending = lines.pop()!;
          for (const l of lines) ctx.out(`${prefix}${l}\n`);
        }
        if (pending) ctx.out(`${prefix}${pending}`);
      } catch (err) {
        if (!ctx.io.signal?.aborted) throw err;
      }
    }
    return 0;
  },
};

