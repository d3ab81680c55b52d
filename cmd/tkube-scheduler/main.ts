#!/usr/bin/env node
/** tkube-scheduler: places pending pods on nodes. Flags follow kube-scheduler's names. */
import { createLogger, flag, levelForVerbosity, parseProgramFlags, runUntilSignalled } from '../../lib/base/index.js';
import { ConfigError, loadClientConfig } from '../../lib/client/index.js';
import { SchedulerServer, defaultSchedulerName } from '../../lib/scheduler/index.js';

const positive = (what: string) => (v: number) => (v > 0 ? undefined : `${what} must be positive`);

const specs = {
  kubeconfig: flag('string', '', 'Path to a kubeconfig file with the API server address and credentials.'),
  master: flag('string', '', 'The address of the API server (overrides the server in the kubeconfig).'),
  'kube-api-qps': flag('float', 1000, 'Requests per second to the API server (client-side limit). Upstream defaults to 50; tkube raises it so that a binding and an event per pod keep up with hundreds of pods per second.'),
  'kube-api-burst': flag('int', 2000, 'Burst of requests to the API server allowed above --kube-api-qps.'),
  'scheduler-name': flag('string', defaultSchedulerName, "Schedule the pods whose spec.schedulerName is this (the source of this scheduler's events, too)."),
  'leader-elect': flag('bool', true, 'Run leader election, so that of several replicas only the holder of the lease schedules.'),
  'leader-elect-lease-duration': flag('duration', 15_000, 'How long a standby waits after the last renewal it saw before taking over the lease.', positive('the lease duration')),
  'leader-elect-renew-deadline': flag('duration', 10_000, 'How long the leader keeps trying to renew before it stops leading; less than the lease duration.', positive('the renew deadline')),
  'leader-elect-retry-period': flag('duration', 2_000, 'Pause between tries to acquire or renew the lease.', positive('the retry period')),
  'leader-elect-resource-lock': flag('string', 'leases', 'The kind of lock object; only leases is supported.', (v) => (v === 'leases' ? undefined : 'only "leases" is supported')),
  'leader-elect-resource-namespace': flag('string', 'kube-system', 'Namespace of the lease.'),
  'leader-elect-resource-name': flag('string', 'kube-scheduler', 'Name of the lease.'),
  'bind-address': flag('string', '127.0.0.1', 'Address of the health and metrics endpoints.'),
  'secure-port': flag('int', 10259, 'Port of /healthz, /livez, /readyz and /metrics. tkube serves them over plain HTTP, so keep --bind-address on loopback; 0 disables them.', (v) =>
    v >= 0 && v <= 65535 ? undefined : 'must be a port number (0 disables)',
  ),
  'percentage-of-nodes-to-score': flag('int', 0, 'Share of nodes (percent) to find feasible before scoring; 0 adapts to the cluster size (50% minus 1% per 125 nodes, at least 5%), as upstream.', (v) =>
    v >= 0 && v <= 100 ? undefined : 'must be between 0 and 100',
  ),
  'pod-initial-backoff': flag('duration', 1_000, 'Backoff of a pod after its first failed attempt; it doubles per attempt.', positive('the backoff')),
  'pod-max-backoff': flag('duration', 10_000, 'Longest backoff of a pod between attempts.', positive('the backoff')),
  'pod-max-in-unschedulable-pods-duration': flag('duration', 300_000, 'How long an unschedulable pod waits for a helpful cluster event before it is retried anyway.', positive('the duration')),
  v: flag('int', 0, 'Log verbosity: 4 logs debug (every binding), 6 trace.'),
};

const { flags } = parseProgramFlags('tkube-scheduler', 'watches pending pods and binds each to the node that fits it best', specs);
const log = createLogger({ component: 'tkube-scheduler', level: levelForVerbosity(flags.v) });

if (flags['leader-elect'] && flags['leader-elect-renew-deadline'] >= flags['leader-elect-lease-duration']) {
  process.stderr.write('Error: --leader-elect-renew-deadline must be less than --leader-elect-lease-duration\n');
  process.exit(2);
}

let clientConfig;
try {
  clientConfig = loadClientConfig({ kubeconfig: flags.kubeconfig || undefined, master: flags.master || undefined });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`Error: ${err.message}\n`);
    process.exit(2);
  }
  throw err;
}

const server = new SchedulerServer({
  clientConfig,
  qps: flags['kube-api-qps'],
  burst: flags['kube-api-burst'],
  schedulerName: flags['scheduler-name'],
  leaderElection: flags['leader-elect']
    ? {
        leaseDurationMs: flags['leader-elect-lease-duration'],
        renewDeadlineMs: flags['leader-elect-renew-deadline'],
        retryPeriodMs: flags['leader-elect-retry-period'],
        resourceNamespace: flags['leader-elect-resource-namespace'],
        resourceName: flags['leader-elect-resource-name'],
      }
    : undefined,
  healthBindAddress: flags['bind-address'],
  healthPort: flags['secure-port'] === 0 ? undefined : flags['secure-port'],
  percentageOfNodesToScore: flags['percentage-of-nodes-to-score'],
  podInitialBackoffMs: flags['pod-initial-backoff'],
  podMaxBackoffMs: flags['pod-max-backoff'],
  podMaxInUnschedulablePodsDurationMs: flags['pod-max-in-unschedulable-pods-duration'],
  log,
});

await runUntilSignalled(server, log);
