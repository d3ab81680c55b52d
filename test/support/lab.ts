/**
 * A tkube-lab of a test's own: its state folder, bridge, namespace prefix and a /24 no route of
 * this machine touches, so that it never meets another lab (or the default one) on the host.
 */
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { kubectls } from './kubectl.js';

/** The checkout: two folders up from the source, three from its build in dist/ (the bench runs from there). */
export const labRoot = [path.resolve(import.meta.dirname, '../..'), path.resolve(import.meta.dirname, '../../..')].find((d) => fs.existsSync(path.join(d, 'package.json')))!;
export const labTool = path.join(labRoot, 'dist/cmd/tkube-lab/main.js');

function has(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${cmd}`]).status === 0;
}

/** Why a lab cannot run here, or undefined when it can. */
export function labUnavailable(): string | undefined {
  const dockerUp = has('docker') && spawnSync('docker', ['info'], { stdio: 'ignore' }).status === 0;
  if (process.getuid?.() === 0 && has('nsenter') && has('etcd') && has('iptables') && dockerUp && fs.existsSync(labTool)) return undefined;
  return 'needs root, nsenter, etcd, iptables, a running Docker engine and a build (npm run build)';
}

/** A /24 no route of this machine touches. */
export function freeLabNetwork(): string {
  const routes = spawnSync('ip', ['-4', 'route', 'show', 'table', 'all'], { encoding: 'utf8' }).stdout;
  for (let i = 0; i < 50; i++) {
    const third = 200 + Math.floor(Math.random() * 50);
    if (!routes.includes(`192.168.${third}.`)) return `192.168.${third}.0/24`;
  }
  throw new Error('no free 192.168.x.0/24 for the lab');
}

export interface TestLab {
  id: string;
  bridge: string;
  prefix: string;
  network: string;
  /** Set by the test (a fresh temporary folder) before `up`. */
  stateDir: string;
  /** --state-dir, --bridge, --netns-prefix, --network-cidr. */
  flags(): string[];
  /** Runs tkube-lab (not through hack/tkube-lab) with the given arguments. */
  run(args: string[], timeoutMs?: number): SpawnSyncReturns<string>;
}

export function testLab(prefixBase: string, network = '192.168.250.0/24'): TestLab {
  const id = randomBytes(3).toString('hex');
  const lab: TestLab = {
    id,
    bridge: `tkl-${id}`,
    prefix: `${prefixBase}-${id}`,
    network,
    stateDir: '',
    flags: () => [`--state-dir=${lab.stateDir}`, `--bridge=${lab.bridge}`, `--netns-prefix=${lab.prefix}`, `--network-cidr=${lab.network}`],
    run: (args, timeout = 240_000) => spawnSync(process.execPath, [labTool, ...args], { encoding: 'utf8', timeout, env: { ...process.env, TKUBE_LAB_DIR: '' } }),
  };
  return lab;
}

/** What of the host could be a lab's: namespaces, links, iptables rules, mounts and Docker containers carrying its names. */
export interface HostSnapshot {
  netns: string[];
  links: string[];
  chains: string[];
  mounts: string[];
  containers: string[];
}

/**
 * The host as far as this lab is concerned. Other tests on this machine make and remove their
 * own meanwhile: only names of the lab's (its prefix, bridge, state folder) are compared.
 */
export function labSnapshot(lab: TestLab): HostSnapshot {
  const out = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout;
  const ours = (s: string) => s.includes(lab.prefix) || s.includes(lab.bridge) || (lab.stateDir !== '' && s.includes(lab.stateDir));
  return {
    netns: out('ip', ['netns', 'list']).split('\n').map((l) => l.split(' ')[0]!).filter((n) => n && ours(n)).sort(),
    links: JSON.parse(out('ip', ['-j', 'link', 'show']) || '[]').map((l: { ifname: string }) => l.ifname).filter(ours).sort(),
    chains: ['filter', 'nat', 'mangle', 'raw'].flatMap((t) => out('iptables', ['-w', '-t', t, '-S']).split('\n').filter(ours).map((l) => `${t} ${l}`)).sort(),
    mounts: fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4] ?? '').filter(ours).sort(),
    containers: out('docker', ['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.Names}} {{.Mounts}} {{.Labels}}']).split('\n').filter(ours).sort(),
  };
}

/** Processes whose command line names the lab's state folder or namespaces. */
export function labProcesses(lab: TestLab): string[] {
  const found: string[] = [];
  for (const pid of fs.readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    let cmd = '';
    try {
      cmd = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      continue;
    }
    if (Number(pid) !== process.pid && ((lab.stateDir && cmd.includes(lab.stateDir)) || cmd.includes(lab.prefix))) found.push(`${pid} ${cmd.trim()}`);
  }
  return found;
}

/** The real kubectl with the lab's admin kubeconfig; never throws. */
export function labKubectl(lab: TestLab, args: string[], timeout = 60_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync(kubectls()[0]!.path, [`--kubeconfig=${path.join(lab.stateDir, 'admin.kubeconfig')}`, ...args], { encoding: 'utf8', timeout });
  return { ok: r.status === 0, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}
