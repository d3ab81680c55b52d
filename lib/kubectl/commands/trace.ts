/**
 * `tkubectl trace deployment/web`: the chain of events behind a Deployment, made visible.
 *
 *   you ──create──▶ API server ──▶ Deployment
 *   deployment-controller  ──▶ ReplicaSet     (ScalingReplicaSet)
 *   replicaset-controller  ──▶ Pods           (SuccessfulCreate)
 *   default-scheduler      ──▶ Pod.nodeName   (Scheduled)
 *   kubelet on that node   ──▶ containers     (Pulling, Pulled, Created, Started)
 *
 * The components never talk to each other; each watches the API server and records Events
 * about what it did. This command finds the ReplicaSets and Pods through their
 * ownerReferences, collects the Events whose involvedObject is one of them, and prints one
 * timeline with the component that acted (the Event's source). With --watch it keeps going,
 * picking up the new ReplicaSet and Pods of a rollout as they appear.
 */
import type { Command, CommandContext } from '../cli/command.js';
import { CommandError, UsageError } from '../cli/errors.js';
import { f } from '../cli/flags.js';
import { LineSplitter, parseWatchEvent } from '../../client/index.js';
import { resourcePath } from '../resource/builder.js';
import { listObjects } from './common.js';
import { eventTime } from '../describe/describers.js';
import { RememberingTabWriter, colourFor } from '../printers/watch-writer.js';

type Obj = Record<string, any>;

interface Chain {
  /** uid → `Kind/name` */
  objects: Map<string, { kind: string; name: string; created?: string }>;
}

const controllerKinds: Record<string, string> = { Deployment: 'ReplicaSet', ReplicaSet: 'Pod', StatefulSet: 'Pod', DaemonSet: 'Pod', Job: 'Pod' };

async function resolveChain(ctx: CommandContext, root: Obj, rootKind: string): Promise<Chain> {
  const mapper = await ctx.f.mapper();
  const ns = root.metadata.namespace;
  const chain: Chain = { objects: new Map([[root.metadata.uid, { kind: rootKind, name: root.metadata.name, created: root.metadata.creationTimestamp }]]) };
  let frontier: { kind: string; uid: string }[] = [{ kind: rootKind, uid: root.metadata.uid }];
  while (frontier.length) {
    const next: { kind: string; uid: string }[] = [];
    const childKinds = new Set(frontier.map((x) => controllerKinds[x.kind]).filter(Boolean) as string[]);
    for (const ck of childKinds) {
      const r = mapper.resolve(ck === 'ReplicaSet' ? 'replicasets.apps' : 'pods');
      for (const o of await listObjects(ctx, r, ns)) {
        if (!(o.metadata.ownerReferences ?? []).some((ref: Obj) => frontier.some((p) => p.uid === ref.uid))) continue;
        if (chain.objects.has(o.metadata.uid)) continue;
        chain.objects.set(o.metadata.uid, { kind: ck, name: o.metadata.name, created: o.metadata.creationTimestamp });
        next.push({ kind: ck, uid: o.metadata.uid });
      }
    }
    frontier = next;
  }
  return chain;
}

function component(e: Obj): string {
  const c = e.source?.component || e.reportingComponent || '';
  const host = e.source?.host || e.reportingInstance || '';
  return c === 'kubelet' && host ? `kubelet (${host})` : c || '<unknown>';
}

function clock(ts: string, now: number): string {
  const d = new Date(ts);
  const sameDay = new Date(now).toDateString() === d.toDateString();
  const p = (n: number) => String(n).padStart(2, '0');
  const t = `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
  return sameDay ? t : `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${t}`;
}

interface Row {
  time: string;
  type: string;
  cells: string[];
}

function eventRow(e: Obj, now: number): Row {
  const io = e.involvedObject ?? e.regarding ?? {};
  const count = (e.count ?? 1) > 1 ? ` (x${e.count})` : '';
  return { time: eventTime(e), type: e.type ?? 'Normal', cells: [clock(eventTime(e), now), component(e), `${io.kind}/${io.name}`, e.reason ?? '', `${String(e.message ?? '').trim()}${count}`] };
}

function createdRow(kind: string, name: string, created: string, now: number): Row {
  const who = kind === 'Deployment' || kind === 'StatefulSet' || kind === 'DaemonSet' || kind === 'Job' ? 'kube-apiserver (you)' : 'kube-apiserver';
  return { time: created, type: 'Created', cells: [clock(created, now), who, `${kind}/${name}`, 'Stored', `${kind} written to etcd`] };
}

export const traceCommand: Command = {
  name: 'trace',
  short: 'Follow the chain of events behind a workload (Deployment → ReplicaSet → Pods → scheduler → kubelet)',
  long: `Follow the chain of events behind a workload: the Deployment, the ReplicaSets the deployment controller made for it, the Pods the replicaset controller made, the scheduler's decisions and the kubelet's work, as one timeline.

 Kubernetes components never talk to each other: each watches the API server and records Events about what it did. The COMPONENT column is each Event's source; "kube-apiserver" lines are the objects' creation times. With --watch the timeline continues as things happen (try it during a rollout: tkubectl set image deployment/web web=nginx:1.28).`,
  usage: '(TYPE/NAME | TYPE NAME) [--watch]',
  examples: '  # The story of a deployment so far\n  tkubectl trace deployment/web\n\n  # Watch a rollout unfold\n  tkubectl trace deployment/web --watch',
  group: 'Troubleshooting and Debugging Commands:',
  flags: {
    watch: f('bool', false, 'After printing the timeline so far, keep printing new events as they happen.', { short: 'w' }),
    color: f('bool', false, 'Colour lines by event type (automatic on a terminal).'),
  },
  async run(ctx) {
    const arg = ctx.args.length === 2 ? `${ctx.args[0]}/${ctx.args[1]}` : ctx.args[0];
    if (!arg || !arg.includes('/')) throw new UsageError('trace needs a workload: TYPE/NAME, e.g. deployment/web');
    const [type, name] = arg.split('/') as [string, string];
    const mapper = await ctx.f.mapper();
    const r = mapper.resolve(type);
    if (!controllerKinds[r.kind]) throw new CommandError(`trace follows workloads that own pods (Deployment, ReplicaSet, StatefulSet, DaemonSet, Job), not ${r.kind}`);
    const { namespace } = ctx.f.namespace();
    const client = ctx.f.client();
    const root = await client.request<Obj>({ path: resourcePath(r, namespace, name) });
    const now = ctx.f.now();
    let chain = await resolveChain(ctx, root, r.kind);
    const eventsR = mapper.resolve('events');
    const colour = (ctx.flags.color as boolean) || ctx.io.stdoutIsTTY;
    const writer = new RememberingTabWriter();
    const paint = (rows: Row[], header: boolean) =>
      writer.format(header ? [['TIME', 'COMPONENT', 'OBJECT', 'REASON', 'MESSAGE'], ...rows.map((x) => x.cells)] : rows.map((x) => x.cells), colour ? (line, i) => {
        const row = header ? rows[i - 1] : rows[i];
        if (!row) return line;
        return row.type === 'Warning' ? colourFor('DELETED', line) : row.type === 'Created' ? colourFor('BOOKMARK', line) : line;
      } : undefined);

    const list = await client.request<{ items?: Obj[]; metadata?: { resourceVersion?: string } }>({ path: resourcePath(eventsR, namespace) });
    const rows: Row[] = [];
    for (const [, o] of chain.objects) if (o.created) rows.push(createdRow(o.kind, o.name, o.created, now));
    for (const e of list.items ?? []) if (chain.objects.has(e.involvedObject?.uid)) rows.push(eventRow(e, now));
    // Within one second, an object's creation comes before what was done to it (the sort is stable).
    const rank = (x: Row) => (x.type === 'Created' ? 0 : 1);
    rows.sort((a, b) => a.time.localeCompare(b.time) || rank(a) - rank(b));
    const kinds = [...new Set([...chain.objects.values()].map((o) => o.kind))];
    ctx.out(`Tracing ${r.kind}/${name} in ${namespace}: ${[...chain.objects.values()].length} objects (${kinds.map((k) => `${[...chain.objects.values()].filter((o) => o.kind === k).length} ${k}`).join(', ')})\n\n`);
    if (rows.length) ctx.out(paint(rows, true));
    else ctx.out('No events recorded yet.\n');
    if (!ctx.flags.watch) return 0;

    let rv = list.metadata?.resourceVersion;
    let printedHeader = rows.length > 0;
    for (;;) {
      const res = await client.stream({ path: resourcePath(eventsR, namespace), query: { watch: 'true', resourceVersion: rv, allowWatchBookmarks: 'true' }, signal: ctx.io.signal, timeoutMs: 0 }).catch((err) => {
        if (ctx.io.signal?.aborted) return undefined;
        throw err;
      });
      if (!res) return 0;
      const lines = new LineSplitter();
      // The signal only covers the wait for the headers: end the stream itself on Ctrl-C.
      const onAbort = () => res.destroy();
      ctx.io.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const chunk of res) {
          for (const line of lines.push(chunk as Buffer)) {
            if (!line.trim()) continue;
            const ev = parseWatchEvent<Obj>(line);
            if (ev.type === 'ERROR') {
              rv = undefined;
              break;
            }
            rv = (ev.object as Obj).metadata?.resourceVersion ?? rv;
            if (ev.type !== 'ADDED' && ev.type !== 'MODIFIED') continue;
            const e = ev.object as Obj;
            const io = e.involvedObject ?? {};
            if (!chain.objects.has(io.uid)) {
              if (io.kind !== 'ReplicaSet' && io.kind !== 'Pod') continue;
              // A new ReplicaSet or Pod of a rollout: look at the ownership chain again.
              const before = new Set(chain.objects.keys());
              chain = await resolveChain(ctx, root, r.kind);
              const fresh = [...chain.objects.entries()].filter(([uid]) => !before.has(uid));
              const created = fresh.filter(([, o]) => o.created).map(([, o]) => createdRow(o.kind, o.name, o.created!, ctx.f.now()));
              if (created.length) {
                ctx.out(paint(created, !printedHeader));
                printedHeader = true;
              }
              if (!chain.objects.has(io.uid)) continue;
            }
            ctx.out(paint([eventRow(e, ctx.f.now())], !printedHeader));
            printedHeader = true;
          }
        }
      } catch (err) {
        if (ctx.io.signal?.aborted) return 0;
        throw err;
      } finally {
        ctx.io.signal?.removeEventListener('abort', onAbort);
      }
      if (ctx.io.signal?.aborted) return 0;
    }
  },
};
