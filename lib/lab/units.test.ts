import fs from 'node:fs';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import { describe, expect, test } from 'vitest';
import { hostVariables, systemLayout } from './host-vars.js';
import { defaultClusterSpec, hostByName, planCluster } from './plan.js';
import { apiserverSecurityFlags, kubeletSecurityFlags } from './security.js';
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
    // Raised from upstream's 20/30, so that a Deployment's pods are not held back by the client's rate limit.
    expect([cm.get('kube-api-qps'), cm.get('kube-api-burst')]).toEqual(['100', '200']);
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

  test('kubelet API security: development lets the API server in anonymously; pki is certificates, webhooks and the node\'s own serving certificate', () => {
    const kubelet = (security: 'development' | 'pki') => flagsOf(render('worker', security).find((u) => u.component === 'kubelet')!.argv);
    const dev = kubelet('development');
    expect([dev.get('port'), dev.get('anonymous-auth'), dev.get('authorization-mode'), dev.get('read-only-port')]).toEqual(['10250', 'true', 'AlwaysAllow', '0']);
    const pki = kubelet('pki');
    expect(Object.fromEntries([...pki].filter(([k]) => /auth|tls|client-ca|read-only|streaming|^port$/.test(k)))).toEqual({
      port: '10250',
      'client-ca-file': '/etc/tkube/pki/ca.crt',
      'anonymous-auth': 'false',
      'authentication-token-webhook': 'true',
      'authorization-mode': 'Webhook',
      'tls-cert-file': '/etc/tkube/pki/kubelet-worker-serving.crt',
      'tls-private-key-file': '/etc/tkube/pki/kubelet-worker-serving.key',
      'read-only-port': '0',
      'streaming-connection-idle-timeout': '4h',
    });
    // The API server verifies that certificate and reaches kubelets by their node IP.
    const api = flagsOf(render('cp', 'pki').find((u) => u.component === 'apiserver')!.argv);
    expect(api.get('kubelet-certificate-authority')).toBe(pki.get('client-ca-file'));
    expect(api.get('kubelet-preferred-address-types')?.split(',')[0]).toBe('InternalIP');
    expect(kubeletSecurityFlags('pki', '/p', 'n1')).toContain('--tls-cert-file=/p/kubelet-n1-serving.crt');
  });

  test('pki: etcd serves clients and peers over TLS and asks both for an etcd CA certificate; the API server presents its etcd client certificate', () => {
    const etcd = flagsOf(render('cp2', 'pki').find((u) => u.component === 'etcd')!.argv);
    const ip = hostByName(plan, 'cp2').ip;
    expect(etcd.get('listen-client-urls')).toBe(`https://${ip}:2379,https://127.0.0.1:2379`);
    expect([etcd.get('advertise-client-urls'), etcd.get('listen-peer-urls'), etcd.get('initial-advertise-peer-urls')]).toEqual([`https://${ip}:2379`, `https://${ip}:2380`, `https://${ip}:2380`]);
    expect(etcd.get('initial-cluster')!.split(',').every((m) => /^cp\d?=https:\/\//.test(m))).toBe(true);
    expect([etcd.get('cert-file'), etcd.get('key-file'), etcd.get('client-cert-auth'), etcd.get('trusted-ca-file')]).toEqual(['/etc/tkube/pki/etcd-cp2.crt', '/etc/tkube/pki/etcd-cp2.key', 'true', '/etc/tkube/pki/etcd-ca.crt']);
    expect([etcd.get('peer-cert-file'), etcd.get('peer-key-file'), etcd.get('peer-client-cert-auth'), etcd.get('peer-trusted-ca-file')]).toEqual(['/etc/tkube/pki/etcd-cp2.crt', '/etc/tkube/pki/etcd-cp2.key', 'true', '/etc/tkube/pki/etcd-ca.crt']);
    const api = flagsOf(render('cp2', 'pki').find((u) => u.component === 'apiserver')!.argv);
    expect(api.get('etcd-servers')!.split(',').every((u) => u.startsWith('https://'))).toBe(true);
    expect([api.get('etcd-cafile'), api.get('etcd-certfile'), api.get('etcd-keyfile')]).toEqual(['/etc/tkube/pki/etcd-ca.crt', '/etc/tkube/pki/apiserver-etcd-client.crt', '/etc/tkube/pki/apiserver-etcd-client.key']);
    const cm = flagsOf(render('cp2', 'pki').find((u) => u.component === 'controller-manager')!.argv);
    expect([cm.get('service-account-private-key-file'), cm.get('root-ca-file'), cm.get('use-service-account-credentials')]).toEqual(['/etc/tkube/pki/sa.key', '/etc/tkube/pki/ca.crt', 'true']);
    // The development setting stays plain HTTP, without TLS flags.
    const dev = flagsOf(render('cp2').find((u) => u.component === 'etcd')!.argv);
    expect(dev.get('listen-client-urls')).toBe(`http://${ip}:2379,http://127.0.0.1:2379`);
    expect(dev.has('cert-file') || dev.has('client-cert-auth')).toBe(false);
  });

  test('every flag of a built program is one the program has (programs not landed yet are skipped)', () => {
    for (const u of [...render('cp'), ...render('cp', 'pki')]) {
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
