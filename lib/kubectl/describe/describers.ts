/**
 * `describe` output: a text document per object, written with tabs and aligned the way
 * kubectl's describe tabwriter aligns it (minwidth 0, padding 2, blocks of consecutive lines).
 * Kind-specific describers for pods, deployments, replica sets, services, nodes and namespaces;
 * every other kind gets the generic one (the object's fields, recursively). Each ends with the
 * Events the components recorded about the object, found by involvedObject field selectors.
 */
import { humanDuration } from '../../machinery/index.js';
import { alignTabs } from '../printers/tabwriter.js';

type Obj = Record<string, any>;

export { humanDuration };

export function since(ts: string | undefined | null, now: number): string {
  if (!ts) return '<unknown>';
  return humanDuration(now - Date.parse(ts));
}

const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** Go's RFC1123Z in local time: `Sun, 22 Nov 2026 13:05:09 +0000`. */
export function rfc1123z(ts: string | undefined): string {
  if (!ts) return '<unset>';
  const d = new Date(ts);
  const p = (n: number) => String(n).padStart(2, '0');
  const off = -d.getTimezoneOffset();
  const sign = off >= 0 ? '+' : '-';
  return `${days[d.getDay()]}, ${p(d.getDate())} ${months[d.getMonth()]} ${d.getFullYear()} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())} ${sign}${p(Math.floor(Math.abs(off) / 60))}${p(Math.abs(off) % 60)}`;
}

/** Lines with tab-separated cells; indentation by level, as kubectl's PrefixWriter. */
export class DescribeWriter {
  private lines: string[] = [];
  write(level: number, text: string): void {
    this.lines.push('  '.repeat(level) + text);
  }
  /** `Key:\tvalue` */
  field(level: number, key: string, value: unknown): void {
    this.write(level, `${key}:\t${value === undefined || value === null ? '' : String(value)}`);
  }
  /** A map as `k=v`, one per line, or `<none>`. */
  map(level: number, key: string, m: Record<string, string> | undefined | null, skip: (k: string) => boolean = () => false): void {
    const keys = Object.keys(m ?? {}).filter((k) => !skip(k)).sort();
    if (keys.length === 0) {
      this.field(level, key, '<none>');
      return;
    }
    keys.forEach((k, i) => {
      const text = `${k}=${m![k]}`;
      if (i === 0) this.field(level, key, text);
      else this.write(level, `\t${text}`);
    });
  }
  text(): string {
    return alignTabs(this.lines.join('\n') + '\n', { minWidth: 0, padding: 2 });
  }
}

const lastApplied = 'kubectl.kubernetes.io/last-applied-configuration';

function annotations(w: DescribeWriter, level: number, o: Obj): void {
  // kubectl leaves the last-applied annotation out: it repeats the whole object.
  w.map(level, 'Annotations', o.metadata?.annotations, (k) => k === lastApplied);
}

function controlledBy(w: DescribeWriter, o: Obj): void {
  const c = (o.metadata?.ownerReferences ?? []).find((r: Obj) => r.controller);
  if (c) w.field(0, 'Controlled By', `${c.kind}/${c.name}`);
}

function portString(p: Obj | undefined): string {
  if (!p) return '<none>';
  return `${p.containerPort}/${p.protocol ?? 'TCP'}`;
}

function containerState(w: DescribeWriter, level: number, title: string, st: Obj | undefined): void {
  if (!st || Object.keys(st).length === 0) {
    w.field(level, title, 'Waiting');
    return;
  }
  if (st.running) {
    w.field(level, title, 'Running');
    w.field(level + 1, 'Started', rfc1123z(st.running.startedAt));
  } else if (st.waiting) {
    w.field(level, title, 'Waiting');
    if (st.waiting.reason) w.field(level + 1, 'Reason', st.waiting.reason);
    if (st.waiting.message) w.field(level + 1, 'Message', st.waiting.message);
  } else if (st.terminated) {
    w.field(level, title, 'Terminated');
    if (st.terminated.reason) w.field(level + 1, 'Reason', st.terminated.reason);
    if (st.terminated.message) w.field(level + 1, 'Message', st.terminated.message);
    w.field(level + 1, 'Exit Code', st.terminated.exitCode);
    if (st.terminated.signal) w.field(level + 1, 'Signal', st.terminated.signal);
    w.field(level + 1, 'Started', rfc1123z(st.terminated.startedAt));
    w.field(level + 1, 'Finished', rfc1123z(st.terminated.finishedAt));
  }
}

function resources(w: DescribeWriter, level: number, r: Obj | undefined): void {
  for (const [title, m] of [['Limits', r?.limits], ['Requests', r?.requests]] as const) {
    if (!m || Object.keys(m).length === 0) continue;
    w.write(level, `${title}:`);
    for (const k of Object.keys(m).sort()) w.field(level + 1, k, m[k]);
  }
}

function probe(p: Obj | undefined): string | undefined {
  if (!p) return undefined;
  let what = 'unknown';
  if (p.httpGet) what = `http-get ${p.httpGet.scheme === 'HTTPS' ? 'https' : 'http'}://${p.httpGet.host ?? ''}:${p.httpGet.port}${p.httpGet.path ?? ''}`;
  else if (p.tcpSocket) what = `tcp-socket ${p.tcpSocket.host ?? ''}:${p.tcpSocket.port}`;
  else if (p.exec) what = `exec [${(p.exec.command ?? []).join(' ')}]`;
  else if (p.grpc) what = `grpc <pod>:${p.grpc.port} ${p.grpc.service ?? ''}`;
  return `${what} delay=${p.initialDelaySeconds ?? 0}s timeout=${p.timeoutSeconds ?? 1}s period=${p.periodSeconds ?? 10}s #success=${p.successThreshold ?? 1} #failure=${p.failureThreshold ?? 3}`;
}

function containers(w: DescribeWriter, level: number, title: string, list: Obj[] | undefined, statuses: Obj[] | undefined, templateIndent: boolean): void {
  if (!list || list.length === 0) return;
  w.write(level, `${title}:`);
  for (const c of list) {
    const st = (statuses ?? []).find((s) => s.name === c.name);
    // A pod template indents container names one space less than a pod, as kubectl does.
    w.write(level, `${templateIndent ? ' ' : '  '}${c.name}:`);
    // Fields sit two levels under a pod's "Containers:", one under a template's.
    const l = templateIndent ? level + 1 : level + 2;
    if (st?.containerID) w.field(l, 'Container ID', st.containerID);
    w.field(l, 'Image', c.image);
    if (st) w.field(l, 'Image ID', st.imageID ?? '');
    const ports: Obj[] = c.ports ?? [];
    if (ports.length <= 1) {
      w.field(l, 'Port', portString(ports[0]));
      w.field(l, 'Host Port', ports[0]?.hostPort ? `${ports[0].hostPort}/${ports[0].protocol ?? 'TCP'}` : ports[0] ? `0/${ports[0].protocol ?? 'TCP'}` : '<none>');
    } else {
      w.field(l, 'Ports', ports.map(portString).join(', '));
      w.field(l, 'Host Ports', ports.map((p) => `${p.hostPort ?? 0}/${p.protocol ?? 'TCP'}`).join(', '));
    }
    for (const [t, v] of [['Command', c.command], ['Args', c.args]] as const) {
      if (!v?.length) continue;
      w.write(l, `${t}:`);
      for (const a of v) for (const line of String(a).split('\n')) w.write(l + 1, line);
    }
    if (st) {
      containerState(w, l, 'State', st.state);
      if (st.lastState && Object.keys(st.lastState).length) containerState(w, l, 'Last State', st.lastState);
      w.field(l, 'Ready', st.ready ? 'True' : 'False');
      w.field(l, 'Restart Count', st.restartCount ?? 0);
    }
    resources(w, l, c.resources);
    for (const [t, p] of [['Liveness', c.livenessProbe], ['Readiness', c.readinessProbe], ['Startup', c.startupProbe]] as const) {
      const s = probe(p);
      if (s) w.field(l, t, s);
    }
    const env: Obj[] = c.env ?? [];
    if (env.length === 0 && !c.envFrom?.length) w.field(l, 'Environment', '<none>');
    else {
      w.write(l, 'Environment:');
      for (const e of env) {
        if (e.value !== undefined) w.field(l + 1, e.name, e.value);
        else if (e.valueFrom?.fieldRef) w.field(l + 1, e.name, ` (${e.valueFrom.fieldRef.apiVersion ?? 'v1'}:${e.valueFrom.fieldRef.fieldPath})`);
        else if (e.valueFrom?.secretKeyRef) w.field(l + 1, e.name, `<set to the key '${e.valueFrom.secretKeyRef.key}' in secret '${e.valueFrom.secretKeyRef.name}'>`);
        else if (e.valueFrom?.configMapKeyRef) w.field(l + 1, e.name, `<set to the key '${e.valueFrom.configMapKeyRef.key}' of config map '${e.valueFrom.configMapKeyRef.name}'>`);
        else w.field(l + 1, e.name, '');
      }
    }
    const mounts: Obj[] = c.volumeMounts ?? [];
    if (mounts.length === 0) w.field(l, 'Mounts', '<none>');
    else {
      w.write(l, 'Mounts:');
      for (const m of [...mounts].sort((a, b) => (a.mountPath < b.mountPath ? -1 : 1))) w.write(l + 1, `${m.mountPath} from ${m.name} (${m.readOnly ? 'ro' : 'rw'}${m.subPath ? `,path="${m.subPath}"` : ''})`);
    }
  }
}

function volumes(w: DescribeWriter, level: number, vols: Obj[] | undefined): void {
  if (!vols || vols.length === 0) {
    w.field(level, 'Volumes', '<none>');
    return;
  }
  w.write(level, 'Volumes:');
  for (const v of vols) {
    w.write(level + 1, `${v.name}:`);
    const l = level + 2;
    if (v.emptyDir) {
      w.field(l, 'Type', 'EmptyDir (a temporary directory that shares a pod\'s lifetime)');
      w.field(l, 'Medium', v.emptyDir.medium ?? '');
      w.field(l, 'SizeLimit', v.emptyDir.sizeLimit ?? '<unset>');
    } else if (v.configMap) {
      w.field(l, 'Type', 'ConfigMap (a volume populated by a ConfigMap)');
      w.field(l, 'Name', v.configMap.name);
      w.field(l, 'Optional', v.configMap.optional ?? false);
    } else if (v.secret) {
      w.field(l, 'Type', 'Secret (a volume populated by a Secret)');
      w.field(l, 'SecretName', v.secret.secretName);
      w.field(l, 'Optional', v.secret.optional ?? false);
    } else if (v.hostPath) {
      w.field(l, 'Type', 'HostPath (bare host directory volume)');
      w.field(l, 'Path', v.hostPath.path);
      w.field(l, 'HostPathType', v.hostPath.type ?? '');
    } else if (v.persistentVolumeClaim) {
      w.field(l, 'Type', 'PersistentVolumeClaim (a reference to a PersistentVolumeClaim in the same namespace)');
      w.field(l, 'ClaimName', v.persistentVolumeClaim.claimName);
      w.field(l, 'ReadOnly', v.persistentVolumeClaim.readOnly ?? false);
    } else if (v.projected) {
      // As kubectl: one line or two per source; an unset optional prints as Go's <nil>.
      w.field(l, 'Type', 'Projected (a volume that contains injected data from multiple sources)');
      for (const src of (v.projected.sources ?? []) as Obj[]) {
        if (src.secret) {
          w.field(l, 'SecretName', src.secret.name);
          w.field(l, 'SecretOptionalName', src.secret.optional ?? '<nil>');
        } else if (src.downwardAPI) w.field(l, 'DownwardAPI', true);
        else if (src.configMap) {
          w.field(l, 'ConfigMapName', src.configMap.name);
          w.field(l, 'ConfigMapOptional', src.configMap.optional ?? '<nil>');
        } else if (src.serviceAccountToken) w.field(l, 'TokenExpirationSeconds', src.serviceAccountToken.expirationSeconds ?? 3600);
      }
    } else if (v.downwardAPI) {
      w.field(l, 'Type', 'DownwardAPI (a volume populated by information about the pod)');
      w.write(l, 'Items:');
      for (const item of (v.downwardAPI.items ?? []) as Obj[]) {
        if (item.fieldRef) w.write(l + 1, `${item.fieldRef.fieldPath} -> ${item.path}`);
        else if (item.resourceFieldRef) w.write(l + 1, `${item.resourceFieldRef.resource} -> ${item.path}`);
      }
    } else {
      const t = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
      w.field(l, 'Type', t);
    }
  }
}

function tolerations(w: DescribeWriter, level: number, tols: Obj[] | undefined): void {
  const text = (t: Obj) => {
    let s = t.key ?? '';
    if (t.operator === 'Exists' && !t.key) s = '';
    if (t.value) s += `=${t.value}`;
    if (t.effect) s += `:${t.effect}`;
    if (t.operator === 'Exists' && !t.key && !t.effect) s = 'op=Exists';
    else if (t.operator === 'Exists') s += ' op=Exists';
    if (t.tolerationSeconds !== undefined) s += ` for ${t.tolerationSeconds}s`;
    return s;
  };
  if (!tols?.length) w.field(level, 'Tolerations', '<none>');
  else tols.forEach((t, i) => (i === 0 ? w.field(level, 'Tolerations', text(t)) : w.write(level, `\t${text(t)}`)));
}

function podSpecTail(w: DescribeWriter, level: number, spec: Obj): void {
  volumes(w, level, spec.volumes);
}

/** The pod template part of deployments, replica sets and `rollout history --revision`. */
export function describePodTemplate(t: Obj, level = 0): string {
  const w = new DescribeWriter();
  writePodTemplate(w, level, t);
  return w.text();
}

function writePodTemplate(w: DescribeWriter, level: number, t: Obj): void {
  w.write(level, 'Pod Template:');
  w.map(level + 1, 'Labels', t?.metadata?.labels);
  if (t?.metadata?.annotations && Object.keys(t.metadata.annotations).length) annotations(w, level + 1, t);
  if (t?.spec?.serviceAccountName) w.field(level + 1, 'Service Account', t.spec.serviceAccountName);
  containers(w, level + 1, 'Init Containers', t?.spec?.initContainers, undefined, true);
  containers(w, level + 1, 'Containers', t?.spec?.containers, undefined, true);
  podSpecTail(w, level + 1, t?.spec ?? {});
  w.map(level + 1, 'Node-Selectors', t?.spec?.nodeSelector);
  tolerations(w, level + 1, t?.spec?.tolerations);
}

function qosClass(pod: Obj): string {
  if (pod.status?.qosClass) return pod.status.qosClass;
  const cs: Obj[] = pod.spec?.containers ?? [];
  const any = cs.some((c) => Object.keys(c.resources?.requests ?? {}).length || Object.keys(c.resources?.limits ?? {}).length);
  if (!any) return 'BestEffort';
  const guaranteed = cs.every((c) => ['cpu', 'memory'].every((r) => c.resources?.limits?.[r] !== undefined && (c.resources?.requests?.[r] ?? c.resources?.limits?.[r]) === c.resources?.limits?.[r]));
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

function conditionsTable(w: DescribeWriter, conds: Obj[] | undefined, cols: string[], cells: (c: Obj) => string[]): void {
  if (!conds?.length) return;
  w.write(0, 'Conditions:');
  w.write(1, cols.join('\t'));
  w.write(1, cols.map((c) => '-'.repeat(c.length)).join('\t'));
  for (const c of conds) w.write(1, cells(c).join('\t'));
}

export function describePod(pod: Obj, w: DescribeWriter, now: number): void {
  const m = pod.metadata ?? {};
  const spec = pod.spec ?? {};
  const st = pod.status ?? {};
  w.field(0, 'Name', m.name);
  w.field(0, 'Namespace', m.namespace);
  if (spec.priority !== undefined) w.field(0, 'Priority', spec.priority);
  if (spec.priorityClassName) w.field(0, 'Priority Class Name', spec.priorityClassName);
  if (spec.runtimeClassName) w.field(0, 'Runtime Class Name', spec.runtimeClassName);
  if (spec.serviceAccountName) w.field(0, 'Service Account', spec.serviceAccountName);
  w.field(0, 'Node', spec.nodeName ? `${spec.nodeName}/${st.hostIP ?? ''}` : '<none>');
  if (st.startTime) w.field(0, 'Start Time', rfc1123z(st.startTime));
  w.map(0, 'Labels', m.labels);
  annotations(w, 0, pod);
  if (m.deletionTimestamp) {
    w.field(0, 'Status', `Terminating (lasts ${since(m.deletionTimestamp, now)})`);
    w.field(0, 'Termination Grace Period', `${m.deletionGracePeriodSeconds ?? 0}s`);
  } else w.field(0, 'Status', st.phase ?? '');
  if (st.reason) w.field(0, 'Reason', st.reason);
  if (st.message) w.field(0, 'Message', st.message);
  w.field(0, 'IP', st.podIP ?? '');
  const ips: Obj[] = st.podIPs ?? [];
  if (ips.length === 0) w.field(0, 'IPs', '<none>');
  else {
    w.write(0, 'IPs:');
    for (const ip of ips) w.field(1, 'IP', ip.ip);
  }
  controlledBy(w, pod);
  if (st.nominatedNodeName) w.field(0, 'NominatedNodeName', st.nominatedNodeName);
  containers(w, 0, 'Init Containers', spec.initContainers, st.initContainerStatuses, false);
  containers(w, 0, 'Containers', spec.containers, st.containerStatuses, false);
  conditionsTable(w, st.conditions, ['Type', 'Status'], (c) => [c.type, c.status]);
  podSpecTail(w, 0, spec);
  w.field(0, 'QoS Class', qosClass(pod));
  w.map(0, 'Node-Selectors', spec.nodeSelector);
  tolerations(w, 0, spec.tolerations);
}

export function describeDeployment(d: Obj, w: DescribeWriter, related: { newRS?: Obj; oldRSs: Obj[] }): void {
  const m = d.metadata ?? {};
  const spec = d.spec ?? {};
  const st = d.status ?? {};
  w.field(0, 'Name', m.name);
  w.field(0, 'Namespace', m.namespace);
  w.field(0, 'CreationTimestamp', rfc1123z(m.creationTimestamp));
  w.map(0, 'Labels', m.labels);
  annotations(w, 0, d);
  w.field(0, 'Selector', selectorString(spec.selector));
  w.field(0, 'Replicas', `${spec.replicas ?? 1} desired | ${st.updatedReplicas ?? 0} updated | ${st.replicas ?? 0} total | ${st.availableReplicas ?? 0} available | ${st.unavailableReplicas ?? 0} unavailable`);
  w.field(0, 'StrategyType', spec.strategy?.type ?? 'RollingUpdate');
  w.field(0, 'MinReadySeconds', spec.minReadySeconds ?? 0);
  if ((spec.strategy?.type ?? 'RollingUpdate') === 'RollingUpdate') {
    const ru = spec.strategy?.rollingUpdate ?? {};
    w.field(0, 'RollingUpdateStrategy', `${ru.maxUnavailable ?? '25%'} max unavailable, ${ru.maxSurge ?? '25%'} max surge`);
  }
  writePodTemplate(w, 0, spec.template ?? {});
  conditionsTable(w, st.conditions, ['Type', 'Status', 'Reason'], (c) => [c.type, c.status, c.reason ?? '']);
  const rsText = (rs: Obj) => `${rs.metadata.name} (${rs.status?.replicas ?? 0}/${rs.spec?.replicas ?? 0} replicas created)`;
  if (related.oldRSs.length || related.newRS) {
    w.field(0, 'OldReplicaSets', related.oldRSs.length ? related.oldRSs.map(rsText).join(', ') : '<none>');
    w.field(0, 'NewReplicaSet', related.newRS ? rsText(related.newRS) : '<none>');
  }
}

export function selectorString(sel: Obj | undefined): string {
  if (!sel) return '<none>';
  const parts: string[] = [];
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) parts.push(`${k}=${v}`);
  for (const e of sel.matchExpressions ?? []) {
    if (e.operator === 'In') parts.push(`${e.key} in (${[...e.values].sort().join(',')})`);
    else if (e.operator === 'NotIn') parts.push(`${e.key} notin (${[...e.values].sort().join(',')})`);
    else if (e.operator === 'Exists') parts.push(e.key);
    else if (e.operator === 'DoesNotExist') parts.push(`!${e.key}`);
  }
  return parts.length ? parts.sort().join(',') : '<none>';
}

export function describeReplicaSet(rs: Obj, w: DescribeWriter, pods: Obj[]): void {
  const m = rs.metadata ?? {};
  w.field(0, 'Name', m.name);
  w.field(0, 'Namespace', m.namespace);
  w.field(0, 'Selector', selectorString(rs.spec?.selector));
  w.map(0, 'Labels', m.labels);
  annotations(w, 0, rs);
  controlledBy(w, rs);
  w.field(0, 'Replicas', `${rs.status?.replicas ?? 0} current / ${rs.spec?.replicas ?? 1} desired`);
  const count = (p: string) => pods.filter((x) => x.status?.phase === p).length;
  w.field(0, 'Pods Status', `${count('Running')} Running / ${count('Pending')} Waiting / ${count('Succeeded')} Succeeded / ${count('Failed')} Failed`);
  writePodTemplate(w, 0, rs.spec?.template ?? {});
  conditionsTable(w, rs.status?.conditions, ['Type', 'Status', 'Reason'], (c) => [c.type, c.status, c.reason ?? '']);
}

export function describeService(svc: Obj, w: DescribeWriter, endpoints: Obj | undefined): void {
  const m = svc.metadata ?? {};
  const spec = svc.spec ?? {};
  w.field(0, 'Name', m.name);
  w.field(0, 'Namespace', m.namespace);
  w.map(0, 'Labels', m.labels);
  annotations(w, 0, svc);
  w.field(0, 'Selector', Object.keys(spec.selector ?? {}).length ? Object.entries(spec.selector).map(([k, v]) => `${k}=${v}`).sort().join(',') : '<none>');
  w.field(0, 'Type', spec.type ?? 'ClusterIP');
  if (spec.ipFamilyPolicy) w.field(0, 'IP Family Policy', spec.ipFamilyPolicy);
  if (spec.ipFamilies?.length) w.field(0, 'IP Families', spec.ipFamilies.join(','));
  if (spec.type === 'ExternalName') w.field(0, 'External Name', spec.externalName);
  else {
    w.field(0, 'IP', spec.clusterIP ?? '');
    if (spec.clusterIPs?.length) w.field(0, 'IPs', spec.clusterIPs.join(','));
  }
  if (spec.externalIPs?.length) w.field(0, 'External IPs', spec.externalIPs.join(','));
  for (const p of spec.ports ?? []) {
    w.field(0, 'Port', `${p.name ?? '<unset>'}\t${p.port}/${p.protocol ?? 'TCP'}`);
    w.field(0, 'TargetPort', `${p.targetPort ?? p.port}/${p.protocol ?? 'TCP'}`);
    if (p.nodePort) w.field(0, 'NodePort', `${p.name ?? '<unset>'}\t${p.nodePort}/${p.protocol ?? 'TCP'}`);
    const eps: string[] = [];
    for (const s of endpoints?.subsets ?? []) {
      const port = (s.ports ?? []).find((x: Obj) => (x.name ?? '') === (p.name ?? '')) ?? (s.ports ?? [])[0];
      for (const a of s.addresses ?? []) eps.push(`${a.ip}:${port?.port ?? ''}`);
    }
    w.field(0, 'Endpoints', eps.length ? eps.join(',') : '<none>');
  }
  w.field(0, 'Session Affinity', spec.sessionAffinity ?? 'None');
  if (spec.externalTrafficPolicy) w.field(0, 'External Traffic Policy', spec.externalTrafficPolicy);
  if (spec.internalTrafficPolicy) w.field(0, 'Internal Traffic Policy', spec.internalTrafficPolicy);
}

export function describeNode(node: Obj, w: DescribeWriter, pods: Obj[], now: number): void {
  const m = node.metadata ?? {};
  const st = node.status ?? {};
  w.field(0, 'Name', m.name);
  const roles = Object.keys(m.labels ?? {}).filter((k) => k.startsWith('node-role.kubernetes.io/')).map((k) => k.slice('node-role.kubernetes.io/'.length));
  w.field(0, 'Roles', roles.length ? roles.sort().join(',') : '<none>');
  w.map(0, 'Labels', m.labels);
  annotations(w, 0, node);
  w.field(0, 'CreationTimestamp', rfc1123z(m.creationTimestamp));
  const taints: Obj[] = node.spec?.taints ?? [];
  if (!taints.length) w.field(0, 'Taints', '<none>');
  else taints.forEach((t, i) => (i === 0 ? w.field(0, 'Taints', `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`) : w.write(0, `\t${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`)));
  w.field(0, 'Unschedulable', Boolean(node.spec?.unschedulable));
  conditionsTable(w, st.conditions, ['Type', 'Status', 'LastHeartbeatTime', 'LastTransitionTime', 'Reason', 'Message'], (c) => [c.type, c.status, rfc1123z(c.lastHeartbeatTime), rfc1123z(c.lastTransitionTime), c.reason ?? '', c.message ?? '']);
  if (st.addresses?.length) {
    w.write(0, 'Addresses:');
    for (const a of st.addresses) w.field(1, a.type, a.address);
  }
  for (const [title, r] of [['Capacity', st.capacity], ['Allocatable', st.allocatable]] as const) {
    if (!r) continue;
    w.write(0, `${title}:`);
    for (const k of Object.keys(r).sort()) w.field(1, k, r[k]);
  }
  if (st.nodeInfo) {
    w.write(0, 'System Info:');
    const ni = st.nodeInfo;
    for (const [k, v] of [['Machine ID', ni.machineID], ['System UUID', ni.systemUUID], ['Boot ID', ni.bootID], ['Kernel Version', ni.kernelVersion], ['OS Image', ni.osImage], ['Operating System', ni.operatingSystem], ['Architecture', ni.architecture], ['Container Runtime Version', ni.containerRuntimeVersion], ['Kubelet Version', ni.kubeletVersion], ['Kube-Proxy Version', ni.kubeProxyVersion]]) w.field(1, k!, v ?? '');
  }
  if (node.spec?.podCIDR) w.field(0, 'PodCIDR', node.spec.podCIDR);
  if (node.spec?.podCIDRs?.length) w.field(0, 'PodCIDRs', node.spec.podCIDRs.join(','));
  const running = pods.filter((p) => p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed');
  w.write(0, `Non-terminated Pods:\t(${running.length} in total)`);
  if (running.length) {
    w.write(1, 'Namespace\tName\tCPU Requests\tCPU Limits\tMemory Requests\tMemory Limits\tAge');
    w.write(1, '---------\t----\t------------\t----------\t---------------\t-------------\t---');
    for (const p of running) {
      const sum = (kind: 'requests' | 'limits', r: string) => {
        const vals = (p.spec?.containers ?? []).map((c: Obj) => c.resources?.[kind]?.[r]).filter(Boolean);
        return vals.length ? vals.join('+') : '0';
      };
      w.write(1, [p.metadata.namespace, p.metadata.name, sum('requests', 'cpu'), sum('limits', 'cpu'), sum('requests', 'memory'), sum('limits', 'memory'), since(p.metadata.creationTimestamp, now)].join('\t'));
    }
  }
}

export function describeNamespace(ns: Obj, w: DescribeWriter): void {
  w.field(0, 'Name', ns.metadata?.name);
  w.map(0, 'Labels', ns.metadata?.labels);
  annotations(w, 0, ns);
  w.field(0, 'Status', ns.status?.phase ?? 'Active');
}

/** Access modes as kubectl abbreviates them (RWO, ROX, RWX, RWOP), in its order. */
function accessModes(modes: string[] | undefined): string {
  const short: [string, string][] = [['ReadWriteOnce', 'RWO'], ['ReadOnlyMany', 'ROX'], ['ReadWriteMany', 'RWX'], ['ReadWriteOncePod', 'RWOP']];
  return short.filter(([m]) => (modes ?? []).includes(m)).map(([, a]) => a).join(',');
}

/** `Status:`, or Terminating with how long the deletion has been going on. */
function storagePhase(w: DescribeWriter, o: Obj, now: number): void {
  if (o.metadata?.deletionTimestamp) w.field(0, 'Status', `Terminating (lasts ${since(o.metadata.deletionTimestamp, now)})`);
  else w.field(0, 'Status', o.status?.phase ?? '');
}

/** A PersistentVolumeClaim, with the pods of its namespace that mount it. */
export function describePersistentVolumeClaim(pvc: Obj, w: DescribeWriter, usedBy: string[], now: number): void {
  const m = pvc.metadata ?? {};
  const spec = pvc.spec ?? {};
  w.field(0, 'Name', m.name);
  w.field(0, 'Namespace', m.namespace);
  w.field(0, 'StorageClass', spec.storageClassName ?? m.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '');
  storagePhase(w, pvc, now);
  w.field(0, 'Volume', spec.volumeName ?? '');
  w.map(0, 'Labels', m.labels);
  annotations(w, 0, pvc);
  w.field(0, 'Finalizers', `[${(m.finalizers ?? []).join(' ')}]`);
  const bound = Boolean(spec.volumeName);
  w.field(0, 'Capacity', bound ? (pvc.status?.capacity?.storage ?? '0') : '');
  w.field(0, 'Access Modes', bound ? accessModes(pvc.status?.accessModes) : '');
  if (spec.volumeMode) w.field(0, 'VolumeMode', spec.volumeMode);
  if (usedBy.length === 0) w.field(0, 'Used By', '<none>');
  else usedBy.forEach((name, i) => (i === 0 ? w.field(0, 'Used By', name) : w.write(0, `\t${name}`)));
}

/** A PersistentVolume: its claim, policy, capacity, node affinity and source. */
export function describePersistentVolume(pv: Obj, w: DescribeWriter, now: number): void {
  const m = pv.metadata ?? {};
  const spec = pv.spec ?? {};
  w.field(0, 'Name', m.name);
  w.map(0, 'Labels', m.labels);
  annotations(w, 0, pv);
  w.field(0, 'Finalizers', `[${(m.finalizers ?? []).join(' ')}]`);
  w.field(0, 'StorageClass', spec.storageClassName ?? m.annotations?.['volume.beta.kubernetes.io/storage-class'] ?? '');
  storagePhase(w, pv, now);
  w.field(0, 'Claim', spec.claimRef ? `${spec.claimRef.namespace ?? ''}/${spec.claimRef.name ?? ''}` : '');
  w.field(0, 'Reclaim Policy', spec.persistentVolumeReclaimPolicy ?? '');
  w.field(0, 'Access Modes', accessModes(spec.accessModes));
  if (spec.volumeMode) w.field(0, 'VolumeMode', spec.volumeMode);
  w.field(0, 'Capacity', spec.capacity?.storage ?? '0');
  const required = spec.nodeAffinity?.required;
  if (!required) w.field(0, 'Node Affinity', '<none>');
  else {
    w.field(0, 'Node Affinity', '');
    const terms: Obj[] = required.nodeSelectorTerms ?? [];
    w.field(1, 'Required Terms', terms.length ? '' : '<none>');
    terms.forEach((term, i) => {
      const exprs: Obj[] = term.matchExpressions ?? [];
      if (exprs.length === 0) w.field(2, `Term ${i}`, '<none>');
      exprs.forEach((e, j) => {
        const text = `${e.key} ${String(e.operator ?? '').toLowerCase()}${e.values?.length ? ` [${e.values.join(', ')}]` : ''}`;
        if (j === 0) w.field(2, `Term ${i}`, text);
        else w.write(2, `\t${text}`);
      });
    });
  }
  w.field(0, 'Message', pv.status?.message ?? '');
  w.write(0, 'Source:');
  if (spec.hostPath) {
    w.field(2, 'Type', 'HostPath (bare host directory volume)');
    w.field(2, 'Path', spec.hostPath.path);
    w.field(2, 'HostPathType', spec.hostPath.type ?? '');
  } else if (spec.local) {
    w.field(2, 'Type', 'LocalVolume (a persistent volume backed by local storage on a node)');
    w.field(2, 'Path', spec.local.path);
  } else if (spec.nfs) {
    w.field(2, 'Type', 'NFS (an NFS mount that lasts the lifetime of a pod)');
    w.field(2, 'Server', spec.nfs.server);
    w.field(2, 'Path', spec.nfs.path);
    w.field(2, 'ReadOnly', Boolean(spec.nfs.readOnly));
  }
}

/** Name, namespace, labels and annotations, then a blank line: how ConfigMaps and Secrets begin. */
function dataObjectHeader(w: DescribeWriter, o: Obj): void {
  w.field(0, 'Name', o.metadata?.name);
  w.field(0, 'Namespace', o.metadata?.namespace);
  w.map(0, 'Labels', o.metadata?.labels);
  annotations(w, 0, o);
  w.write(0, '');
}

/** A ConfigMap: every key's value in full, binary keys by size (in key order; kubectl's is Go's random map order). */
export function describeConfigMap(cm: Obj, w: DescribeWriter): void {
  dataObjectHeader(w, cm);
  w.write(0, 'Data');
  w.write(0, '====');
  for (const k of Object.keys(cm.data ?? {}).sort()) {
    w.write(0, `${k}:`);
    w.write(0, '----');
    w.write(0, String(cm.data[k]));
    w.write(0, '');
  }
  w.write(0, '');
  w.write(0, 'BinaryData');
  w.write(0, '====');
  for (const k of Object.keys(cm.binaryData ?? {}).sort()) w.write(0, `${k}: ${Buffer.from(String(cm.binaryData[k]), 'base64').length} bytes`);
  w.write(0, '');
}

/** A Secret: its type and the size of each value (a service account token is shown whole), in key order. */
export function describeSecret(secret: Obj, w: DescribeWriter): void {
  dataObjectHeader(w, secret);
  w.field(0, 'Type', secret.type ?? '');
  w.write(0, '');
  w.write(0, 'Data');
  w.write(0, '====');
  for (const k of Object.keys(secret.data ?? {}).sort()) {
    const v = Buffer.from(String(secret.data[k]), 'base64');
    if (k === 'token' && secret.type === 'kubernetes.io/service-account-token') w.field(0, k, v.toString('utf8'));
    else w.field(0, k, `${v.length} bytes`);
  }
}

/** Every other kind: its fields, recursively, as kubectl's generic describer. */
export function describeGeneric(o: Obj, w: DescribeWriter): void {
  const m = o.metadata ?? {};
  w.field(0, 'Name', m.name);
  if (m.namespace) w.field(0, 'Namespace', m.namespace);
  w.map(0, 'Labels', m.labels);
  annotations(w, 0, o);
  w.field(0, 'API Version', o.apiVersion);
  for (const k of Object.keys(o).sort()) {
    if (k === 'apiVersion' || k === 'metadata') continue;
    writeValue(w, 0, capitalize(k), o[k]);
  }
}

function capitalize(k: string): string {
  return k.replace(/([a-z])([A-Z])/g, '$1 $2').replace(/^./, (c) => c.toUpperCase());
}

function writeValue(w: DescribeWriter, level: number, key: string, v: unknown): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    w.write(level, `${key}:`);
    for (const item of v) {
      if (item && typeof item === 'object') {
        const entries = Object.keys(item).sort();
        entries.forEach((k, i) => writeValue(w, level + 1, i === 0 ? k : k, (item as Obj)[k]));
      } else w.write(level + 1, String(item));
    }
    return;
  }
  if (typeof v === 'object') {
    w.write(level, `${key}:`);
    for (const k of Object.keys(v).sort()) writeValue(w, level + 1, capitalize(k), (v as Obj)[k]);
    return;
  }
  w.field(level, key, v);
}

/** The Events section. */
export function describeEvents(events: Obj[], w: DescribeWriter, now: number): void {
  if (events.length === 0) {
    w.field(0, 'Events', '<none>');
    return;
  }
  w.write(0, 'Events:');
  w.write(1, 'Type\tReason\tAge\tFrom\tMessage');
  w.write(1, '----\t------\t----\t----\t-------');
  const sorted = [...events].sort((a, b) => eventTime(a).localeCompare(eventTime(b)));
  for (const e of sorted) {
    const last = e.lastTimestamp ?? e.eventTime ?? e.metadata?.creationTimestamp;
    let age = since(last, now);
    if ((e.count ?? 1) > 1) age = `${age} (x${e.count} over ${since(e.firstTimestamp ?? last, now)})`;
    else if (e.series?.count > 1) age = `${since(e.series.lastObservedTime, now)} (x${e.series.count} over ${since(e.eventTime, now)})`;
    const from = e.source?.component ? (e.source.host ? `${e.source.component}, ${e.source.host}` : e.source.component) : e.reportingComponent ?? '';
    w.write(1, `${e.type ?? ''}\t${e.reason ?? ''}\t${age}\t${from}\t${String(e.message ?? '').trim()}`);
  }
}

export function eventTime(e: Obj): string {
  return String(e.lastTimestamp ?? e.eventTime ?? e.series?.lastObservedTime ?? e.firstTimestamp ?? e.metadata?.creationTimestamp ?? '');
}
