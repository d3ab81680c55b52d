#!/usr/bin/env node
/** tkube-controller-manager: runs the cluster's controllers. Flags follow kube-controller-manager's names. */
import crypto from 'node:crypto';
import fs from 'node:fs';
import { createLogger, flag, levelForVerbosity, parseProgramFlags, runUntilSignalled } from '../../lib/base/index.js';
import { ConfigError, RESTClient, loadClientConfig } from '../../lib/client/index.js';
import { ControllerManager, ControllerSelectionError, allControllers, selectControllers } from '../../lib/controllers/manager.js';

const isLoopback = (a: string) => a === 'localhost' || a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a);
const positive = (v: number) => (v > 0 ? undefined : 'must be greater than 0');

const specs = {
  controllers: flag('stringList', ['*'], "Controllers to run: '*' runs those on by default, 'foo' enables foo, '-foo' disables foo. Known: " + allControllers().map((d) => d.name).join(', ') + '.'),
  kubeconfig: flag('string', '', 'Path to a kubeconfig file with the API server address and credentials.'),
  master: flag('string', '', 'The address of the API server (overrides the kubeconfig).'),
  'kube-api-qps': flag('float', 20, 'Requests per second to the API server.'),
  'kube-api-burst': flag('int', 30, 'Burst of requests to the API server.'),
  'use-service-account-credentials': flag('bool', false, 'Run each controller as its own service account in kube-system (deployment-controller, replicaset-controller, ...), with a token from the TokenRequest API, so that it may do only what its ClusterRole system:controller:<name> allows. The shared informers, events and leader election keep the --kubeconfig identity.'),
  'leader-elect': flag('bool', true, 'Campaign for leadership before running controllers, so that several replicas can run with one active.'),
  'leader-elect-lease-duration': flag('duration', 15_000, 'How long standby replicas wait after the last renewal before taking over.', positive),
  'leader-elect-renew-deadline': flag('duration', 10_000, 'How long the leader keeps trying to renew before it stops leading.', positive),
  'leader-elect-retry-period': flag('duration', 2_000, 'Pause between attempts to acquire or renew the lease.', positive),
  'leader-elect-resource-lock': flag('string', 'leases', 'The kind of lock object (only leases is supported).', (v) => (v === 'leases' ? undefined : 'only "leases" is supported')),
  'leader-elect-resource-name': flag('string', 'kube-controller-manager', 'Name of the Lease used for leader election.'),
  'leader-elect-resource-namespace': flag('string', 'kube-system', 'Namespace of the Lease used for leader election.'),
  'bind-address': flag('string', '127.0.0.1', 'Address of the healthz and metrics port. tkube serves it as plain HTTP without authentication for now, so only loopback addresses are accepted.', (v) =>
    isLoopback(v) ? undefined : `${v} is not a loopback address; the healthz/metrics port is plain HTTP without authentication`,
  ),
  'secure-port': flag('int', 10257, 'Port serving /healthz, /livez, /readyz and /metrics (plain HTTP in tkube for now); 0 disables it.'),
  'root-ca-file': flag('string', '', 'CA bundle published to every namespace as the kube-root-ca.crt ConfigMap (default: the CA of --kubeconfig).'),
  'service-account-private-key-file': flag('string', '', 'PEM private key (RSA or EC) that signs the tokens of service account token Secrets; without it the serviceaccount-token controller does not run.'),
  'cluster-signing-cert-file': flag('string', '', 'PEM CA certificate the csrsigning controller issues cluster-scoped certificates with (the kubernetes.io/kube-apiserver-client, kube-apiserver-client-kubelet and kubelet-serving signers); without it and --cluster-signing-key-file csrsigning does not run.'),
  'cluster-signing-key-file': flag('string', '', 'PEM private key of --cluster-signing-cert-file.'),
  'cluster-signing-duration': flag('duration', 8760 * 3600_000, 'The longest validity of certificates csrsigning issues; spec.expirationSeconds may ask for less.', positive),
  'concurrent-serviceaccount-token-syncs': flag('int', 5, 'Service account token Secrets filled in at once.', positive),
  'cluster-cidr': flag('string', '', 'CIDR range of pod IPs in the cluster; node podCIDRs are carved from it (needs --allocate-node-cidrs).'),
  'allocate-node-cidrs': flag('bool', false, 'Allocate a podCIDR to every node from --cluster-cidr.'),
  'node-cidr-mask-size': flag('int', 24, 'Prefix length of each node podCIDR.'),
  'service-cluster-ip-range': flag('string', '10.96.0.0/12', 'CIDR range of Service cluster IPs; never handed out as a node podCIDR.'),
  'node-monitor-period': flag('duration', 5_000, 'How often node health is checked.', positive),
  'node-monitor-grace-period': flag('duration', 40_000, 'How long a node may go without a heartbeat (status or Lease) before it is marked Unknown.', positive),
  'node-startup-grace-period': flag('duration', 60_000, 'How long a node that has never posted status may stay silent before it is marked Unknown.', positive),
  'node-eviction-rate': flag('float', 0.1, 'Nodes per second whose pods may be evicted (tainted NoExecute), per zone, when the zone is healthy.'),
  'secondary-node-eviction-rate': flag('float', 0.01, 'The same rate for a large zone that is partially disrupted.'),
  'large-cluster-size-threshold': flag('int', 50, 'Zones with more nodes than this keep evicting (slowly) when partially disrupted.'),
  'unhealthy-zone-threshold': flag('float', 0.55, 'Share of not-ready nodes (at least 3) that makes a zone partially disrupted.'),
  'terminated-pod-gc-threshold': flag('int', 12500, 'Terminated pods kept before the pod garbage collector deletes the oldest; 0 or less disables that.'),
  'enable-hostpath-provisioner': flag('bool', false, 'Provision hostPath volumes under /tmp/hostpath_pv for claims of StorageClasses whose provisioner is kubernetes.io/host-path. For clusters on one machine only: the folder is made where the controller manager runs.'),
  'pvclaimbinder-sync-period': flag('duration', 15_000, 'How often the persistentvolume-binder looks at every claim and volume again.', positive),
  'enable-garbage-collector': flag('bool', true, 'Run the garbage collector (cascading deletion, dangling dependents).'),
  'max-endpoints-per-slice': flag('int', 100, 'Endpoints in one EndpointSlice at most.', (v) => (v >= 1 && v <= 1000 ? undefined : 'must be between 1 and 1000')),
  'concurrent-endpoint-syncs': flag('int', 5, 'Services whose Endpoints are synced at once.', positive),
  'concurrent-service-endpoint-syncs': flag('int', 5, 'Services whose EndpointSlices are synced at once.', positive),
  'mirroring-max-endpoints-per-subset': flag('int', 1000, 'Addresses of one Endpoints subset mirrored into EndpointSlices at most (for Services without a selector).', (v) => (v >= 1 && v <= 1000 ? undefined : 'must be between 1 and 1000')),
  'mirroring-concurrent-service-endpoint-syncs': flag('int', 5, 'Endpoints objects mirrored into EndpointSlices at once.', positive),
  'concurrent-gc-syncs': flag('int', 20, 'Garbage collector workers.', positive),
  'concurrent-namespace-syncs': flag('int', 10, 'Namespaces deleted at once.', positive),
  'concurrent-ttl-after-finished-syncs': flag('int', 5, 'TTL-after-finished workers.', positive),
  'concurrent-replicaset-syncs': flag('int', 5, 'ReplicaSets synced at once.', positive),
  'concurrent-rc-syncs': flag('int', 5, 'ReplicationControllers synced at once.', positive),
  'concurrent-deployment-syncs': flag('int', 5, 'Deployments synced at once.', positive),
  'concurrent-daemonset-syncs': flag('int', 2, 'DaemonSets synced at once.', positive),
  'concurrent-statefulset-syncs': flag('int', 5, 'StatefulSets synced at once.', positive),
  'concurrent-job-syncs': flag('int', 5, 'Jobs synced at once.', positive),
  'concurrent-cron-job-syncs': flag('int', 5, 'CronJobs synced at once.', positive),
  'concurrent-horizontal-pod-autoscaler-syncs': flag('int', 5, 'HorizontalPodAutoscalers synced at once.', positive),
  'horizontal-pod-autoscaler-sync-period': flag('duration', 15_000, 'How often each HorizontalPodAutoscaler reads its metrics and rescales its target.', positive),
  'horizontal-pod-autoscaler-tolerance': flag('float', 0.1, 'How far the ratio of a metric to its target must move from 1.0 before the autoscaler rescales.', (v) => (v >= 0 ? undefined : 'must not be negative')),
  'horizontal-pod-autoscaler-downscale-stabilization': flag('duration', 300_000, 'How far back the autoscaler looks when scaling down: the highest recommendation of this window wins (spec.behavior.scaleDown.stabilizationWindowSeconds overrides it).', (v) => (v >= 0 ? undefined : 'must not be negative')),
  'horizontal-pod-autoscaler-cpu-initialization-period': flag('duration', 300_000, 'After a pod starts, its cpu samples count only once it is ready and measured over a whole window since.', (v) => (v >= 0 ? undefined : 'must not be negative')),
  'horizontal-pod-autoscaler-initial-readiness-delay': flag('duration', 30_000, 'After a pod starts, readiness changes within this delay are taken as its first readiness (an unready pod that never was ready is left out of cpu samples).', (v) => (v >= 0 ? undefined : 'must not be negative')),
  v: flag('int', 0, 'Log verbosity: 4 logs debug, 6 trace.'),
};

const program = 'tkube-controller-manager';
const { flags } = parseProgramFlags(program, 'runs the controllers that drive the cluster toward its desired state', specs);

function fail(message: string): never {
  process.stderr.write(`Error: ${message}\nRun '${program} --help' for usage.\n`);
  process.exit(2);
}

if (flags['allocate-node-cidrs'] && !flags['cluster-cidr']) fail('--allocate-node-cidrs needs --cluster-cidr');
if (flags['leader-elect-lease-duration'] <= flags['leader-elect-renew-deadline']) fail('--leader-elect-lease-duration must be greater than --leader-elect-renew-deadline');
try {
  selectControllers(allControllers(), flags.controllers);
} catch (err) {
  if (err instanceof ControllerSelectionError) fail(`--controllers: ${err.message}`);
  throw err;
}

if (!flags['cluster-signing-cert-file'] !== !flags['cluster-signing-key-file']) fail('--cluster-signing-cert-file and --cluster-signing-key-file must be given together');
let clusterSigning: { certPEM: string; keyPEM: string; durationMs: number } | undefined;
try {
  if (flags['cluster-signing-cert-file']) {
    const certPEM = fs.readFileSync(flags['cluster-signing-cert-file'], 'utf8');
    const keyPEM = fs.readFileSync(flags['cluster-signing-key-file'], 'utf8');
    if (!new crypto.X509Certificate(certPEM).checkPrivateKey(crypto.createPrivateKey(keyPEM))) throw new Error('the key does not match the certificate');
    clusterSigning = { certPEM, keyPEM, durationMs: flags['cluster-signing-duration'] };
  }
} catch (err) {
  fail(`--cluster-signing-cert-file/--cluster-signing-key-file: ${(err as Error).message}`);
}

const log = createLogger({ component: program, level: levelForVerbosity(flags.v) });
let client: RESTClient;
let rootCA = '';
let serviceAccountPrivateKey = '';
try {
  serviceAccountPrivateKey = flags['service-account-private-key-file'] ? fs.readFileSync(flags['service-account-private-key-file'], 'utf8') : '';
  if (serviceAccountPrivateKey) crypto.createPrivateKey(serviceAccountPrivateKey);
} catch (err) {
  fail(`--service-account-private-key-file: ${(err as Error).message}`);
}
try {
  const config = loadClientConfig({ kubeconfig: flags.kubeconfig || undefined, master: flags.master || undefined });
  rootCA = flags['root-ca-file'] ? fs.readFileSync(flags['root-ca-file'], 'utf8') : (config.caData?.toString('utf8') ?? '');
  client = new RESTClient({
    config,
    component: 'controller-manager',
    qps: flags['kube-api-qps'],
    burst: flags['kube-api-burst'],
    log,
  });
} catch (err) {
  if (err instanceof ConfigError) fail(err.message);
  if ((err as NodeJS.ErrnoException).code === 'ENOENT') fail(`--root-ca-file: ${(err as Error).message}`);
  throw err;
}

const manager = new ControllerManager({
  client,
  descriptors: allControllers(),
  controllers: flags.controllers,
  options: {
    rootCA,
    serviceAccountPrivateKey,
    clusterSigning,
    clusterCIDR: flags['cluster-cidr'],
    allocateNodeCIDRs: flags['allocate-node-cidrs'],
    nodeCIDRMaskSize: flags['node-cidr-mask-size'],
    serviceClusterIPRange: flags['service-cluster-ip-range'],
    nodeMonitorPeriodMs: flags['node-monitor-period'],
    nodeMonitorGracePeriodMs: flags['node-monitor-grace-period'],
    nodeStartupGracePeriodMs: flags['node-startup-grace-period'],
    nodeEvictionRate: flags['node-eviction-rate'],
    secondaryNodeEvictionRate: flags['secondary-node-eviction-rate'],
    largeClusterSizeThreshold: flags['large-cluster-size-threshold'],
    unhealthyZoneThreshold: flags['unhealthy-zone-threshold'],
    terminatedPodGCThreshold: flags['terminated-pod-gc-threshold'],
    enableGarbageCollector: flags['enable-garbage-collector'],
    pvClaimBinderSyncPeriodMs: flags['pvclaimbinder-sync-period'],
    enableHostPathProvisioner: flags['enable-hostpath-provisioner'],
    maxEndpointsPerSlice: flags['max-endpoints-per-slice'],
    mirroringMaxEndpointsPerSubset: flags['mirroring-max-endpoints-per-subset'],
    hpaSyncPeriodMs: flags['horizontal-pod-autoscaler-sync-period'],
    hpaTolerance: flags['horizontal-pod-autoscaler-tolerance'],
    hpaDownscaleStabilizationWindowMs: flags['horizontal-pod-autoscaler-downscale-stabilization'],
    hpaCPUInitializationPeriodMs: flags['horizontal-pod-autoscaler-cpu-initialization-period'],
    hpaInitialReadinessDelayMs: flags['horizontal-pod-autoscaler-initial-readiness-delay'],
    concurrentSyncsByController: {
      endpoint: flags['concurrent-endpoint-syncs'],
      endpointslice: flags['concurrent-service-endpoint-syncs'],
      endpointslicemirroring: flags['mirroring-concurrent-service-endpoint-syncs'],
      garbagecollector: flags['concurrent-gc-syncs'],
      namespace: flags['concurrent-namespace-syncs'],
      'serviceaccount-token': flags['concurrent-serviceaccount-token-syncs'],
      'ttl-after-finished': flags['concurrent-ttl-after-finished-syncs'],
      replicaset: flags['concurrent-replicaset-syncs'],
      replicationcontroller: flags['concurrent-rc-syncs'],
      deployment: flags['concurrent-deployment-syncs'],
      daemonset: flags['concurrent-daemonset-syncs'],
      statefulset: flags['concurrent-statefulset-syncs'],
      job: flags['concurrent-job-syncs'],
      cronjob: flags['concurrent-cron-job-syncs'],
      horizontalpodautoscaling: flags['concurrent-horizontal-pod-autoscaler-syncs'],
    },
  },
  leaderElection: {
    enabled: flags['leader-elect'],
    namespace: flags['leader-elect-resource-namespace'],
    name: flags['leader-elect-resource-name'],
    leaseDurationMs: flags['leader-elect-lease-duration'],
    renewDeadlineMs: flags['leader-elect-renew-deadline'],
    retryPeriodMs: flags['leader-elect-retry-period'],
  },
  useServiceAccountCredentials: flags['use-service-account-credentials'],
  serving: flags['secure-port'] > 0 ? { bindAddress: flags['bind-address'], port: flags['secure-port'] } : undefined,
  log,
});

await runUntilSignalled(manager, log);
