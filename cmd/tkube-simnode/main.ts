#!/usr/bin/env node
/** tkube-simnode: registers simulated nodes that heartbeat and run pods without containers (for benchmarks and the lab). */
import type { Taint } from '../../lib/api/index.js';
import { createLogger, flag, levelForVerbosity, parseProgramFlags, runUntilSignalled } from '../../lib/base/index.js';
import { ConfigError, RESTClient, loadClientConfig } from '../../lib/client/index.js';
import { SimNodes, outcomes, outcomeAnnotation, runDurationAnnotation, startDelayAnnotation, type Outcome, type SimNodeSpec } from '../../lib/simnode/index.js';

const taintRe = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/;

const specs = {
  kubeconfig: flag('string', '', 'Path to a kubeconfig file with the API server address and credentials.'),
  master: flag('string', '', 'The address of the API server (overrides the kubeconfig).'),
  'kube-api-qps': flag('float', 50, 'Requests per second to the API server (all nodes together).'),
  'kube-api-burst': flag('int', 100, 'Burst of requests to the API server.'),
  nodes: flag('int', 1, 'How many nodes to simulate.', (v) => (v >= 1 ? undefined : 'must be at least 1')),
  'node-name-prefix': flag('string', 'simnode-', 'Node names are this prefix followed by the node number.'),
  'node-labels': flag('map', {}, 'Labels of every node, key=value pairs separated by commas.'),
  'node-taints': flag('stringList', [], 'Taints of every node, key[=value]:Effect separated by commas.', (v) => v.map((t) => (taintRe.test(t) ? '' : `"${t}" is not key[=value]:NoSchedule|PreferNoSchedule|NoExecute`)).find(Boolean)),
  zones: flag('stringList', [], 'Spread the nodes over these zones (the topology.kubernetes.io/zone label), round-robin.'),
  cpu: flag('string', '8', 'CPU capacity of every node.'),
  memory: flag('string', '32Gi', 'Memory capacity of every node.'),
  'max-pods': flag('int', 110, 'Pod capacity of every node.'),
  'kubelet-version': flag('string', 'v1.31.0', 'The kubelet version the nodes report.'),
  'node-lease-renew-interval': flag('duration', 10_000, 'How often each node renews its Lease in kube-node-lease.'),
  'node-lease-duration-seconds': flag('int', 40, 'spec.leaseDurationSeconds of the node Leases.'),
  'node-status-report-frequency': flag('duration', 300_000, 'How often each node posts its status when nothing changed.'),
  'pod-start-delay': flag('duration', 0, `Time from a pod's binding to Running (per pod: the ${startDelayAnnotation} annotation).`),
  'pod-termination-delay': flag('duration', 0, 'Time from a graceful pod deletion to its confirmation.'),
  'default-pod-outcome': flag('string', 'ready', `What pods do without the ${outcomeAnnotation} annotation: ${outcomes.join(', ')} (succeed and fail end after the ${runDurationAnnotation} annotation).`, (v) =>
    outcomes.includes(v as Outcome) ? undefined : `must be one of ${outcomes.join(', ')}`,
  ),
  'unregister-on-exit': flag('bool', false, 'Delete the Node objects and their Leases on exit (otherwise they stay and go NotReady).'),
  v: flag('int', 0, 'Log verbosity: 4 logs debug, 6 trace.'),
};

const program = 'tkube-simnode';
const { flags } = parseProgramFlags(program, 'simulates nodes: heartbeats, leases and pods without containers', specs);
const log = createLogger({ component: program, level: levelForVerbosity(flags.v) });

let client: RESTClient;
try {
  client = new RESTClient({
    config: loadClientConfig({ kubeconfig: flags.kubeconfig || undefined, master: flags.master || undefined }),
    component: 'simnode',
    qps: flags['kube-api-qps'],
    burst: flags['kube-api-burst'],
    log,
  });
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`Error: ${err.message}\nRun '${program} --help' for usage.\n`);
    process.exit(2);
  }
  throw err;
}

const taints: Taint[] = flags['node-taints'].map((t) => {
  const m = taintRe.exec(t)!;
  return { key: m[1]!, ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] as Taint['effect'] };
});
const width = String(flags.nodes - 1).length;
const nodes: SimNodeSpec[] = Array.from({ length: flags.nodes }, (_, i) => {
  const zone = flags.zones.length ? flags.zones[i % flags.zones.length] : undefined;
  return {
    name: `${flags['node-name-prefix']}${String(i).padStart(width, '0')}`,
    labels: { ...flags['node-labels'], ...(zone ? { 'topology.kubernetes.io/zone': zone } : {}) },
    taints,
    capacity: { cpu: flags.cpu, memory: flags.memory, pods: String(flags['max-pods']) },
    kubeletVersion: flags['kubelet-version'],
  };
});

const sim = new SimNodes({
  client,
  nodes,
  leaseRenewIntervalMs: flags['node-lease-renew-interval'],
  leaseDurationSeconds: flags['node-lease-duration-seconds'],
  statusReportIntervalMs: flags['node-status-report-frequency'],
  podStartDelayMs: flags['pod-start-delay'],
  podTerminationDelayMs: flags['pod-termination-delay'],
  defaultOutcome: flags['default-pod-outcome'] as Outcome,
  unregisterOnStop: flags['unregister-on-exit'],
  log,
});

await runUntilSignalled(sim, log);
