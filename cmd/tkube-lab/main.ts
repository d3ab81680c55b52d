#!/usr/bin/env node
/** tkube-lab: a whole tkube cluster on this machine (network namespaces), and the provisioning of a VM. Wiring only: see lib/lab. */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { flag, parseProgramFlags, type FlagSpecs } from '../../lib/base/index.js';
import {
  Lab, adminKubeconfigPath, defaultClusterSpec, hostByName, labDown, labLayout, labStatus, logFileOf, nodeSummary, parseSecurityMode, planCluster,
  dockerStorages, parseDockerStorage, provisionMachine, readRecord, renderHost, signClusterCertificates, systemLayout, validateBridgeName, workerNames, writeHostBundles, controlPlaneNames, type ClusterSpec,
} from '../../lib/lab/index.js';

const tkubeHome = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const env = process.env;

const commands: Record<string, string> = {
  up: 'install what is missing, build the images, start etcd, the control plane and the nodes, apply the add-ons, wait until Ready (safe to run again)',
  down: 'remove everything up made: processes, containers, mounts, namespaces, links, iptables rules, the state folder',
  status: 'what runs, per host and component, and the nodes as the API server sees them',
  kubeconfig: 'print the path of the admin kubeconfig (for kubectl on this machine)',
  logs: 'print (or follow) the log of a component: tkube-lab logs <component> [host]',
  provision: 'provision this machine as one host of a cluster, with systemd (what each Vagrant VM runs)',
  certs: 'sign every host\'s certificates where the CA keys stay, one folder per host with only its share (the Vagrantfile runs it before a VM boots)',
  render: 'print the rendered units of a host (what provision installs and up runs)',
  'apiserver-flags': 'print the flags the API server runs with, one per line',
};

function topUsage(): string {
  const lines = ['tkube-lab: a tkube cluster on this machine, one network namespace per host, provisioned as the Vagrant lab\'s VMs are', '', 'Usage:', '  tkube-lab <command> [flags]', '', 'Commands:'];
  for (const [c, d] of Object.entries(commands)) lines.push(`  ${c.padEnd(16)} ${d}`);
  lines.push('', "Run 'tkube-lab <command> --help' for a command's flags.", '');
  return lines.join('\n');
}

const common = {
  'state-dir': flag('string', env.TKUBE_LAB_DIR || '/var/lib/tkube-lab', 'Where the lab keeps its record, certificates, data, logs and pid files (env TKUBE_LAB_DIR).'),
};
const shape = {
  bridge: flag('string', env.TKUBE_LAB_BRIDGE || 'tkube-lab0', 'The lab bridge on this machine (env TKUBE_LAB_BRIDGE).', validateBridgeName),
  'netns-prefix': flag('string', env.TKUBE_LAB_NETNS_PREFIX || 'tkube-lab', 'Network namespaces are named <prefix>-<host> (env TKUBE_LAB_NETNS_PREFIX).', (v) => (/^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/.test(v) ? undefined : 'letters, digits, ., - and _ only')),
  'network-cidr': flag('string', env.TKUBE_LAB_CIDR || defaultClusterSpec.networkCIDR, 'The hosts\' network: this machine gets the first address on the bridge, hosts .10, .11, ... (env TKUBE_LAB_CIDR).'),
  nodes: flag('int', 2, 'Nodes: cp (control plane, runs workloads too) and nodes-1 workers.', (v) => (v >= 1 ? undefined : 'at least 1 (cp)')),
  'etcd-members': flag('int', 1, 'etcd members: 1, or 3 (control-plane hosts cp, cp2, cp3, each with an API server; scheduler and controller manager elect a leader).', (v) => (v === 1 || v === 3 ? undefined : 'must be 1 or 3')),
  'cluster-cidr': flag('string', defaultClusterSpec.clusterCIDR, 'Pod addresses; the controller manager gives each node a /24 of it.'),
  'apiserver-port': flag('int', defaultClusterSpec.apiserverPort, 'The API servers\' secure port.'),
  security: flag('string', 'auto', 'development (DEVELOPMENT SETTING: TLS, anonymous requests allowed, AlwaysAllow), pki (tkube-pki certificates, Node,RBAC), or auto (pki once tkube-pki is built).', (v) =>
    ['auto', 'development', 'pki'].includes(v) ? undefined : 'must be auto, development or pki',
  ),
};

/** The shape of a cluster of machines (provision, certs): the Vagrantfile passes the same values to both. */
const machineShape = {
  workers: flag('int', 1, 'Worker hosts in the cluster.'),
  'etcd-members': shape['etcd-members'],
  'network-cidr': flag('string', defaultClusterSpec.networkCIDR, 'The hosts\' private network.'),
  'cluster-cidr': shape['cluster-cidr'],
  'apiserver-port': shape['apiserver-port'],
  security: shape.security,
};

function specFrom(f: { 'network-cidr': string; nodes: number; 'etcd-members': number; 'cluster-cidr': string; 'apiserver-port': number }): ClusterSpec {
  return { ...defaultClusterSpec, networkCIDR: f['network-cidr'], workers: f.nodes - 1, etcdMembers: f['etcd-members'], clusterCIDR: f['cluster-cidr'], apiserverPort: f['apiserver-port'] };
}

function parse<S extends FlagSpecs>(cmd: string, specs: S, argv: string[]) {
  return parseProgramFlags(`tkube-lab ${cmd}`, commands[cmd]!, specs, argv);
}

const print = (l: string) => process.stdout.write(`${l}\n`);

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  const rest = argv.slice(1);
  if (!cmd || cmd === '--help' || cmd === '-h' || cmd === 'help') {
    process.stdout.write(topUsage());
    return cmd ? 0 : 2;
  }
  switch (cmd) {
    case 'up': {
      const { flags } = parse(cmd, {
        ...common, ...shape,
        'skip-prepare': flag('bool', false, 'Do not run hack/provision.sh prepare (packages, kernel modules, images); hack/tkube-lab runs it before building.'),
        'no-wait': flag('bool', false, 'Do not wait for the nodes to be Ready and the cluster DNS to answer.'),
        timeout: flag('duration', 180_000, 'How long each wait may take.'),
        'docker-storage': flag('string', env.TKUBE_LAB_DOCKER_STORAGE || 'tmpfs', 'Each host\'s Docker data-root: tmpfs (in memory, no disk writeback while pods start; gone at down) or disk (under --state-dir) (env TKUBE_LAB_DOCKER_STORAGE).', (v) =>
          (dockerStorages as readonly string[]).includes(v) ? undefined : `must be ${dockerStorages.join(' or ')}`,
        ),
      }, rest);
      const lab = new Lab({
        stateDir: path.resolve(flags['state-dir']), bridge: flags.bridge, netnsPrefix: flags['netns-prefix'], spec: specFrom(flags),
        security: parseSecurityMode(flags.security, tkubeHome), tkubeHome, node: process.execPath, skipPrepare: flags['skip-prepare'], noWait: flags['no-wait'],
        timeoutMs: flags.timeout, dockerStorage: parseDockerStorage(flags['docker-storage']), progress: print,
      });
      await lab.up();
      return 0;
    }
    case 'down': {
      const { flags, given } = parse(cmd, { ...common, ...shape, 'keep-logs': flag('bool', false, 'Keep <state-dir>/logs.') }, rest);
      const stateDir = path.resolve(flags['state-dir']);
      // Without a record, clean up by the names the flags give (a lab whose up failed early).
      const spec = specFrom(flags);
      const hosts = [...controlPlaneNames(spec.etcdMembers), ...workerNames(spec.workers)];
      await labDown({ stateDir, keepLogs: flags['keep-logs'], progress: print, fallback: given.has('bridge') || given.has('netns-prefix') || !readRecord(stateDir) ? { bridge: flags.bridge, netnsPrefix: flags['netns-prefix'], hosts } : undefined });
      return 0;
    }
    case 'status': {
      const { flags } = parse(cmd, { ...common }, rest);
      const stateDir = path.resolve(flags['state-dir']);
      const st = labStatus(stateDir, tkubeHome);
      if (!st.record) {
        print(`no lab in ${stateDir} (tkube-lab up starts one)`);
        return 3;
      }
      print(`lab in ${stateDir}: bridge ${st.record.bridge} ${st.network.bridge ? 'up' : 'MISSING'}, security ${st.record.security}, since ${st.record.createdAt}`);
      let host = '';
      for (const r of st.rows) {
        if (r.host !== host) {
          host = r.host;
          const ns = st.record.hosts.find((h) => h.name === host)!.netns;
          print(`${host} (${r.ip}, netns ${ns}${st.network.namespaces[ns] ? '' : ' MISSING'})`);
        }
        print(`  ${r.component.padEnd(20)} ${r.state}${r.pid ? ` (pid ${r.pid})` : ''}`);
      }
      print('nodes:');
      for (const l of await nodeSummary(stateDir)) print(`  ${l}`);
      return st.rows.some((r) => r.state === 'stopped') ? 1 : 0;
    }
    case 'kubeconfig': {
      const { flags } = parse(cmd, { ...common }, rest);
      print(adminKubeconfigPath(path.resolve(flags['state-dir'])));
      return 0;
    }
    case 'logs': {
      const { flags, args } = parse(cmd, { ...common, follow: flag('bool', false, 'Keep printing what is appended (like tail -F).'), tail: flag('int', 0, 'Only the last N lines (0: all).') }, rest);
      if (args.length < 1 || args.length > 2) {
        process.stderr.write('Usage: tkube-lab logs <component> [host]   (components: etcd, apiserver, scheduler, controller-manager, docker, kubelet, proxy)\n');
        return 2;
      }
      const file = logFileOf(path.resolve(flags['state-dir']), args[0]!, args[1]);
      const { showLog } = await import('../../lib/lab/index.js');
      await showLog(file, flags.follow, flags.tail || undefined);
      return 0;
    }
    case 'provision': {
      const { flags } = parse(cmd, {
        host: flag('string', '', 'This machine\'s host name in the cluster: cp, cp2, cp3, worker, worker2, ...'),
        ...machineShape,
        'certs-dir': flag('string', '/var/lib/tkube-certs', 'This host\'s share of the certificates, signed where the CA keys are ("tkube-lab certs"; the Vagrantfile syncs it).'),
        timeout: flag('duration', 300_000, 'How long each wait may take.'),
      }, rest);
      if (!flags.host) throw new Error('--host is required (cp, worker, ...)');
      await provisionMachine({
        host: flags.host, spec: specFrom({ ...flags, nodes: flags.workers + 1 }), security: parseSecurityMode(flags.security, tkubeHome), certsDir: flags['certs-dir'],
        tkubeHome, timeoutMs: flags.timeout, progress: print,
      });
      return 0;
    }
    case 'certs': {
      const { flags } = parse(cmd, {
        ...machineShape,
        dir: flag('string', '.tkube-vagrant', 'The signer folder: the CA keys and every certificate stay here; <dir>/hosts/<host> is each host\'s share.'),
      }, rest);
      const plan = planCluster(specFrom({ ...flags, nodes: flags.workers + 1 }));
      const security = parseSecurityMode(flags.security, tkubeHome);
      const dir = path.resolve(flags.dir);
      signClusterCertificates(plan, security, dir, print);
      for (const d of writeHostBundles(plan, security, dir, tkubeHome)) print(`${path.basename(d)}: ${d}`);
      return 0;
    }
    case 'render':
    case 'apiserver-flags': {
      const { flags } = parse(cmd, {
        ...common, ...shape,
        host: flag('string', 'cp', 'The host whose units to render.'),
        system: flag('bool', false, 'Render for a machine with systemd (a VM\'s paths) instead of a lab host.'),
      }, rest);
      const rec = readRecord(path.resolve(flags['state-dir']));
      const spec = rec?.spec ?? specFrom(flags);
      const security = rec?.security ?? parseSecurityMode(flags.security, tkubeHome);
      const plan = planCluster(spec);
      const host = hostByName(plan, flags.host);
      const layout = flags.system ? systemLayout(tkubeHome) : labLayout(path.resolve(flags['state-dir']), host.name, tkubeHome);
      const units = renderHost({ plan, security, certsDir: '', progress: () => {} }, { host, layout, services: undefined as never });
      if (cmd === 'apiserver-flags') {
        const api = units.find((u) => u.component === 'apiserver');
        if (!api) throw new Error(`${host.name} runs no API server`);
        for (const a of api.argv.slice(2)) print(a);
        return 0;
      }
      for (const u of units) print(`### ${u.name}\n${u.text}`);
      return 0;
    }
    default:
      process.stderr.write(`unknown command: ${cmd}\n\n${topUsage()}`);
      return 2;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const e = err as Error;
  process.stderr.write(`tkube-lab: ${e.message}${e.cause instanceof Error ? `\n  cause: ${e.cause.message}` : ''}\n`);
  process.exitCode = 1;
}
