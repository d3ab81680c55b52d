/**
 * Node maintenance: `cordon` / `uncordon` (spec.unschedulable), `taint`, and `drain`, which
 * cordons the node and evicts its pods through the eviction subresource (so that
 * PodDisruptionBudgets are honoured), skipping mirror pods and, with --ignore-daemonsets,
 * DaemonSet pods, and refusing unmanaged pods or emptyDir data unless told otherwise.
 */
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError, UsageError, ReportedError } from '../cli/errors.js';
import { f, parseGoDuration } from '../cli/flags.js';
import { isNotFound, isTooManyRequests } from '../../machinery/index.js';
import { resourcePath } from '../resource/builder.js';
import { dryRunFlag, dryRunOf, dryRunSuffix, listObjects } from './common.js';
import { waitForDeletion } from './delete.js';

type Obj = Record<string, any>;
const nodesR = { group: '', version: 'v1', resource: 'nodes', namespaced: false };
const podsR = { group: '', version: 'v1', resource: 'pods', namespaced: true, kind: 'Pod', singular: 'pod', verbs: [], shortNames: [], categories: [], subresources: [], preferred: true };

async function nodeNames(ctx: CommandContext): Promise<string[]> {
  const selector = (ctx.flags.selector as string) ?? '';
  if (ctx.args.length === 0 && selector) {
    const items = await listObjects(ctx, { ...podsR, resource: 'nodes', kind: 'Node', namespaced: false }, undefined, { labelSelector: selector });
    return items.map((n) => n.metadata.name);
  }
  if (ctx.args.length === 0) throw new UsageError('USAGE: cordon NODE [flags]');
  return ctx.args.map((a) => a.replace(/^(nodes?|no)\//, ''));
}

async function setUnschedulable(ctx: CommandContext, name: string, value: boolean): Promise<void> {
  const client = ctx.f.client();
  const dry = dryRunOf(ctx);
  const node = await client.request<Obj>({ path: resourcePath(nodesR, undefined, name) });
  const verb = value ? 'cordoned' : 'uncordoned';
  if (Boolean(node.spec?.unschedulable) === value) {
    ctx.out(`node/${name} already ${verb}${dryRunSuffix(dry)}\n`);
    return;
  }
  if (dry !== 'client') {
    await client.request({
      method: 'PATCH',
      path: resourcePath(nodesR, undefined, name),
      body: { spec: { unschedulable: value ? true : null } },
      contentType: 'application/strategic-merge-patch+json',
      query: { dryRun: dry === 'server' ? 'All' : undefined },
    });
  }
  ctx.out(`node/${name} ${verb}${dryRunSuffix(dry)}\n`);
}

function cordonCommand(name: 'cordon' | 'uncordon'): Command {
  return {
    name,
    short: name === 'cordon' ? 'Mark node as unschedulable' : 'Mark node as schedulable',
    long: name === 'cordon' ? 'Mark node as unschedulable: the scheduler places no new pods on it; pods already there keep running.' : 'Mark node as schedulable.',
    usage: 'NODE',
    group: 'Cluster Management Commands:',
    flags: { ...dryRunFlag, selector: f('string', '', 'Selector (label query) to filter on', { short: 'l' }) },
    async run(ctx) {
      for (const n of await nodeNames(ctx)) await setUnschedulable(ctx, n, name === 'cordon');
      return 0;
    },
  };
}

export const cordon = cordonCommand('cordon');
export const uncordon = cordonCommand('uncordon');

interface Taint {
  key: string;
  value?: string;
  effect: string;
}

const effects = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'];

function parseTaints(specs: string[]): { add: Taint[]; remove: { key: string; effect?: string }[] } {
  const add: Taint[] = [];
  const remove: { key: string; effect?: string }[] = [];
  for (const s of specs) {
    if (s.endsWith('-')) {
      const body = s.slice(0, -1);
      const [key, effect] = body.split(':');
      remove.push({ key: key!, effect });
      continue;
    }
    const m = /^([^=:]+)(?:=([^:]*))?:(.+)$/.exec(s);
    if (!m) throw new CommandError(`invalid taint spec: ${s}, unknown taint spec: ${s}`);
    if (!effects.includes(m[3]!)) throw new CommandError(`invalid taint spec: ${s}, invalid taint effect: ${m[3]}, unsupported taint effect`);
    add.push(m[2] !== undefined ? { key: m[1]!, value: m[2], effect: m[3]! } : { key: m[1]!, effect: m[3]! });
  }
  return { add, remove };
}

export const taintCommand: Command = {
  name: 'taint',
  short: 'Update the taints on one or more nodes',
  usage: 'NODE NAME KEY_1=VAL_1:TAINT_EFFECT_1 ... KEY_N=VAL_N:TAINT_EFFECT_N',
  examples: "  # Update node 'foo' with a taint with key 'dedicated' and value 'special-user' and effect 'NoSchedule'\n  tkubectl taint nodes foo dedicated=special-user:NoSchedule\n\n  # Remove from node 'foo' the taint with key 'dedicated' and effect 'NoSchedule' if one exists\n  tkubectl taint nodes foo dedicated:NoSchedule-",
  group: 'Cluster Management Commands:',
  flags: { ...dryRunFlag, overwrite: f('bool', false, 'If true, allow taints to be overwritten, otherwise reject taint updates that overwrite existing taints.'), all: f('bool', false, 'Select all nodes in the cluster'), selector: f('string', '', 'Selector (label query) to filter on', { short: 'l' }) },
  async run(ctx) {
    const args = [...ctx.args];
    if (args[0] && /^(nodes?|no)$/.test(args[0])) args.shift();
    let names: string[];
    if (ctx.flags.all || ctx.flags.selector) {
      const items = await listObjects(ctx, { ...podsR, resource: 'nodes', kind: 'Node', namespaced: false }, undefined, { labelSelector: (ctx.flags.selector as string) || undefined });
      names = items.map((n) => n.metadata.name);
    } else {
      const first = args.shift();
      if (!first) throw new UsageError('at least one taint update is required');
      names = [first.replace(/^(nodes?|no)\//, '')];
    }
    if (args.length === 0) throw new UsageError('at least one taint update is required');
    const { add, remove } = parseTaints(args);
    const client = ctx.f.client();
    const dry = dryRunOf(ctx);
    for (const name of names) {
      const node = await client.request<Obj>({ path: resourcePath(nodesR, undefined, name) });
      let taints: Taint[] = [...(node.spec?.taints ?? [])];
      if (!ctx.flags.overwrite) {
        const clash = add.filter((a) => taints.some((t) => t.key === a.key && t.effect === a.effect));
        if (clash.length) throw new CommandError(`node ${name} already has ${clash.map((c) => c.key).join(',')} taint(s) with same effect(s) and --overwrite is false`);
      }
      for (const r of remove) {
        const before = taints.length;
        taints = taints.filter((t) => !(t.key === r.key && (r.effect === undefined || t.effect === r.effect)));
        if (taints.length === before) throw new CommandError(`taint "${r.key}${r.effect ? `:${r.effect}` : ''}" not found`);
      }
      for (const a of add) {
        const i = taints.findIndex((t) => t.key === a.key && t.effect === a.effect);
        if (i >= 0) taints[i] = a;
        else taints.push(a);
      }
      if (dry !== 'client') {
        await client.request({ method: 'PATCH', path: resourcePath(nodesR, undefined, name), body: { spec: { taints } }, contentType: 'application/merge-patch+json', query: { dryRun: dry === 'server' ? 'All' : undefined } });
      }
      const verb = add.length && remove.length ? 'modified' : add.length ? 'tainted' : 'untainted';
      ctx.out(`node/${name} ${verb}${dryRunSuffix(dry)}\n`);
    }
    return 0;
  },
};

function controllerOf(pod: Obj): Obj | undefined {
  return (pod.metadata?.ownerReferences ?? []).find((o: Obj) => o.controller);
}

export const drainCommand: Command = {
  name: 'drain',
  short: 'Drain node in preparation for maintenance',
  long: `Drain node in preparation for maintenance.

 The given node will be marked unschedulable to prevent new pods from arriving. Then drain evicts its pods through the Eviction API, which respects PodDisruptionBudgets: the owning controllers create replacements elsewhere. DaemonSet pods cannot be moved (the DaemonSet controller would recreate them at once): use --ignore-daemonsets to leave them. Pods without a controller would be lost: --force deletes them anyway. Pods with emptyDir volumes lose that data: --delete-emptydir-data accepts that.`,
  usage: 'NODE',
  group: 'Cluster Management Commands:',
  flags: {
    ...dryRunFlag,
    force: f('bool', false, 'Continue even if there are pods that do not declare a controller.'),
    'ignore-daemonsets': f('bool', false, 'Ignore DaemonSet-managed pods.'),
    'delete-emptydir-data': f('bool', false, 'Continue even if there are pods using emptyDir (local data that will be deleted when the node is drained).'),
    'grace-period': f('int', -1, 'Period of time in seconds given to each pod to terminate gracefully. If negative, the default value specified in the pod will be used.'),
    timeout: f('string', '0s', 'The length of time to wait before giving up, zero means infinite'),
    'disable-eviction': f('bool', false, 'Force drain to use delete, even if eviction is supported. This will bypass checking PodDisruptionBudgets, use with caution.'),
    selector: f('string', '', 'Selector (label query) to filter on', { short: 'l' }),
    'pod-selector': f('string', '', 'Label selector to filter pods on the node'),
  },
  async run(ctx) {
    const names = await nodeNames(ctx);
    const client = ctx.f.client();
    const dry = dryRunOf(ctx);
    const timeout = parseGoDuration(ctx.flags.timeout as string);
    const grace = ctx.flags['grace-period'] as number;
    for (const name of names) {
      await setUnschedulable(ctx, name, true);
      const pods = await listObjects(ctx, podsR, undefined, { fieldSelector: `spec.nodeName=${name}`, labelSelector: (ctx.flags['pod-selector'] as string) || undefined });
      const problems: { what: string; pods: string[] }[] = [];
      const problem = (what: string, p: string) => {
        const e = problems.find((x) => x.what === what);
        if (e) e.pods.push(p);
        else problems.push({ what, pods: [p] });
      };
      const warnings: { what: string; pods: string[] }[] = [];
      const warn = (what: string, p: string) => {
        const e = warnings.find((x) => x.what === what);
        if (e) e.pods.push(p);
        else warnings.push({ what, pods: [p] });
      };
      const victims: Obj[] = [];
      for (const pod of pods) {
        const id = `${pod.metadata.namespace}/${pod.metadata.name}`;
        if (pod.metadata?.annotations?.['kubernetes.io/config.mirror']) continue;
        const phase = pod.status?.phase;
        const finished = phase === 'Succeeded' || phase === 'Failed';
        const ctl = controllerOf(pod);
        if (ctl?.kind === 'DaemonSet' && !finished) {
          if (ctx.flags['ignore-daemonsets']) warn('ignoring DaemonSet-managed Pods', id);
          else problem('cannot delete DaemonSet-managed Pods (use --ignore-daemonsets to ignore)', id);
          continue;
        }
        if (!ctl && !finished) {
          if (ctx.flags.force) warn('deleting Pods that declare no controller', id);
          else problem('cannot delete Pods declare no controller (use --force to override)', id);
        }
        if ((pod.spec?.volumes ?? []).some((v: Obj) => v.emptyDir) && !finished) {
          if (!ctx.flags['delete-emptydir-data']) problem('cannot delete Pods with local storage (use --delete-emptydir-data to override)', id);
        }
        victims.push(pod);
      }
      if (problems.length) {
        const text = problems.map((p) => `${p.what}: ${p.pods.join(', ')}`).join(', ');
        ctx.err(`error: unable to drain node "${name}" due to error: ${text}, continuing command...\nThere are pending nodes to be drained:\n ${name}\n${problems.map((p) => `${p.what}: ${p.pods.join(', ')}`).join('\n')}\n`);
        throw new ReportedError(1);
      }
      for (const w of warnings) ctx.err(`Warning: ${w.what}: ${w.pods.join(', ')}\n`);
      const evicted: { resource: typeof podsR; namespace: string; name: string; uid?: string }[] = [];
      for (const pod of victims) {
        const ns = pod.metadata.namespace;
        const pn = pod.metadata.name;
        if (dry === 'client') {
          ctx.out(`evicting pod ${ns}/${pn}${dryRunSuffix(dry)}\n`);
          continue;
        }
        const deleteOptions = grace >= 0 ? { gracePeriodSeconds: grace } : undefined;
        for (;;) {
          try {
            if (ctx.flags['disable-eviction']) {
              await client.request({ method: 'DELETE', path: resourcePath(podsR, ns, pn), body: { kind: 'DeleteOptions', apiVersion: 'v1', ...(deleteOptions ?? {}) } });
            } else {
              ctx.out(`evicting pod ${ns}/${pn}\n`);
              await client.request({
                method: 'POST',
                path: resourcePath(podsR, ns, pn, 'eviction'),
                body: { apiVersion: 'policy/v1', kind: 'Eviction', metadata: { name: pn, namespace: ns }, ...(deleteOptions ? { deleteOptions } : {}) },
              });
            }
            break;
          } catch (err) {
            if (isNotFound(err)) break;
            if (isTooManyRequests(err)) {
              // A PodDisruptionBudget says not now: retry, as kubectl does every 5s.
              ctx.err(`error when evicting pods/"${pn}" -n "${ns}" (will retry after 5s): ${(err as Error).message}\n`);
              await new Promise((r) => setTimeout(r, 5000));
              if (ctx.io.signal?.aborted) return 1;
              continue;
            }
            throw err;
          }
        }
        evicted.push({ resource: podsR, namespace: ns, name: pn, uid: pod.metadata.uid });
      }
      if (evicted.length) {
        await waitForDeletion(ctx, evicted as never, timeout);
        for (const e of evicted) ctx.out(`pod/${e.name} ${ctx.flags['disable-eviction'] ? 'deleted' : 'evicted'}\n`);
      }
      ctx.out(`node/${name} drained${dryRunSuffix(dry)}\n`);
    }
    return 0;
  },
};
