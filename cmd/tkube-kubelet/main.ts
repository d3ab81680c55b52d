#!/usr/bin/env node
/** tkube-kubelet: the node agent. Flags follow the kubelet's names. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger, flag, levelForVerbosity, parseProgramFlags, runUntilSignalled } from '../../lib/base/index.js';
import { loadClientConfig, RESTClient } from '../../lib/client/index.js';
import {
  clientCertificateAuthenticator, defaultPodInfraContainerImage, DockerRuntime, ExecaCommandRunner, Kubelet, kubeletAlwaysAllow, KubeletServer, kubeletVersion, parseTaint, serverHostFromHooks, WebhookAuthorizer,
  type SubjectAccessReviewStatus,
} from '../../lib/kubelet/index.js';

const percent = (v: number) => (v < 0 || v > 100 ? 'must be between 0 and 100' : undefined);

const specs = {
  kubeconfig: flag('string', '', 'Path to a kubeconfig file with the API server and credentials.'),
  master: flag('string', '', 'URL of the API server (overrides the server of --kubeconfig).'),
  'hostname-override': flag('string', '', "The node's name instead of the machine's hostname."),
  'node-ip': flag('string', '', "The node's IP address (InternalIP); default: the address of the default route's interface.", (v) => (v && !net.isIP(v) ? `${v} is not an IP address` : undefined)),
  'container-runtime-endpoint': flag('string', 'unix:///var/run/docker.sock', 'The Docker Engine API endpoint (a unix socket).', (v) => (/^(unix:\/\/)?\//.test(v) ? undefined : 'only unix sockets are supported (unix:///path)')),
  'root-dir': flag('string', '/var/lib/tkube-kubelet', 'Where the kubelet keeps pod folders, volumes and IP allocations.'),
  'pod-manifest-path': flag('string', '', 'A folder of pod manifests to run as static pods (empty: none).'),
  'pod-infra-container-image': flag('string', defaultPodInfraContainerImage, 'The pause image holding each pod sandbox.'),
  'cluster-dns': flag('stringList', [], 'Cluster DNS server addresses, written into pods with dnsPolicy ClusterFirst.', (v) => {
    const bad = v.find((x) => !net.isIP(x));
    return bad === undefined ? undefined : `${bad} is not an IP address`;
  }),
  'cluster-domain': flag('string', 'cluster.local', 'The cluster domain: pods search <ns>.svc.<domain>, svc.<domain> and <domain>.'),
  'cluster-cidr': flag('string', '', 'The pod address range of the whole cluster; pod traffic leaving it is masqueraded (empty: no masquerading rules).'),
  address: flag('string', '0.0.0.0', 'Address the kubelet API server listens on.'),
  port: flag('int', 10250, 'Port of the kubelet API server (logs, exec, attach, port-forward, stats), reported in the Node.'),
  'healthz-port': flag('int', 10248, 'Port of the local /healthz and /metrics endpoint (0 disables it).'),
  'healthz-bind-address': flag('string', '127.0.0.1', 'Address of the healthz endpoint.'),
  'node-labels': flag('map', {}, 'Labels added to the Node at registration (key=value pairs, comma-separated).'),
  'register-with-taints': flag('stringList', [], 'Taints of the Node at registration (key=value:Effect, comma-separated).', (v) => {
    try {
      v.forEach(parseTaint);
      return undefined;
    } catch (err) {
      return (err as Error).message;
    }
  }),
  'max-pods': flag('int', 110, 'Pods this node runs at most; more are rejected (OutOfpods).', (v) => (v < 1 ? 'must be at least 1' : undefined)),
  'node-status-update-frequency': flag('duration', 10_000, 'How often the node status is computed (written when it changed, or every 5 minutes).'),
  'sync-frequency': flag('duration', 60_000, 'How often every pod is synced even when nothing triggered it.'),
  'image-gc-high-threshold': flag('int', 85, 'Image filesystem usage (percent) above which unused images are removed.', percent),
  'image-gc-low-threshold': flag('int', 80, 'Image filesystem usage (percent) image garbage collection frees down to.', percent),
  'resolv-conf': flag('string', '/etc/resolv.conf', "The node's resolver configuration, used for dnsPolicy Default and as search domains."),
  'kube-api-qps': flag('int', 50, 'Requests per second to the API server.'),
  'kube-api-burst': flag('int', 100, 'Burst of requests to the API server.'),
  'event-qps': flag('int', 50, 'Events written per second at most (a rate limit of their own).'),
  'event-burst': flag('int', 100, 'Burst of event writes.'),
  'tls-cert-file': flag('string', '', 'Serving certificate of the kubelet API (--port); without it a self-signed one is made in --cert-dir.'),
  'tls-private-key-file': flag('string', '', 'Private key of --tls-cert-file.'),
  'cert-dir': flag('string', '', 'Where the self-signed serving certificate is kept (default <root-dir>/pki).'),
  'client-ca-file': flag('string', '', 'Trust client certificates signed by this CA (their CN is the user, O the groups).'),
  'anonymous-auth': flag('bool', true, 'Let requests to the kubelet API without credentials in as system:anonymous.'),
  'authorization-mode': flag('string', 'AlwaysAllow', 'How kubelet API requests are authorized: AlwaysAllow, or Webhook (a SubjectAccessReview to the API server).', (v) => (['AlwaysAllow', 'Webhook'].includes(v) ? undefined : 'must be AlwaysAllow or Webhook')),
  v: flag('int', 0, 'Log verbosity: 4 logs debug, 6 trace.'),
};

const { flags } = parseProgramFlags('tkube-kubelet', 'runs the pods bound to this node in Docker', specs);
if (flags['image-gc-low-threshold'] >= flags['image-gc-high-threshold']) {
  process.stderr.write(`Error: --image-gc-low-threshold (${flags['image-gc-low-threshold']}) must be below --image-gc-high-threshold (${flags['image-gc-high-threshold']})\n`);
  process.exit(2);
}
const log = createLogger({ component: 'tkube-kubelet', level: levelForVerbosity(flags.v) });
const nodeName = (flags['hostname-override'] || os.hostname()).toLowerCase();
const config = loadClientConfig({ kubeconfig: flags.kubeconfig || undefined, master: flags.master || undefined });
const client = new RESTClient({ config, component: 'kubelet', version: kubeletVersion, qps: flags['kube-api-qps'], burst: flags['kube-api-burst'], log: log.child({ part: 'client' }) });
const eventClient = new RESTClient({ config, component: 'kubelet', version: kubeletVersion, qps: flags['event-qps'], burst: flags['event-burst'], log: log.child({ part: 'event-client' }) });

const startTime = new Date();
const clientCA = flags['client-ca-file'] ? fs.readFileSync(flags['client-ca-file']) : undefined;
const authorizer =
  flags['authorization-mode'] === 'Webhook'
    ? new WebhookAuthorizer({ createReview: (body) => client.request<{ status?: SubjectAccessReviewStatus }>({ method: 'POST', path: '/apis/authorization.k8s.io/v1/subjectaccessreviews', body }) })
    : kubeletAlwaysAllow;

const kubelet = new Kubelet({
  client,
  eventClient,
  runtime: new DockerRuntime({ log: log.child({ part: 'runtime' }), socketPath: flags['container-runtime-endpoint'].replace(/^unix:\/\//, ''), podInfraContainerImage: flags['pod-infra-container-image'] }),
  runner: new ExecaCommandRunner(),
  log,
  nodeName,
  nodeIP: flags['node-ip'] || undefined,
  rootDir: flags['root-dir'],
  podManifestPath: flags['pod-manifest-path'] || undefined,
  podInfraContainerImage: flags['pod-infra-container-image'],
  clusterDNS: flags['cluster-dns'],
  clusterDomain: flags['cluster-domain'],
  clusterCIDR: flags['cluster-cidr'] || undefined,
  address: flags.address,
  port: flags.port,
  healthzPort: flags['healthz-port'],
  healthzBindAddress: flags['healthz-bind-address'],
  nodeLabels: flags['node-labels'],
  registerWithTaints: flags['register-with-taints'].map(parseTaint),
  maxPods: flags['max-pods'],
  nodeStatusUpdateFrequencyMs: flags['node-status-update-frequency'],
  syncFrequencyMs: flags['sync-frequency'],
  imageGCHighThresholdPercent: flags['image-gc-high-threshold'],
  imageGCLowThresholdPercent: flags['image-gc-low-threshold'],
  resolvConf: flags['resolv-conf'],
  server: (hooks, so) =>
    new KubeletServer({
      host: serverHostFromHooks(hooks, startTime),
      log: so.log,
      address: so.address,
      port: so.port,
      ...(flags['tls-cert-file'] ? { tlsCertFile: flags['tls-cert-file'], tlsPrivateKeyFile: flags['tls-private-key-file'] } : {}),
      certDir: flags['cert-dir'] || path.join(flags['root-dir'], 'pki'),
      ...(flags['node-ip'] ? { certAddresses: [flags['node-ip']] } : {}),
      ...(clientCA ? { clientCA, authenticators: [clientCertificateAuthenticator] } : {}),
      anonymousAuth: flags['anonymous-auth'],
      authorizer,
    }),
});

await runUntilSignalled(kubelet, log);
