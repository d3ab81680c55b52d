/**
 * PodSecurity: enforces the Pod Security Standards per namespace, chosen by its labels
 *
 *   pod-security.kubernetes.io/enforce: privileged | baseline | restricted   refuse violating pods
 *   pod-security.kubernetes.io/warn:    ...                                  warn the client
 *   pod-security.kubernetes.io/audit:   ...                                  log
 *   pod-security.kubernetes.io/<mode>-version: latest | v1.<n>
 *
 * Pods are checked when created and when their spec changes; workload objects with a pod
 * template (deployments, jobs...) are only warned about and logged, never refused, as upstream.
 * Without labels every namespace is privileged (the defaults may be set otherwise).
 */
import type { Logger } from 'pino';
import type { KubeObject, Namespace, Pod } from '../../api/index.js';
import type { AdmissionAttributes, Registry } from '../../registry/index.js';
import type { AdmissionPlugin } from './chain.js';
import { admissionForbidden, lookup } from './lookup.js';
import { evaluate, formatViolations, levels, type Level } from './pod-security-policy.js';

export const podSecurityLabelPrefix = 'pod-security.kubernetes.io/';

export interface PodSecurityDefaults {
  enforce: Level;
  warn: Level;
  audit: Level;
  /** Namespaces never checked. */
  exemptNamespaces?: string[];
}

const templatePaths: Record<string, (o: KubeObject) => { spec?: Pod['spec']; metadata?: Pod['metadata'] } | undefined> = {
  '/replicationcontrollers': (o) => (o as any).spec?.template,
  '/podtemplates': (o) => (o as any).template,
  'apps/deployments': (o) => (o as any).spec?.template,
  'apps/replicasets': (o) => (o as any).spec?.template,
  'apps/statefulsets': (o) => (o as any).spec?.template,
  'apps/daemonsets': (o) => (o as any).spec?.template,
  'batch/jobs': (o) => (o as any).spec?.template,
  'batch/cronjobs': (o) => (o as any).spec?.jobTemplate?.spec?.template,
};

function levelOf(labels: Record<string, string>, mode: string, fallback: Level): { level: Level; version: string } {
  const raw = labels[`${podSecurityLabelPrefix}${mode}`];
  const v = labels[`${podSecurityLabelPrefix}${mode}-version`];
  const version = v && /^v1\.\d+$/.test(v) ? v : 'latest';
  if (raw === undefined) return { level: fallback, version };
  // An unknown level fails closed.
  return { level: (levels as string[]).includes(raw) ? (raw as Level) : 'restricted', version };
}

export function podSecurity(registry: Registry, log: Logger, defaults: PodSecurityDefaults = { enforce: 'privileged', warn: 'privileged', audit: 'privileged' }): AdmissionPlugin {
  const policyOf = async (namespace: string) => {
    const ns = await lookup<Namespace>(registry, '', 'namespaces', namespace, namespace);
    const labels = ns?.metadata.labels ?? {};
    return { enforce: levelOf(labels, 'enforce', defaults.enforce), warn: levelOf(labels, 'warn', defaults.warn), audit: levelOf(labels, 'audit', defaults.audit) };
  };

  const podTarget = (a: AdmissionAttributes): Pod | undefined => {
    if (a.group !== '' || a.resource !== 'pods' || !a.object) return undefined;
    if (a.operation === 'CREATE' && a.subresource === '') return a.object as Pod;
    if (a.operation === 'UPDATE' && (a.subresource === '' || a.subresource === 'ephemeralcontainers')) {
      // Only spec changes are checked again (labels, annotations and status are not security relevant).
      if (JSON.stringify((a.object as Pod).spec) === JSON.stringify((a.oldObject as Pod | undefined)?.spec)) return undefined;
      return a.object as Pod;
    }
    return undefined;
  };

  return {
    name: 'PodSecurity',
    async validate(a) {
      if (!a.namespace || (defaults.exemptNamespaces ?? []).includes(a.namespace)) return;
      const pod = podTarget(a);
      const template = pod ? undefined : a.subresource === '' && (a.operation === 'CREATE' || a.operation === 'UPDATE') && a.object ? templatePaths[`${a.group}/${a.resource}`]?.(a.object) : undefined;
      const spec = pod?.spec ?? template?.spec;
      if (!spec) return;
      const meta = pod?.metadata ?? template?.metadata ?? {};
      const policy = await policyOf(a.namespace);
      if (pod) {
        const v = evaluate(policy.enforce.level, spec, meta);
        if (v.length) throw admissionForbidden(a, `violates PodSecurity "${policy.enforce.level}:${policy.enforce.version}": ${formatViolations(v)}`);
      }
      const warn = evaluate(policy.warn.level, spec, meta);
      if (warn.length) a.warnings?.push(`would violate PodSecurity "${policy.warn.level}:${policy.warn.version}": ${formatViolations(warn)}`);
      // Workloads are measured against the enforce level too, as a warning.
      if (!pod && policy.enforce.level !== policy.warn.level) {
        const enf = evaluate(policy.enforce.level, spec, meta);
        if (enf.length) a.warnings?.push(`would violate PodSecurity "${policy.enforce.level}:${policy.enforce.version}": ${formatViolations(enf)}`);
      }
      const audit = evaluate(policy.audit.level, spec, meta);
      if (audit.length) log.info({ namespace: a.namespace, resource: a.resource, name: a.name, level: policy.audit.level, violations: formatViolations(audit) }, 'pod security audit violation');
    },
  };
}
