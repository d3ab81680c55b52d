import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, test } from 'vitest';
import { hostVariables, systemLayout } from './host-vars.js';
import { defaultClusterSpec, hostByName, planCluster } from './plan.js';
import { apiserverSecurityFlags } from './security.js';
import { expandCommand, parseUnit, templateVariables } from './template.js';
import { components, renderHostUnits } from './units.js';

const root = path.resolve(import.meta.dirname, '../..');
const plan = planCluster({ ...defaultClusterSpec, etcdMembers: 3, workers: 2 });
const render = (host: string, security: 'development' | 'pki' = 'development') => {
  const h = hostByName(plan, host);
  return renderHostUnits(root, h, hostVariables(plan, h, systemLayout('/opt/tkube'), security));
};
const flagsOf = (argv: string[]) => new Map(argv.filter((a) => a.startsWith('--')).map((a) => [a.slice(2).split('=')[0]!, a.includes('=') ? a.slice(a.indexOf('=') + 1) : 'true']));

describe('deploy/systemd units', () => {
  test('every unit uses only variables hostVariables gives', () => {
    const known = Object.keys(hostVariables(plan, plan.hosts[0]!, systemLayout(), 'development'));
    for (const c of components) {
      const text = fs.readFileSync(path.join(root, 'deploy/systemd', c.unit), 'utf8').split('\n').filter((l) => !l.startsWith('#')).join('\n');
      for (const v of templateVariables(text)) expect(known, `${c.unit} uses ${v}`).toContain(v);
    }
  });

  test('hosts run what their roles say, in start order', () => {
    expect(render('cp').map((u) => u.name)).toEqual(['etcd.service', 'tkube-apiserver.service', 'tkube-scheduler.service', 'tkube-controller-manager.service', 'tkube-kubelet.service', 'tkube-proxy.service']);
    expect(render('cp2').map((u) => u.name)).toEqual(['etcd.service', 'tkube-apiserver.service', 'tkube-scheduler.service', 'tkube-controller-manager.service']);
    expect(render('worker2').map((u) => u.name)).toEqual(['tkube-kubelet.service', 'tkube-proxy.service']);
  });

  test('a rendered unit file parses back to the command the lab runs', () => {
    for (const u of [...render('cp'), ...render('worker')]) {
      const back = parseUnit(u.name, u.text);
      expect(expandCommand(back.execStart, {}), u.name).toEqual(u.argv);
      expect(u.text).not.toMatch(/\$\{|\$[A-Z]/);
    }
  });

  test('the flags the issue asks for', () => {
    const by = (host: string, name: string) => flagsOf(render(host).find((u) => u.component === name)!.argv);
    expect(by('cp', 'scheduler').get('leader-elect')).toBe('true');
    const cm = by('cp', 'controller-manager');
    expect([cm.get('leader-elect'), cm.get('allocate-node-cidrs'), cm.get('cluster-cidr')]).toEqual(['true', 'true', '10.244.0.0/16']);
    const kubelet = by('worker', 'kubelet');
    expect([kubelet.get('node-ip'), kubelet.get('hostname-override'), kubelet.get('cluster-dns'), kubelet.get('container-runtime-endpoint')]).toEqual([
      hostByName(plan, 'worker').ip, 'worker', '10.96.0.10', 'unix:///var/run/docker.sock',
    ]);
    expect(by('worker', 'proxy').get('kubeconfig')).toBe('/etc/tkube/kube-proxy.kubeconfig');
    const etcd = by('cp3', 'etcd');
    expect(etcd.get('initial-cluster')?.split(',')).toHaveLength(3);
    const api = by('cp2', 'apiserver');
    expect(api.get('etcd-servers')?.split(',')[0]).toBe(`http://${hostByName(plan, 'cp2').ip}:2379`);
  });

  test('security: the development setting is anonymous + AlwaysAllow, pki is Node,RBAC with client certificates', () => {
    const dev = flagsOf(render('cp').find((u) => u.component === 'apiserver')!.argv);
    expect([dev.get('anonymous-auth'), dev.get('authorization-mode')]).toEqual(['true', 'AlwaysAllow']);
    const pki = flagsOf(render('cp', 'pki').find((u) => u.component === 'apiserver')!.argv);
    expect([pki.get('anonymous-auth'), pki.get('authorization-mode'), pki.get('client-ca-file')]).toEqual(['false', 'Node,RBAC', '/etc/tkube/pki/ca.crt']);
    expect(apiserverSecurityFlags('pki', '/p', 'cluster.local')).toContain('--enable-admission-plugins=NodeRestriction');
  });

  test('every flag of a built program is one the program has (programs not landed yet are skipped)', () => {
    for (const u of render('cp')) {
      const c = components.find((x) => x.name === u.component)!;
      if (!c.program) continue;
      const main = path.join(root, 'cmd', c.program, 'main.ts');
      if (!fs.existsSync(main)) continue;
      const source = fs.readFileSync(main, 'utf8');
      for (const name of flagsOf(u.argv).keys()) {
        if (u.component === 'apiserver' && apiserverSecurityFlags('pki', '', '').some((f) => f.startsWith(`--${name}=`)) && !source.includes(`'${name}'`)) continue;
        expect(source, `${c.program} --${name}`).toMatch(new RegExp(`['"]?${name}['"]?: flag\\(`));
      }
    }
  });
});

describe('deploy/addons/cluster-dns', () => {
  const docs = fs.readdirSync(path.join(root, 'deploy/addons/cluster-dns')).sort().flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(root, 'deploy/addons/cluster-dns', f), 'utf8')).map((d) => d.toJS()));
  const find = (kind: string) => docs.find((d) => d.kind === kind);

  test('a Deployment of 2 tkube-dns pods with dnsPolicy Default, /ready and /healthz on 8080', () => {
    const d = find('Deployment');
    expect(d.metadata.namespace).toBe('kube-system');
    expect(d.spec.replicas).toBe(2);
    const pod = d.spec.template.spec;
    expect(pod.dnsPolicy).toBe('Default');
    expect(pod.serviceAccountName).toBe(find('ServiceAccount').metadata.name);
    const c = pod.containers[0];
    expect(c.image).toBe('tkube/tkube:0.1.0');
    expect(c.command).toEqual(['node', '/opt/tkube/dist/cmd/tkube-dns/main.js', '--dns-port=5353', '--status-bind-address=0.0.0.0:8080']);
    expect([c.readinessProbe.httpGet.path, c.readinessProbe.httpGet.port, c.livenessProbe.httpGet.path, c.livenessProbe.httpGet.port]).toEqual(['/ready', 8080, '/healthz', 8080]);
  });

  test('the kube-dns Service at the kubelets\' --cluster-dns address, 53/UDP and 53/TCP to 5353', () => {
    const s = find('Service');
    expect(s.metadata.labels['k8s-app']).toBe('kube-dns');
    expect(s.spec.clusterIP).toBe(defaultClusterSpec.clusterDNS);
    expect(s.spec.ports).toEqual([
      { name: 'dns', port: 53, protocol: 'UDP', targetPort: 5353 },
      { name: 'dns-tcp', port: 53, protocol: 'TCP', targetPort: 5353 },
    ]);
  });

  test('RBAC: list and watch services and endpointslices, bound to the ServiceAccount', () => {
    const role = find('ClusterRole');
    expect(role.rules).toEqual(expect.arrayContaining([expect.objectContaining({ resources: ['services'], verbs: ['list', 'watch'] }), expect.objectContaining({ apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'] })]));
    expect(find('ClusterRoleBinding').subjects).toEqual([{ kind: 'ServiceAccount', name: 'kube-dns', namespace: 'kube-system' }]);
  });
});

describe('deploy/addons/node-network', () => {
  test('every kubelet (group system:nodes) may read every Node, for the routes to the other nodes\' podCIDRs', () => {
    const dir = path.join(root, 'deploy/addons/node-network');
    const docs = fs.readdirSync(dir).sort().flatMap((f) => parseAllDocuments(fs.readFileSync(path.join(dir, f), 'utf8')).map((d) => d.toJS()));
    const role = docs.find((d) => d.kind === 'ClusterRole');
    expect(role.rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list', 'watch'] }]);
    const binding = docs.find((d) => d.kind === 'ClusterRoleBinding');
    expect(binding.roleRef).toMatchObject({ kind: 'ClusterRole', name: role.metadata.name });
    expect(binding.subjects).toEqual([{ apiGroup: 'rbac.authorization.k8s.io', kind: 'Group', name: 'system:nodes' }]);
  });
});
