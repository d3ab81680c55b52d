/**
 * The single-machine lab: a whole tkube cluster on this machine, one network namespace per
 * host on a lab bridge, provisioned by the same code as the Vagrant lab's VMs
 * (lib/lab/provision.ts), with NetnsServiceManager in place of systemd.
 *
 *   <state>/lab.json                 what this lab is and what it made (read by down and status)
 *   <state>/shared/                  the signer: CA keys, every certificate; hosts get their share
 *   <state>/admin.kubeconfig         for kubectl on this machine (through the lab bridge)
 *   <state>/hosts/<host>/            pki, kubeconfigs, etcd data, kubelet root, Docker data
 *   <state>/hosts/<host>/uts         the host's UTS namespace (hostname <host>), bind-mounted
 *   <state>/hosts/<host>/units/      the rendered units it runs
 *   <state>/logs/<host>/<c>.log      every component's log (tkube-lab logs <component> [host])
 *   <state>/run/<host>/<unit>.pid    pid and command line of each running component
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { signClusterCertificates, writeAdminKubeconfig, type Progress } from './credentials.js';
import { labHostDir, labLayout, type HostLayout } from './host-vars.js';
import {
  ensureBridge, ensureForwardRules, ensureHostNetns, ensureHostUTS, forwardChain, labResolvConf, linkExists, mountsUnder, netnsExists, netnsName, netnsPath, netnsPids,
  removeBridge, removeForwardRules, removeHostNetns, unmountUnder, vethName,
} from './network.js';
import { controlPlaneHosts, nodeHosts, planCluster, type ClusterPlan, type ClusterSpec, type HostPlan } from './plan.js';
import {
  applyAddons, clientFor, configureHost, labelControlPlaneNodes, missingPrograms, nodeReady, startPhase, waitAPIServers, waitEtcd, waitNodesReady, waitUntil,
  type ProvisionContext, type ProvisionTarget,
} from './provision.js';
import { dockerAnswers, dockerSocket, labDockerUnit, loadImages, prepareDockerDirs, removeAllContainers, type DockerStorage } from './runtime.js';
import type { SecurityMode } from './security.js';
import { NetnsServiceManager } from './services.js';
import { components, componentByName } from './units.js';
import { Resources } from '../client/index.js';

export interface LabOptions {
  stateDir: string;
  bridge: string;
  netnsPrefix: string;
  spec: ClusterSpec;
  security: SecurityMode;
  /** The tkube checkout (deploy/, hack/, dist/). */
  tkubeHome: string;
  node: string;
  /** Skip hack/provision.sh prepare (packages, kernel, images): the caller did it. */
  skipPrepare: boolean;
  /** Skip waiting for nodes Ready and DNS answers. */
  noWait: boolean;
  timeoutMs: number;
  /** Where each host's Docker keeps images and containers (default tmpfs, see runtime.ts). */
  dockerStorage?: DockerStorage;
  progress: Progress;
}

export interface LabRecord {
  version: 1;
  bridge: string;
  netnsPrefix: string;
  spec: ClusterSpec;
  security: SecurityMode;
  hosts: Array<{ name: string; ip: string; netns: string; veth: string }>;
  createdAt: string;
}

export function recordFile(stateDir: string): string {
  return path.join(stateDir, 'lab.json');
}

export function readRecord(stateDir: string): LabRecord | undefined {
  try {
    return JSON.parse(fs.readFileSync(recordFile(stateDir), 'utf8')) as LabRecord;
  } catch {
    return undefined;
  }
}

export function adminKubeconfigPath(stateDir: string): string {
  return path.join(stateDir, 'admin.kubeconfig');
}

/** The bind-mounted UTS namespace that gives a host its hostname. */
function utsFile(stateDir: string, host: string): string {
  return path.join(labHostDir(stateDir, host), 'uts');
}

/** The service manager of one lab host (its components' processes, pid files and logs). */
export function labHostServices(stateDir: string, netns: string, host: string): NetnsServiceManager {
  return new NetnsServiceManager({
    netnsPath: netnsPath(netns),
    utsPath: utsFile(stateDir, host),
    unitDir: path.join(labHostDir(stateDir, host), 'units'),
    logDir: path.join(stateDir, 'logs', host),
    runDir: path.join(stateDir, 'run', host),
  });
}

export class Lab {
  readonly plan: ClusterPlan;
  private readonly o: LabOptions;

  constructor(o: LabOptions) {
    this.o = o;
    this.plan = planCluster(o.spec);
  }

  private step = 0;
  private readonly steps = 9;
  private header(title: string): void {
    this.step++;
    this.o.progress(`==> [${this.step}/${this.steps}] ${title}`);
  }

  private say(line: string): void {
    this.o.progress(`    ${line}`);
  }

  private netnsOf(h: HostPlan): string {
    return netnsName(this.o.netnsPrefix, h.name);
  }

  private layout(h: HostPlan): HostLayout {
    return labLayout(this.o.stateDir, h.name, this.o.tkubeHome, this.o.node);
  }

  private target(h: HostPlan): ProvisionTarget & { services: NetnsServiceManager } {
    return { host: h, layout: this.layout(h), services: labHostServices(this.o.stateDir, this.netnsOf(h), h.name) };
  }

  private ctx(): ProvisionContext {
    return { plan: this.plan, security: this.o.security, certsDir: path.join(this.o.stateDir, 'shared'), progress: (l) => this.say(l) };
  }

  private record(): LabRecord {
    return {
      version: 1,
      bridge: this.o.bridge,
      netnsPrefix: this.o.netnsPrefix,
      spec: this.o.spec,
      security: this.o.security,
      hosts: this.plan.hosts.map((h, i) => ({ name: h.name, ip: h.ip, netns: this.netnsOf(h), veth: vethName(this.o.bridge, i) })),
      createdAt: new Date().toISOString(),
    };
  }

  /** Refuses to reshape a running lab: `down` first. */
  private checkExisting(): void {
    const cur = readRecord(this.o.stateDir);
    if (!cur) return;
    const want = this.record();
    const same = cur.bridge === want.bridge && cur.netnsPrefix === want.netnsPrefix && JSON.stringify(cur.spec) === JSON.stringify(want.spec) && cur.security === want.security;
    if (!same) {
      throw new Error(`a lab of another shape is recorded in ${recordFile(this.o.stateDir)} (${cur.hosts.map((h) => h.name).join(', ')} on ${cur.bridge}, ${cur.spec.networkCIDR}, security ${cur.security}); run "tkube-lab down" first, or use another --state-dir`);
    }
  }

  async up(): Promise<void> {
    const o = this.o;
    const started = Date.now();
    if (process.getuid?.() !== 0) throw new Error('tkube-lab up needs root (network namespaces, a bridge, iptables, dockerd)');
    this.checkExisting();
    const missing = missingPrograms(o.tkubeHome);
    if (missing.length) o.progress(`note: not built on this branch, skipped: ${missing.join(', ')}`);

    this.header('host preparation (hack/provision.sh prepare: packages, kernel modules, local images)');
    if (o.skipPrepare) this.say('skipped (--skip-prepare)');
    else this.runProvisionScript(['prepare'], { TKUBE_SKIP_BUILD: '1' });

    this.header(`network: bridge ${o.bridge} (${this.plan.gatewayIP}/${this.plan.prefixLength}) and one namespace per host`);
    fs.mkdirSync(o.stateDir, { recursive: true, mode: 0o700 });
    // Recorded before anything is made, so that down finds all of it even after a failure.
    fs.writeFileSync(recordFile(o.stateDir), JSON.stringify(this.record(), null, 2) + '\n');
    ensureBridge({ bridge: o.bridge, gatewayIP: this.plan.gatewayIP, prefixLength: this.plan.prefixLength, netnsPrefix: o.netnsPrefix });
    ensureForwardRules(o.bridge, this.plan.spec.networkCIDR);
    for (const [i, h] of this.plan.hosts.entries()) {
      ensureHostNetns({ bridge: o.bridge, gatewayIP: this.plan.gatewayIP, prefixLength: this.plan.prefixLength, netnsPrefix: o.netnsPrefix }, { netns: this.netnsOf(h), veth: vethName(o.bridge, i), ip: h.ip });
      // The same sysctls a VM gets (ip_forward, bridge-nf-call-iptables are per namespace).
      this.runProvisionScript(['sysctls'], {}, this.netnsOf(h));
      const l = this.layout(h);
      fs.mkdirSync(path.dirname(l.resolvConf), { recursive: true });
      ensureHostUTS(utsFile(o.stateDir, h.name), h.name);
      fs.writeFileSync(l.resolvConf, labResolvConf());
      this.say(`${h.name}: netns ${this.netnsOf(h)}, ${h.ip} (${[h.etcd && 'etcd', h.controlPlane && 'control plane', h.node && 'node'].filter(Boolean).join(', ')})`);
    }

    this.header('certificates and kubeconfigs');
    const ctx = this.ctx();
    // Signed here, where the CA keys stay; each host's pki folder gets only its own share.
    signClusterCertificates(this.plan, o.security, ctx.certsDir, (l) => this.say(l));
    for (const h of this.plan.hosts) configureHost(ctx, this.target(h));
    const cp = controlPlaneHosts(this.plan);
    writeAdminKubeconfig(this.plan, adminKubeconfigPath(o.stateDir), ctx.certsDir, o.tkubeHome, o.security);
    this.say(`security: ${o.security === 'development' ? 'development setting (anonymous requests allowed, AlwaysAllow; TLS verified)' : 'pki (client certificates, Node,RBAC)'}`);

    this.header(`etcd (${this.plan.hosts.filter((h) => h.etcd).length} member${this.plan.spec.etcdMembers > 1 ? 's' : ''})`);
    for (const h of this.plan.hosts.filter((x) => x.etcd)) await startPhase(ctx, this.target(h), 'etcd');
    await waitEtcd(this.plan, (l) => this.say(l), o.timeoutMs, o.security, this.layout(this.plan.hosts.find((x) => x.etcd)!).pkiDir);

    this.header(`control plane on ${cp.map((h) => h.name).join(', ')}`);
    for (const h of cp) await startPhase(ctx, this.target(h), 'control-plane');
    await waitAPIServers(this.plan, cp, path.join(this.layout(cp[0]!).pkiDir, 'ca.crt'), (l) => this.say(l), o.timeoutMs);

    const nodes = nodeHosts(this.plan);
    this.header(`container runtimes: one dockerd per node (${nodes.map((h) => h.name).join(', ')}), local images`);
    for (const h of nodes) {
      const t = this.target(h);
      const hostDir = labHostDir(o.stateDir, h.name);
      const storage = prepareDockerDirs(hostDir, o.dockerStorage ?? 'tmpfs', h.name);
      const outcome = await t.services.apply(labDockerUnit(h.name, hostDir));
      this.say(`${h.name}: dockerd ${outcome === 'unchanged' ? 'already running' : outcome}, data-root on ${storage === 'disk' ? 'disk' : 'a tmpfs'} (log: ${t.services.logHint('docker.service')})`);
    }
    for (const h of nodes) {
      const sock = dockerSocket(labHostDir(o.stateDir, h.name));
      await waitUntil(`${h.name}: dockerd answers on ${sock}`, async () => dockerAnswers(sock), 60_000, (l) => this.say(l), 300);
      const r = loadImages(sock);
      this.say(`${h.name}: images ${r.loaded.length ? `loaded ${r.loaded.join(', ')}` : 'present'}`);
    }

    this.header('nodes: kubelet and tkube-proxy');
    for (const h of nodes) await startPhase(ctx, this.target(h), 'node');

    const kubeconfig = adminKubeconfigPath(o.stateDir);
    this.header('add-ons (deploy/addons)');
    await applyAddons(o.tkubeHome, o.node, kubeconfig, (l) => this.say(l));

    this.header('waiting for the cluster');
    if (o.noWait) this.say('skipped (--no-wait)');
    else await this.waitReady(missing);

    o.progress('');
    o.progress(`tkube-lab is up (${((Date.now() - started) / 1000).toFixed(0)}s): ${this.plan.hosts.length} hosts on ${o.bridge}, API server ${`https://${cp[0]!.ip}:${this.plan.spec.apiserverPort}`}`);
    o.progress(`  export KUBECONFIG=${kubeconfig}`);
    o.progress('  kubectl get nodes -o wide');
    o.progress('  kubectl get componentstatuses');
    o.progress('  kubectl -n kube-system get pods -o wide');
    o.progress(`  ${path.relative(process.cwd(), path.join(o.tkubeHome, 'hack/tkube-lab')) || 'hack/tkube-lab'} status | logs <component> [host] | down`);
  }

  private async waitReady(missing: string[]): Promise<void> {
    const o = this.o;
    const kubeconfig = adminKubeconfigPath(o.stateDir);
    const nodes = nodeHosts(this.plan);
    if (missing.includes('tkube-kubelet')) {
      this.say('nodes Ready: skipped, tkube-kubelet is not built (no kubelet registers the nodes)');
    } else {
      await waitNodesReady(kubeconfig, nodes.map((h) => h.name), (l) => this.say(l), o.timeoutMs);
      labelControlPlaneNodes(o.tkubeHome, o.node, kubeconfig, controlPlaneHosts(this.plan).filter((h) => h.node).map((h) => h.name));
    }
    const needed = ['tkube-kubelet', 'tkube-scheduler', 'tkube-controller-manager'].filter((p) => missing.includes(p));
    if (needed.length) {
      this.say(`cluster DNS answers: skipped, the DNS pods need ${needed.join(', ')}, not built on this branch`);
      return;
    }
    const cp = controlPlaneHosts(this.plan).find((h) => h.node) ?? nodes[0]!;
    const name = `kubernetes.default.svc.${this.plan.spec.clusterDomain}`;
    await waitUntil(`cluster DNS (${this.plan.spec.clusterDNS}) answers ${name} from ${cp.name}`, async () => {
      const r = this.dnsProbe(cp, name);
      if (!r.ok) throw new Error(r.out);
      return true;
    }, o.timeoutMs, (l) => this.say(l), 1000);
  }

  /** Asks the cluster DNS from inside a host's namespace (where the Service's clusterIP is programmed). */
  dnsProbe(h: HostPlan, name: string): { ok: boolean; out: string } {
    const probe = path.join(this.o.tkubeHome, 'dist/lib/lab/dns-probe.js');
    const r = spawnSync('nsenter', [`--net=${netnsPath(this.netnsOf(h))}`, '--', this.o.node, probe, this.plan.spec.clusterDNS, name], { encoding: 'utf8', timeout: 10_000 });
    return { ok: r.status === 0, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.trim() };
  }

  /** Runs hack/provision.sh (the VMs' provisioning script) here, or inside a host's namespace. */
  private runProvisionScript(args: string[], env: Record<string, string>, netns?: string): void {
    const script = path.join(this.o.tkubeHome, 'hack/provision.sh');
    const argv = netns ? ['nsenter', `--net=${netnsPath(netns)}`, '--', 'bash', script, ...args] : ['bash', script, ...args];
    const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    for (const l of `${r.stdout}${r.stderr}`.split('\n').filter(Boolean)) this.say(`${netns ? `${netns}: ` : ''}${l}`);
    if (r.status !== 0) throw new Error(`hack/provision.sh ${args.join(' ')}${netns ? ` (in ${netns})` : ''} failed (exit ${r.status})`);
  }
}

export interface DownOptions {
  stateDir: string;
  /** Used when there is no record (a lab whose up failed before writing it, or a lost state folder). */
  fallback?: { bridge: string; netnsPrefix: string; hosts: string[] };
  keepLogs: boolean;
  progress: Progress;
}

/**
 * Removes everything a lab made: processes, containers, mounts, namespaces, veths, the bridge,
 * the FORWARD chain, the state folder. Safe to run again, and after a failed up.
 */
export async function labDown(o: DownOptions): Promise<void> {
  const rec = readRecord(o.stateDir);
  const bridge = rec?.bridge ?? o.fallback?.bridge;
  const hosts = rec?.hosts ?? (o.fallback ? o.fallback.hosts.map((name, i) => ({ name, ip: '', netns: netnsName(o.fallback!.netnsPrefix, name), veth: vethName(o.fallback!.bridge, i) })) : []);
  if (!rec) o.progress(`no lab recorded in ${recordFile(o.stateDir)}${o.fallback ? `; cleaning up by name (${bridge}, ${hosts.map((h) => h.netns).join(', ')})` : ''}`);
  const say = (l: string) => o.progress(`    ${l}`);
  const services = hosts.map((h) => ({ h, s: labHostServices(o.stateDir, h.netns, h.name) }));
  // Nodes first (so that no kubelet restarts a container being removed), then the control plane, etcd last.
  const order = ['tkube-kubelet.service', 'tkube-proxy.service', 'docker.service', 'tkube-controller-manager.service', 'tkube-scheduler.service', 'tkube-apiserver.service', 'etcd.service'];
  o.progress('==> stopping components');
  for (const unit of order) {
    // One tier at a time, its hosts in parallel.
    await Promise.all(services.map(async ({ h, s }) => {
      if (unit === 'docker.service') {
        const sock = dockerSocket(labHostDir(o.stateDir, h.name));
        if (fs.existsSync(sock) && dockerAnswers(sock)) {
          const n = removeAllContainers(sock);
          if (n) say(`${h.name}: removed ${n} container${n > 1 ? 's' : ''}`);
        }
      }
      if (await s.stop(unit)) say(`${h.name}: stopped ${unit}`);
    }));
  }
  o.progress('==> removing namespaces, links and rules');
  for (const h of hosts) {
    // dockerd's containerd may still be on its way out: give it a moment before killing what is left.
    for (let i = 0; i < 50 && netnsExists(h.netns) && netnsPids(h.netns).length > 0; i++) await new Promise((r) => setTimeout(r, 100));
    const left = netnsExists(h.netns) ? netnsPids(h.netns) : [];
    if (left.length) say(`${h.netns}: killing ${left.length} leftover process${left.length > 1 ? 'es' : ''} (${left.join(', ')})`);
    if (removeHostNetns(h.netns, h.veth)) say(`removed netns ${h.netns}`);
  }
  if (bridge) {
    if (removeForwardRules(bridge)) say(`removed iptables chain ${forwardChain(bridge)}`);
    if (removeBridge(bridge)) say(`removed bridge ${bridge}`);
  }
  o.progress('==> removing mounts and state');
  if (fs.existsSync(o.stateDir)) {
    const un = unmountUnder(o.stateDir);
    if (un.length) say(`unmounted ${un.length} mount${un.length > 1 ? 's' : ''} under ${o.stateDir}`);
    const left = mountsUnder(o.stateDir);
    if (left.length) throw new Error(`mounts remain under ${o.stateDir}: ${left.join(', ')}`);
    if (o.keepLogs) {
      for (const e of fs.readdirSync(o.stateDir)) if (e !== 'logs') fs.rmSync(path.join(o.stateDir, e), { recursive: true, force: true });
      say(`removed ${o.stateDir} (kept logs/)`);
    } else {
      fs.rmSync(o.stateDir, { recursive: true, force: true });
      say(`removed ${o.stateDir}`);
    }
  }
  o.progress('tkube-lab is down');
}

export interface StatusRow {
  host: string;
  ip: string;
  component: string;
  state: 'running' | 'stopped' | 'not built';
  pid?: number;
}

/** What runs, per host and component. */
export function labStatus(stateDir: string, tkubeHome: string): { record?: LabRecord; rows: StatusRow[]; network: { bridge: boolean; namespaces: Record<string, boolean> } } {
  const rec = readRecord(stateDir);
  if (!rec) return { rows: [], network: { bridge: false, namespaces: {} } };
  const plan = planCluster(rec.spec);
  const rows: StatusRow[] = [];
  for (const h of plan.hosts) {
    const r = rec.hosts.find((x) => x.name === h.name)!;
    const s = labHostServices(stateDir, r.netns, h.name);
    const units = [...components.filter((c) => c.on(h)).map((c) => ({ name: c.name, unit: c.unit, built: !c.program || fs.existsSync(path.join(tkubeHome, 'dist/cmd', c.program, 'main.js')) }))];
    if (h.node) units.splice(units.findIndex((u) => u.name === 'kubelet'), 0, { name: 'docker', unit: 'docker.service', built: true });
    for (const u of units) {
      const pid = s.pidOf(u.unit);
      rows.push({ host: h.name, ip: h.ip, component: u.name, state: pid ? 'running' : u.built ? 'stopped' : 'not built', pid });
    }
  }
  return { record: rec, rows, network: { bridge: linkExists(rec.bridge), namespaces: Object.fromEntries(rec.hosts.map((h) => [h.netns, netnsExists(h.netns)])) } };
}

/** Nodes as the API server sees them (name, Ready, podCIDR), or why they cannot be read. */
export async function nodeSummary(stateDir: string): Promise<string[]> {
  const client = clientFor(adminKubeconfigPath(stateDir));
  try {
    const list = await client.resource(Resources.nodes).list();
    if (list.items.length === 0) return ['no nodes registered'];
    return list.items.map((n) => `${n.metadata?.name}: ${nodeReady(n) ? 'Ready' : 'NotReady'}${n.spec?.podCIDR ? `, podCIDR ${n.spec.podCIDR}` : ''}`);
  } catch (err) {
    return [`API server not reachable: ${(err as Error).message}`];
  } finally {
    client.close();
  }
}

/** The log file of a component on a host (the first host running it when none is named). */
export function logFileOf(stateDir: string, component: string, host?: string): string {
  const rec = readRecord(stateDir);
  if (!rec) throw new Error(`no lab recorded in ${recordFile(stateDir)}; is it up?`);
  const plan = planCluster(rec.spec);
  const c = component === 'docker' || component === 'dockerd' ? { name: 'docker', unit: 'docker.service', on: (h: HostPlan) => h.node } : componentByName(component);
  if (!c) throw new Error(`unknown component ${component}; known: ${['docker', ...components.map((x) => x.name)].join(', ')}`);
  const candidates = plan.hosts.filter((h) => c.on(h));
  const h = host ? candidates.find((x) => x.name === host) : candidates[0];
  if (!h) throw new Error(host ? `${c.name} does not run on ${host} (it runs on ${candidates.map((x) => x.name).join(', ') || 'no host'})` : `${c.name} runs on no host of this lab`);
  const r = rec.hosts.find((x) => x.name === h.name)!;
  return labHostServices(stateDir, r.netns, h.name).logFile(c.unit);
}

/** Prints a log, or follows it until interrupted. */
export async function showLog(file: string, follow: boolean, lines?: number): Promise<void> {
  if (!fs.existsSync(file)) throw new Error(`no log yet at ${file}`);
  if (!follow) {
    const text = fs.readFileSync(file, 'utf8');
    const out = lines ? text.split('\n').slice(-(lines + 1)).join('\n') : text;
    process.stdout.write(out);
    return;
  }
  const child = spawn('tail', ['-n', String(lines ?? 50), '-F', file], { stdio: 'inherit' });
  await new Promise((r) => child.on('exit', r));
}

