#!/usr/bin/env node
/** tkube-kubelet: the node agent. Flags follow the kubelet's names. */
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createLogger, flag, levelForVerbosity, parseProgramFlags, runUntilSignalled } from '../../lib/base/index.js';
import { loadClientConfig, RESTClient } from '../../lib/client/index.js';
import {
  clientCertificateAuthenticator,
  defaultPodInfraContainerImage,
  DockerRuntime,
  ProcessCommandRunner,
  Kubelet,
  kubeletAlwaysAllow,
  kubeletVersion,
  oomScoreAdjMin,
  applyOwnOOMScoreAdj,
  probeOOMScoreAdjFloor,
  parseTaint,
  SubjectAccessReviewAuthorizer,
  TokenReviewAuthenticator,
  type KubeletAuthenticator,
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
  'seccomp-default': flag('bool', false, 'Run containers that name no seccomp profile under the runtime\'s default profile (RuntimeDefault) instead of Unconfined. Localhost profiles are files under <root-dir>/seccomp.'),
  'cluster-dns': flag('stringList', [], 'Cluster DNS server addresses, written into pods with dnsPolicy ClusterFirst.', (v) => {
    const bad = v.find((x) => !net.isIP(x));
    return bad === undefined ? undefined : `${bad} is not an IP address`;
  }),
  'cluster-domain': flag('string', 'cluster.local', 'The cluster domain: pods search <ns>.svc.<domain>, svc.<domain> and <domain>.'),
  'cluster-cidr': flag('string', '', 'The pod address range of the whole cluster; pod traffic leaving it is masqueraded (empty: no masquerading rules).'),
  address: flag('string', '0.0.0.0', 'Address the kubelet API (HTTPS) and the read-only port listen on.', (v) => (net.isIP(v) ? undefined : `${v} is not an IP address`)),
  port: flag('int', 10250, 'Port of the kubelet API (HTTPS: logs, exec, attach, port-forward, stats), reported in the Node for the API server.', (v) => (v < 0 || v > 65535 ? 'must be between 0 and 65535' : undefined)),
  'read-only-port': flag('int', 0, 'Port of the read-only endpoints (/pods, /stats/summary, /metrics) over plain HTTP with no authentication; 0 disables them (the default, as CIS 4.2.4 asks).', (v) => (v < 0 || v > 65535 ? 'must be between 0 and 65535' : undefined)),
  'tls-cert-file': flag('string', '', 'Serving certificate of the kubelet API (with --tls-private-key-file); unset: a self-signed one in --cert-dir.'),
  'tls-private-key-file': flag('string', '', 'Private key of --tls-cert-file.'),
  'cert-dir': flag('string', '', 'Where a self-signed serving certificate is kept when --tls-cert-file is unset (default <root-dir>/pki).'),
  'client-ca-file': flag('string', '', 'CA bundle: clients of the kubelet API presenting a certificate it signed are authenticated (CN = user, O = groups).'),
  'anonymous-auth': flag('bool', false, 'Let requests without credentials in as system:anonymous (then authorized like anyone). tkube defaults to false, as upstream recommends (CIS 4.2.1); upstream\'s command-line default is true.'),
  'authentication-token-webhook': flag('bool', false, 'Authenticate bearer tokens with a TokenReview to the API server.'),
  'authentication-token-webhook-cache-ttl': flag('duration', 120_000, 'How long TokenReview answers are cached.'),
  'authorization-mode': flag('string', 'Webhook', 'AlwaysAllow, or Webhook: each request is a SubjectAccessReview to the API server (verb on nodes/<subresource>). tkube defaults to Webhook, upstream\'s recommended setting; upstream\'s command-line default is AlwaysAllow.', (v) => (v === 'AlwaysAllow' || v === 'Webhook' ? undefined : 'must be AlwaysAllow or Webhook')),
  'authorization-webhook-cache-authorized-ttl': flag('duration', 300_000, 'How long allowed SubjectAccessReview answers are cached.'),
  'authorization-webhook-cache-unauthorized-ttl': flag('duration', 30_000, 'How long denied SubjectAccessReview answers are cached.'),
  'streaming-connection-idle-timeout': flag('duration', 4 * 3600_000, 'Exec, attach and port-forward connections idle this long are closed (0: never; CIS 4.2.5 asks for a limit).'),
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
  'oom-score-adj': flag('int', -999, "The kubelet's own OOM score adjustment, in [-1000, 1000].", (v) => (v < -1000 || v > 1000 ? 'must be within [-1000, 1000]' : undefined)),
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

if (!!flags['tls-cert-file'] !== !!flags['tls-private-key-file']) {
  process.stderr.write('Error: --tls-cert-file and --tls-private-key-file must be given together\n');
  process.exit(2);
}
const readIf = (flag: string, file: string): Buffer | undefined => {
  if (!file) return undefined;
  try {
    return fs.readFileSync(file);
  } catch (err) {
    process.stderr.write(`Error: --${flag}=${file}: ${(err as Error).message}\n`);
    process.exit(2);
  }
};
const clientCA = readIf('client-ca-file', flags['client-ca-file']);
// As upstream: client certificates first, then bearer tokens; requests with neither are anonymous only with --anonymous-auth.
const authenticators: KubeletAuthenticator[] = [
  ...(clientCA ? [clientCertificateAuthenticator] : []),
  ...(flags['authentication-token-webhook'] ? [new TokenReviewAuthenticator({ client, cacheTTLMs: flags['authentication-token-webhook-cache-ttl'] })] : []),
];
if (authenticators.length === 0 && !flags['anonymous-auth']) log.warn('the kubelet API accepts no credentials (no --client-ca-file, no --authentication-token-webhook, --anonymous-auth=false): every request but /healthz gets 401');
const authorizer =
  flags['authorization-mode'] === 'Webhook'
    ? new SubjectAccessReviewAuthorizer({ client, allowedTTLMs: flags['authorization-webhook-cache-authorized-ttl'], deniedTTLMs: flags['authorization-webhook-cache-unauthorized-ttl'] })
    : kubeletAlwaysAllow;

// As upstream, the kubelet lowers its own OOM score, and lives on (with a warning) where the
// kernel refuses. Containers never ask for less than the kernel takes: a kernel that refuses
// negative scores would fail every Guaranteed container (-997) at start.
const ownOOMError = applyOwnOOMScoreAdj(flags['oom-score-adj']);
if (ownOOMError) log.warn({ oomScoreAdj: flags['oom-score-adj'], err: ownOOMError }, 'could not set the OOM score adjustment of the kubelet');
const oomScoreAdjFloor = await probeOOMScoreAdjFloor();
if (oomScoreAdjFloor > oomScoreAdjMin) log.warn({ floor: oomScoreAdjFloor }, "this kernel refuses negative OOM score adjustments: Guaranteed pods' containers get 0 instead of -997");

const kubelet = new Kubelet({
  client,
  eventClient,
  runtime: new DockerRuntime({ log: log.child({ part: 'runtime' }), socketPath: flags['container-runtime-endpoint'].replace(/^unix:\/\//, ''), podInfraContainerImage: flags['pod-infra-container-image'] }),
  runner: new ProcessCommandRunner(),
  log,
  nodeName,
  nodeIP: flags['node-ip'] || undefined,
  rootDir: flags['root-dir'],
  podManifestPath: flags['pod-manifest-path'] || undefined,
  podInfraContainerImage: flags['pod-infra-container-image'],
  seccompDefault: flags['seccomp-default'],
  oomScoreAdjFloor,
  clusterDNS: flags['cluster-dns'],
  clusterDomain: flags['cluster-domain'],
  clusterCIDR: flags['cluster-cidr'] || undefined,
  address: flags.address,
  port: flags.port,
  readOnlyPort: flags['read-only-port'],
  server: {
    tlsCertFile: flags['tls-cert-file'] || undefined,
    tlsPrivateKeyFile: flags['tls-private-key-file'] || undefined,
    certDir: flags['cert-dir'] || path.join(flags['root-dir'], 'pki'),
    certAddresses: flags['node-ip'] ? [flags['node-ip']] : [],
    clientCA,
    authenticators,
    anonymousAuth: flags['anonymous-auth'],
    authorizer,
    streamingIdleTimeoutMs: flags['streaming-connection-idle-timeout'],
  },
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
});

await runUntilSignalled(kubelet, log);
