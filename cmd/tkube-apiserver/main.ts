#!/usr/bin/env node
/** tkube-apiserver: the only door to etcd. Flags follow kube-apiserver's names. */
import cluster from 'node:cluster';
import os from 'node:os';
import { createLogger, flag, levelForVerbosity, parseProgramFlags, runUntilSignalled } from '../../lib/base/index.js';
import { APIServer, defaultAdmissionPlugins, isLoopback } from '../../lib/apiserver/index.js';
import { reportServing, superviseWorkers, workerIndex, workersHealthCheck } from '../../lib/apiserver/workers.js';

const specs = {
  'etcd-servers': flag('stringList', ['http://127.0.0.1:2379'], 'etcd members to connect to, comma-separated (scheme://ip:port).'),
  'etcd-cafile': flag('string', '', 'SSL Certificate Authority file used to secure etcd communication (verifies the members\' serving certificates).'),
  'etcd-certfile': flag('string', '', 'SSL certification file used to secure etcd communication (the client certificate etcd asks for with --client-cert-auth).'),
  'etcd-keyfile': flag('string', '', 'SSL key file used to secure etcd communication (the key of --etcd-certfile).'),
  'etcd-prefix': flag('string', '/registry', 'The prefix of every key tkube writes to etcd.'),
  'service-cluster-ip-range': flag('string', '10.96.0.0/12', 'CIDR from which Service ClusterIPs are allocated.'),
  'service-node-port-range': flag('string', '30000-32767', 'Port range reserved for Services of type NodePort.'),
  'bind-address': flag('string', '0.0.0.0', 'Address the secure port listens on.'),
  'secure-port': flag('int', 6443, 'HTTPS port (0 disables it).'),
  'tls-cert-file': flag('string', '', 'Serving certificate (PEM). Without it a self-signed one is generated in --cert-dir.'),
  'tls-private-key-file': flag('string', '', 'Private key of --tls-cert-file.'),
  'cert-dir': flag('string', '/var/run/tkube', 'Where a generated self-signed certificate is kept.'),
  'insecure-port': flag('int', 0, 'Plain-HTTP port for development and tests: no authentication or authorization (0 disables it).'),
  'insecure-bind-address': flag('string', '127.0.0.1', 'Address of the insecure port; only loopback addresses are accepted.', (v) =>
    isLoopback(v) ? undefined : `${v} is not a loopback address; the insecure port may only listen on loopback`,
  ),
  'advertise-address': flag('string', '', 'Address published in the `kubernetes` Service endpoints (default: the first non-loopback IPv4 address).'),
  // ---- security (lib/apiserver/security.ts) ----
  'anonymous-auth': flag('bool', false, 'Treat requests without credentials on the secure port as system:anonymous (off in tkube, unlike upstream).'),
  'authorization-mode': flag('stringList', ['Node', 'RBAC'], 'Authorization modes for the secure port, in order: AlwaysAllow, AlwaysDeny, Node, RBAC.'),
  'enable-admission-plugins': flag('stringList', [], `Admission plugins to turn on in addition to the defaults (${defaultAdmissionPlugins.join(', ')}); e.g. NodeRestriction.`),
  'disable-admission-plugins': flag('stringList', [], 'Admission plugins to turn off.'),
  'enable-aggregator-routing': flag('bool', false, 'Send admission webhook calls for a Service to one of its ready endpoints instead of its cluster IP (which needs kube-proxy on this host).'),
  'client-ca-file': flag('string', '', 'CA bundle that signs client certificates; a verified certificate authenticates its CN as the user and its O values as groups.'),
  'token-auth-file': flag('string', '', 'Static bearer tokens, one per line: token,user,uid,"group1,group2".'),
  'service-account-key-file': flag('stringList', [], 'PEM files with keys (public, private or certificates) that verify service account tokens; comma-separated.'),
  'service-account-signing-key-file': flag('string', '', 'Private key (PEM) that signs service account tokens (TokenRequest and projected volumes).'),
  'service-account-issuer': flag('stringList', [], 'Issuer (iss) of service account tokens; the first names new tokens, all are accepted (default https://kubernetes.default.svc.cluster.local).'),
  'api-audiences': flag('stringList', [], 'Audiences a token must be for to authenticate (default: the service account issuers).'),
  'service-account-max-token-expiration': flag('duration', 0, 'Longest lifetime a TokenRequest may ask for (0: no limit).'),
  'service-account-jwks-uri': flag('string', '', 'Where issuer discovery (/.well-known/openid-configuration) says the token keys are (default: <issuer>/openid/v1/jwks).'),
  'encryption-provider-config': flag('string', '', 'EncryptionConfiguration file: which resources are encrypted in etcd, and with which keys.'),
  'kubelet-client-certificate': flag('string', '', 'Client certificate the API server presents to kubelets.'),
  'kubelet-client-key': flag('string', '', 'Private key of --kubelet-client-certificate.'),
  'kubelet-certificate-authority': flag('string', '', 'CA bundle that signs kubelet serving certificates.'),
  'kubelet-preferred-address-types': flag('stringList', ['Hostname', 'InternalDNS', 'InternalIP', 'ExternalDNS', 'ExternalIP'], 'Node address types tried, in order, to reach a kubelet.'),
  'event-ttl': flag('duration', 3_600_000, 'How long events are kept.'),
  'min-request-timeout': flag('int', 1800, 'Minimum watch timeout in seconds; each watch gets a random timeout between this and twice this.'),
  'request-timeout': flag('duration', 60_000, 'How long a non-watch request may take before it fails with 504.'),
  'max-requests-inflight': flag('int', 400, 'Read-only requests served at once before 429s.'),
  'max-mutating-requests-inflight': flag('int', 200, 'Mutating requests served at once before 429s.'),
  'default-watch-cache-size': flag('int', 1000, 'Changes per resource kept in memory for resuming watches.'),
  workers: flag('int', 1, 'API server processes sharing the ports, each a whole API server against the same etcd (Node runs JavaScript on one core per process); e.g. the number of cores.', (v) =>
    v >= 1 && v <= 64 ? undefined : 'must be between 1 and 64',
  ),
  v: flag('int', 0, 'Log verbosity: 3 logs every request (server errors are always logged), 4 debug, 6 trace.'),
};

const { flags } = parseProgramFlags('tkube-apiserver', 'serves the Kubernetes API over etcd', specs);
const rootLog = createLogger({ component: 'tkube-apiserver', level: levelForVerbosity(flags.v) });
if (flags.workers > 1 && cluster.isPrimary) await superviseWorkers({ count: flags.workers, log: rootLog });
const worker = workerIndex();
const log = worker ? rootLog.child({ worker }) : rootLog;
// A worker whose supervisor is gone serves nothing (the supervisor holds the ports): leave.
if (worker) process.on('disconnect', () => {
  log.error('the supervisor is gone; exiting');
  process.exit(1);
});

function firstIPv4(): string {
  for (const addrs of Object.values(os.networkInterfaces())) for (const a of addrs ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  return '127.0.0.1';
}

function newServer(): APIServer {
  try {
    return new APIServer(serverOptions());
  } catch (err) {
    // Bad flags or unreadable files: a clear line, not a stack.
    process.stderr.write(`tkube-apiserver: ${(err as Error).message}\n`);
    process.exit(1);
  }
}

const serverOptions = (): ConstructorParameters<typeof APIServer>[0] => ({
  etcdServers: flags['etcd-servers'],
  logRequests: flags.v >= 3,
  etcdCAFile: flags['etcd-cafile'],
  etcdCertFile: flags['etcd-certfile'],
  etcdKeyFile: flags['etcd-keyfile'],
  etcdPrefix: flags['etcd-prefix'],
  serviceClusterIPRange: flags['service-cluster-ip-range'],
  serviceNodePortRange: flags['service-node-port-range'],
  bindAddress: flags['bind-address'],
  securePort: flags['secure-port'],
  tlsCertFile: flags['tls-cert-file'],
  tlsPrivateKeyFile: flags['tls-private-key-file'],
  certDir: flags['cert-dir'],
  insecurePort: flags['insecure-port'],
  insecureBindAddress: flags['insecure-bind-address'],
  advertiseAddress: flags['advertise-address'] || (flags['bind-address'] !== '0.0.0.0' ? flags['bind-address'] : firstIPv4()),
  anonymousAuth: flags['anonymous-auth'],
  authorizationMode: flags['authorization-mode'],
  enableAdmissionPlugins: flags['enable-admission-plugins'],
  disableAdmissionPlugins: flags['disable-admission-plugins'],
  enableAggregatorRouting: flags['enable-aggregator-routing'],
  clientCAFile: flags['client-ca-file'],
  tokenAuthFile: flags['token-auth-file'],
  serviceAccountKeyFiles: flags['service-account-key-file'],
  serviceAccountSigningKeyFile: flags['service-account-signing-key-file'],
  serviceAccountIssuers: flags['service-account-issuer'],
  apiAudiences: flags['api-audiences'],
  serviceAccountMaxTokenExpirationSeconds: Math.round(flags['service-account-max-token-expiration'] / 1000),
  serviceAccountJWKSURI: flags['service-account-jwks-uri'],
  encryptionProviderConfig: flags['encryption-provider-config'],
  kubeletClientCertificate: flags['kubelet-client-certificate'],
  kubeletClientKey: flags['kubelet-client-key'],
  kubeletCertificateAuthority: flags['kubelet-certificate-authority'],
  kubeletPreferredAddressTypes: flags['kubelet-preferred-address-types'],
  eventTTLSeconds: Math.round(flags['event-ttl'] / 1000),
  minRequestTimeoutSeconds: flags['min-request-timeout'],
  requestTimeoutMs: flags['request-timeout'],
  maxRequestsInflight: flags['max-requests-inflight'],
  maxMutatingRequestsInflight: flags['max-mutating-requests-inflight'],
  watchCacheCapacity: flags['default-watch-cache-size'],
  onServing: reportServing,
  extraHealthChecks: worker ? [workersHealthCheck] : [],
  log,
});
const server = newServer();

await runUntilSignalled(server, log);
