#!/usr/bin/env node
/**
 * `npm run bench`: tkube's figures next to the raw baseline they are held against.
 *   --only apiserver   run one group (apiserver, kubelet)
 *   --quick            smaller sizes, for a fast look
 *   --kubeconfig FILE  the cluster group against a running lab instead of one of its own
 */
import { parseProgramFlags, flag } from '../lib/base/index.js';
import { benchAPIServer } from './apiserver.js';
import { benchCluster } from './cluster.js';
import { benchDeployment } from './deployment.js';
import { benchKubelet } from './kubelet.js';
import { benchProxy } from './proxy.js';
import { benchProxySync } from './proxy-sync.js';
import { benchScheduler } from './scheduler.js';
import { printTable, type Row } from './table.js';

const { flags } = parseProgramFlags('bench', "measures tkube's figures against raw baselines", {
  only: flag('stringList', [], 'Run only these groups (apiserver, scheduler, kubelet, proxy, proxy-sync, cluster).'),
  quick: flag('bool', false, 'Smaller sizes for a quick look.'),
  kubeconfig: flag('string', '', 'The cluster group measures this running two-node cluster (e.g. tkube-lab kubeconfig) instead of bringing up a lab of its own.'),
});

const groups: [string, string, () => Promise<Row[]>][] = [
  ['apiserver', 'tkube-apiserver (one etcd member, one machine)', () => benchAPIServer({ quick: flags.quick })],
  [
    'scheduler',
    'tkube-scheduler, then the controller manager, scheduler and simulated nodes together (API server, etcd and all on one machine)',
    async () => [...(await benchScheduler({ quick: flags.quick })), ...(await benchDeployment({ quick: flags.quick }))],
  ],
  ['kubelet', 'tkube-kubelet pod startup (Docker, one node in a network namespace)', () => benchKubelet({ quick: flags.quick })],
  ['proxy', 'tkube-proxy data path: iptables vs userspace mode (network namespaces, one node)', () => benchProxy({ quick: flags.quick })],
  ['proxy-sync', 'tkube-proxy programming: full and partial syncs vs one iptables-restore (a network namespace)', () => benchProxySync({ quick: flags.quick })],
  ['cluster', 'the whole cluster: tkube-lab, two nodes, real Docker containers, the real kubectl', () => benchCluster({ kubeconfig: flags.kubeconfig })],
];

let missed = 0;
for (const [name, title, run] of groups) {
  if (flags.only.length && !flags.only.includes(name)) continue;
  process.stderr.write(`==> ${name}\n`);
  const rows = await run();
  printTable(title, rows);
  missed += rows.filter((r) => r.ok === false).length;
}
process.stdout.write(`\n${missed === 0 ? 'every target met' : `${missed} target(s) missed`}\n`);
process.exit(0);
