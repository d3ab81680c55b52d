/**
 * The Pod Security Standards (privileged, baseline, restricted) as checks on a pod spec, after
 * upstream's pod-security-admission policy. Each check has upstream's id, reason and detail
 * wording; at the restricted level some checks replace their baseline counterparts.
 */
import type { Pod } from '../../api/index.js';

export type Level = 'privileged' | 'baseline' | 'restricted';
export const levels: Level[] = ['privileged', 'baseline', 'restricted'];

type Spec = NonNullable<Pod['spec']>;
type Container = Spec['containers'][number];
type Any = Record<string, any>;

export interface CheckResult {
  reason: string;
  detail: string;
}

interface Check {
  id: string;
  level: Exclude<Level, 'privileged'>;
  /** Baseline checks this one replaces at its level. */
  overrides?: string[];
  run(spec: Spec, meta: Pod['metadata']): CheckResult | undefined;
}

function containersOf(spec: Spec): Container[] {
  return [...(spec.initContainers ?? []), ...(spec.containers ?? []), ...((spec.ephemeralContainers ?? []) as Container[])];
}

const q = (xs: Iterable<string>) => [...xs].map((x) => JSON.stringify(x)).join(', ');
const plural = (n: number, one: string, many: string) => (n === 1 ? one : many);
const containerList = (names: string[]) => `${plural(names.length, 'container', 'containers')} ${q(names)}`;

const baselineCapabilities = new Set(['AUDIT_WRITE', 'CHOWN', 'DAC_OVERRIDE', 'FOWNER', 'FSETID', 'KILL', 'MKNOD', 'NET_BIND_SERVICE', 'SETFCAP', 'SETGID', 'SETPCAP', 'SETUID', 'SYS_CHROOT']);
const safeSysctls = new Set([
  'kernel.shm_rmid_forced', 'net.ipv4.ip_local_port_range', 'net.ipv4.ip_unprivileged_port_start', 'net.ipv4.tcp_syncookies', 'net.ipv4.ping_group_range',
  'net.ipv4.ip_local_reserved_ports', 'net.ipv4.tcp_keepalive_time', 'net.ipv4.tcp_fin_timeout', 'net.ipv4.tcp_keepalive_intvl', 'net.ipv4.tcp_keepalive_probes',
]);
const allowedSELinuxTypes = new Set(['', 'container_t', 'container_init_t', 'container_kvm_t', 'container_engine_t']);
const restrictedVolumeTypes = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

function volumeType(v: Any): string {
  return Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
}

const checks: Check[] = [
  {
    id: 'allowPrivilegeEscalation',
    level: 'restricted',
    run(spec) {
      const bad = containersOf(spec).filter((c) => c.securityContext?.allowPrivilegeEscalation !== false).map((c) => c.name);
      return bad.length ? { reason: 'allowPrivilegeEscalation != false', detail: `${containerList(bad)} must set securityContext.allowPrivilegeEscalation=false` } : undefined;
    },
  },
  {
    id: 'appArmorProfile',
    level: 'baseline',
    run(spec, meta) {
      const bad: string[] = [];
      if (spec.securityContext?.appArmorProfile?.type === 'Unconfined') bad.push('pod');
      for (const c of containersOf(spec)) if (c.securityContext?.appArmorProfile?.type === 'Unconfined') bad.push(`container ${JSON.stringify(c.name)}`);
      for (const [k, v] of Object.entries(meta.annotations ?? {})) {
        if (k.startsWith('container.apparmor.security.beta.kubernetes.io/') && v !== 'runtime/default' && !v.startsWith('localhost/')) bad.push(`annotation ${JSON.stringify(k)}`);
      }
      return bad.length ? { reason: 'forbidden AppArmor profile', detail: `${bad.join(', ')} must not use an Unconfined AppArmor profile` } : undefined;
    },
  },
  {
    id: 'capabilities_baseline',
    level: 'baseline',
    run(spec) {
      const bad: string[] = [];
      const caps = new Set<string>();
      for (const c of containersOf(spec)) {
        const extra = (c.securityContext?.capabilities?.add ?? []).filter((x) => !baselineCapabilities.has(x));
        if (extra.length) {
          bad.push(c.name);
          extra.forEach((x) => caps.add(x));
        }
      }
      return bad.length ? { reason: 'non-default capabilities', detail: `${containerList(bad)} must not include ${q([...caps].sort())} in securityContext.capabilities.add` } : undefined;
    },
  },
  {
    id: 'capabilities_restricted',
    level: 'restricted',
    overrides: ['capabilities_baseline'],
    run(spec) {
      const noDrop: string[] = [];
      const badAdd: string[] = [];
      const caps = new Set<string>();
      for (const c of containersOf(spec)) {
        if (!(c.securityContext?.capabilities?.drop ?? []).includes('ALL')) noDrop.push(c.name);
        const extra = (c.securityContext?.capabilities?.add ?? []).filter((x) => x !== 'NET_BIND_SERVICE');
        if (extra.length) {
          badAdd.push(c.name);
          extra.forEach((x) => caps.add(x));
        }
      }
      const details: string[] = [];
      if (noDrop.length) details.push(`${containerList(noDrop)} must set securityContext.capabilities.drop=["ALL"]`);
      if (badAdd.length) details.push(`${containerList(badAdd)} must not include ${q([...caps].sort())} in securityContext.capabilities.add`);
      return details.length ? { reason: 'unrestricted capabilities', detail: details.join('; ') } : undefined;
    },
  },
  {
    id: 'hostNamespaces',
    level: 'baseline',
    run(spec) {
      const set = (['hostNetwork', 'hostPID', 'hostIPC'] as const).filter((k) => spec[k] === true).map((k) => `${k}=true`);
      return set.length ? { reason: 'host namespaces', detail: set.join(', ') } : undefined;
    },
  },
  {
    id: 'hostPathVolumes',
    level: 'baseline',
    run(spec) {
      const bad = (spec.volumes ?? []).filter((v) => (v as Any).hostPath).map((v) => v.name);
      return bad.length ? { reason: 'hostPath volumes', detail: `${plural(bad.length, 'volume', 'volumes')} ${q(bad)}` } : undefined;
    },
  },
  {
    id: 'hostPorts',
    level: 'baseline',
    run(spec) {
      const bad: string[] = [];
      const ports = new Set<string>();
      for (const c of containersOf(spec)) {
        const hp = (c.ports ?? []).map((p) => p.hostPort).filter((p): p is number => !!p);
        if (hp.length) {
          bad.push(c.name);
          hp.forEach((p) => ports.add(String(p)));
        }
      }
      return bad.length ? { reason: 'hostPort', detail: `${containerList(bad)} ${plural(bad.length, 'uses', 'use')} ${plural(ports.size, 'hostPort', 'hostPorts')} ${[...ports].join(', ')}` } : undefined;
    },
  },
  {
    id: 'privileged',
    level: 'baseline',
    run(spec) {
      const bad = containersOf(spec).filter((c) => c.securityContext?.privileged === true).map((c) => c.name);
      return bad.length ? { reason: 'privileged', detail: `${containerList(bad)} must not set securityContext.privileged=true` } : undefined;
    },
  },
  {
    id: 'procMount',
    level: 'baseline',
    run(spec) {
      const bad = containersOf(spec).filter((c) => c.securityContext?.procMount !== undefined && c.securityContext.procMount !== 'Default').map((c) => c.name);
      return bad.length ? { reason: 'procMount', detail: `${containerList(bad)} must not set securityContext.procMount to "Unmasked"` } : undefined;
    },
  },
  {
    id: 'restrictedVolumes',
    level: 'restricted',
    overrides: ['hostPathVolumes'],
    run(spec) {
      const bad: string[] = [];
      const types = new Set<string>();
      for (const v of spec.volumes ?? []) {
        const t = volumeType(v as Any);
        if (!restrictedVolumeTypes.has(t)) {
          bad.push(v.name);
          types.add(t);
        }
      }
      return bad.length
        ? { reason: 'restricted volume types', detail: `${plural(bad.length, 'volume', 'volumes')} ${q(bad)} ${plural(bad.length, 'uses', 'use')} ${plural(types.size, 'restricted volume type', 'restricted volume types')} ${q([...types].sort())}` }
        : undefined;
    },
  },
  {
    id: 'runAsNonRoot',
    level: 'restricted',
    run(spec) {
      const pod = spec.securityContext?.runAsNonRoot;
      const details: string[] = [];
      if (pod === false) details.push('pod must not set securityContext.runAsNonRoot=false');
      const explicit = containersOf(spec).filter((c) => c.securityContext?.runAsNonRoot === false).map((c) => c.name);
      if (explicit.length) details.push(`${containerList(explicit)} must not set securityContext.runAsNonRoot=false`);
      if (pod !== true) {
        const implicit = containersOf(spec).filter((c) => c.securityContext?.runAsNonRoot === undefined).map((c) => c.name);
        if (implicit.length && pod === undefined) details.push(`pod or ${containerList(implicit)} must set securityContext.runAsNonRoot=true`);
      }
      return details.length ? { reason: 'runAsNonRoot != true', detail: details.join('; ') } : undefined;
    },
  },
  {
    id: 'runAsUser',
    level: 'restricted',
    run(spec) {
      const details: string[] = [];
      if (spec.securityContext?.runAsUser === 0) details.push('pod must not set runAsUser=0');
      const bad = containersOf(spec).filter((c) => c.securityContext?.runAsUser === 0).map((c) => c.name);
      if (bad.length) details.push(`${containerList(bad)} must not set runAsUser=0`);
      return details.length ? { reason: 'runAsUser=0', detail: details.join('; ') } : undefined;
    },
  },
  {
    id: 'seLinuxOptions',
    level: 'baseline',
    run(spec) {
      const bad: string[] = [];
      const problems = new Set<string>();
      const look = (o: Any | undefined, who: string) => {
        if (!o) return;
        let wrong = false;
        if (!allowedSELinuxTypes.has(o.type ?? '')) {
          problems.add(`type ${JSON.stringify(o.type)}`);
          wrong = true;
        }
        if (o.user) {
          problems.add(`user ${JSON.stringify(o.user)}`);
          wrong = true;
        }
        if (o.role) {
          problems.add(`role ${JSON.stringify(o.role)}`);
          wrong = true;
        }
        if (wrong) bad.push(who);
      };
      look(spec.securityContext?.seLinuxOptions, 'pod');
      for (const c of containersOf(spec)) look(c.securityContext?.seLinuxOptions, `container ${JSON.stringify(c.name)}`);
      return bad.length ? { reason: 'seLinuxOptions', detail: `${bad.join(', ')} set forbidden securityContext.seLinuxOptions: ${[...problems].join(', ')}` } : undefined;
    },
  },
  {
    id: 'seccompProfile_baseline',
    level: 'baseline',
    run(spec) {
      const bad: string[] = [];
      if (spec.securityContext?.seccompProfile?.type === 'Unconfined') bad.push('pod');
      const cs = containersOf(spec).filter((c) => c.securityContext?.seccompProfile?.type === 'Unconfined').map((c) => c.name);
      if (cs.length) bad.push(containerList(cs));
      return bad.length ? { reason: 'seccompProfile', detail: `${bad.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined"` } : undefined;
    },
  },
  {
    id: 'seccompProfile_restricted',
    level: 'restricted',
    overrides: ['seccompProfile_baseline'],
    run(spec) {
      const ok = (t: string | undefined) => t === 'RuntimeDefault' || t === 'Localhost';
      const podType = spec.securityContext?.seccompProfile?.type;
      const details: string[] = [];
      const explicitBad: string[] = [];
      if (podType !== undefined && !ok(podType)) explicitBad.push('pod');
      const badContainers = containersOf(spec).filter((c) => c.securityContext?.seccompProfile?.type !== undefined && !ok(c.securityContext.seccompProfile.type)).map((c) => c.name);
      if (badContainers.length) explicitBad.push(containerList(badContainers));
      if (explicitBad.length) details.push(`${explicitBad.join(' and ')} must not set securityContext.seccompProfile.type to "Unconfined"`);
      if (!ok(podType)) {
        const unset = containersOf(spec).filter((c) => c.securityContext?.seccompProfile?.type === undefined).map((c) => c.name);
        if (unset.length && podType === undefined) details.push(`pod or ${containerList(unset)} must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost"`);
      }
      return details.length ? { reason: 'seccompProfile', detail: details.join('; ') } : undefined;
    },
  },
  {
    id: 'sysctls',
    level: 'baseline',
    run(spec) {
      const bad = (spec.securityContext?.sysctls ?? []).map((s) => s.name).filter((n) => !safeSysctls.has(n));
      return bad.length ? { reason: 'forbidden sysctls', detail: bad.join(', ') } : undefined;
    },
  },
  {
    id: 'windowsHostProcess',
    level: 'baseline',
    run(spec) {
      const bad: string[] = [];
      if (spec.securityContext?.windowsOptions?.hostProcess) bad.push('pod');
      const cs = containersOf(spec).filter((c) => c.securityContext?.windowsOptions?.hostProcess).map((c) => c.name);
      if (cs.length) bad.push(containerList(cs));
      return bad.length ? { reason: 'hostProcess', detail: `${bad.join(' and ')} must not set securityContext.windowsOptions.hostProcess=true` } : undefined;
    },
  },
];

/** The violations of a pod spec at a level, in upstream's order (by check id). */
export function evaluate(level: Level, spec: Spec, meta: Pod['metadata']): CheckResult[] {
  if (level === 'privileged') return [];
  const active = checks.filter((c) => c.level === 'baseline' || level === 'restricted');
  const overridden = new Set(active.flatMap((c) => c.overrides ?? []));
  const out: CheckResult[] = [];
  for (const c of active) {
    if (overridden.has(c.id)) continue;
    const r = c.run(spec, meta);
    if (r) out.push(r);
  }
  return out;
}

export function formatViolations(results: CheckResult[]): string {
  return results.map((r) => `${r.reason} (${r.detail})`).join(', ');
}
