#!/usr/bin/env node
/** tkube-pki: the cluster CA, every component's certificate and kubeconfig, and the service account keys. */
import os from 'node:os';
import { flag, parseProgramFlags } from '../../lib/base/index.js';
import { ensurePKI, firstServiceIP } from '../../lib/pki/index.js';

function firstIPv4(): string {
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

/** name=address[;address...] pairs as nodes. */
function pkiNodes(pairs: Record<string, string>): { name: string; addresses: string[] }[] {
  return Object.entries(pairs).map(([name, addrs]) => ({ name, addresses: addrs.split(';').map((a) => a.trim()).filter(Boolean) }));
}

const specs = {
  dir: flag('string', '/etc/tkube/pki', 'Where certificates, keys, the service account key pair and the encryption config are written.'),
  'kubeconfig-dir': flag('string', '/etc/tkube', 'Where the kubeconfigs of the components and of the admin are written.'),
  'cluster-name': flag('string', 'tkube', 'Name of the cluster in kubeconfigs and of the CA.'),
  'apiserver-advertise-address': flag('string', '', 'Address kubeconfigs point at (default: the first non-loopback IPv4 address).'),
  'secure-port': flag('int', 6443, 'The API server secure port, for kubeconfigs.'),
  'service-cluster-ip-range': flag('string', '10.96.0.0/12', 'Service CIDR; its first address (the kubernetes Service) goes in the API server certificate.'),
  'cluster-domain': flag('string', 'cluster.local', 'DNS domain of the cluster (kubernetes.default.svc.<domain>).'),
  'apiserver-cert-extra-sans': flag('stringList', [], 'More DNS names or IPs for the API server certificate (lab addresses, a load balancer).'),
  nodes: flag('map', {}, 'Nodes as name=address[;address...] pairs, comma-separated (e.g. n1=10.0.0.11,n2=10.0.0.12): a kubelet client and serving certificate and kubeconfig each; their addresses also go in the API server certificate.'),
  'etcd-members': flag('map', {}, 'etcd members as name=address[;address...] pairs, comma-separated (e.g. cp=10.0.0.10): an etcd CA of its own, a serving and peer certificate per member (its addresses, 127.0.0.1, localhost) and the API server\'s etcd client certificate.'),
  'ca-days': flag('int', 3650, 'Lifetime of a new CA, in days.'),
  'cert-days': flag('int', 365, 'Lifetime of new certificates, in days.'),
  'renew-before-days': flag('int', 30, 'Renew certificates that expire within this many days.'),
  'key-algorithm': flag('string', 'rsa', 'Key type of certificates: rsa or ecdsa (P-256).', (v) => (v === 'rsa' || v === 'ecdsa' ? undefined : 'must be rsa or ecdsa')),
  'key-bits': flag('int', 2048, 'RSA key size.'),
  force: flag('bool', false, 'Renew every certificate (keeps the CA, keys, service account keys and encryption keys).'),
};

const { flags } = parseProgramFlags('tkube-pki', 'creates (idempotently) the PKI and kubeconfigs of a tkube cluster', specs);

try {
  const started = Date.now();
  const result = ensurePKI(
    {
      dir: flags.dir,
      kubeconfigDir: flags['kubeconfig-dir'],
      clusterName: flags['cluster-name'],
      apiserverAddress: flags['apiserver-advertise-address'] || firstIPv4(),
      securePort: flags['secure-port'],
      serviceIP: firstServiceIP(flags['service-cluster-ip-range']),
      clusterDomain: flags['cluster-domain'],
      extraSANs: flags['apiserver-cert-extra-sans'],
      nodes: pkiNodes(flags.nodes),
      etcdMembers: pkiNodes(flags['etcd-members']),
      caDays: flags['ca-days'],
      certDays: flags['cert-days'],
      renewBeforeDays: flags['renew-before-days'],
      keyAlgorithm: flags['key-algorithm'] as 'rsa' | 'ecdsa',
      keyBits: flags['key-bits'],
      force: flags.force,
    },
    (m) => process.stdout.write(`${m}\n`),
  );
  process.stdout.write(`[done] ${result.files.length} files in ${((Date.now() - started) / 1000).toFixed(1)}s; admin kubeconfig: ${result.kubeconfigs.admin}\n`);
} catch (err) {
  process.stderr.write(`tkube-pki: ${(err as Error).message}\n`);
  process.exit(1);
}
