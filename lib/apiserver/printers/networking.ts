/** Printers for networking.k8s.io/v1: Ingresses, IngressClasses and NetworkPolicies. */
import type { Ingress, IngressClass, NetworkPolicy } from '../../api/index.js';
import { age, ageColumn, nameColumn, registerPrinter, formatSelector } from './table.js';
import { loadBalancerAddresses } from './core.js';

/** HOSTS of an ingress: up to three rule hosts, `*` when no rule names one. */
export function ingressHosts(ing: Ingress): string {
  const rules = ing.spec?.rules ?? [];
  const max = 3;
  const list: string[] = [];
  let more = false;
  for (const rule of rules) {
    if (list.length === max) more = true;
    if (!more && rule.host) list.push(rule.host);
  }
  if (list.length === 0) return '*';
  return more ? `${list.join(',')} + ${rules.length - max} more...` : list.join(',');
}

registerPrinter('networking.k8s.io', 'ingresses', {
  columns: [
    nameColumn,
    { name: 'Class', type: 'string', description: 'IngressClass of the ingress.' },
    { name: 'Hosts', type: 'string', description: 'Hosts the rules match.' },
    { name: 'Address', type: 'string', description: 'Addresses of the load balancer.' },
    { name: 'Ports', type: 'string', description: 'Ports the ingress is served on (443 with TLS).' },
    ageColumn,
  ],
  row(o, now) {
    const ing = o as Ingress;
    const ports = (ing.spec?.tls ?? []).length ? '80, 443' : '80';
    return [ing.metadata.name, ing.spec?.ingressClassName ?? '<none>', ingressHosts(ing), loadBalancerAddresses(ing.status?.loadBalancer?.ingress), ports, age(ing.metadata.creationTimestamp, now)];
  },
});

registerPrinter('networking.k8s.io', 'ingressclasses', {
  columns: [
    nameColumn,
    { name: 'Controller', type: 'string', description: 'Controller that implements the class.' },
    { name: 'Parameters', type: 'string', description: 'Object with the settings of the class, as kind.group/name.' },
    ageColumn,
  ],
  row(o, now) {
    const ic = o as IngressClass;
    const p = ic.spec?.parameters;
    const params = p ? `${p.kind}${p.apiGroup !== undefined ? `.${p.apiGroup}` : ''}/${p.name}` : '<none>';
    return [ic.metadata.name, ic.spec?.controller ?? '', params, age(ic.metadata.creationTimestamp, now)];
  },
});

registerPrinter('networking.k8s.io', 'networkpolicies', {
  columns: [nameColumn, { name: 'Pod-Selector', type: 'string', description: 'Pods the policy applies to.' }, ageColumn],
  row(o, now) {
    const np = o as NetworkPolicy;
    return [np.metadata.name, formatSelector(np.spec?.podSelector ?? {}), age(np.metadata.creationTimestamp, now)];
  },
});
