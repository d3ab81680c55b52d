/**
 * Provisioning of one machine with systemd: what hack/provision.sh runs on each Vagrant VM after
 * preparing it (`tkube-lab provision --host <name> ...`). The steps are provision.ts's, as the
 * single-machine lab runs them; the machine's own Docker (docker.service) is its runtime.
 *
 * Hosts provision one after another (cp, cp2, cp3, then the workers). With three etcd members,
 * cp and cp2 cannot reach a quorum alone: they start their units without waiting, and the last
 * member's host waits for etcd and every API server. Add-ons are applied from that host too.
 *
 * The VM's certificates were signed on the machine that runs vagrant (`tkube-lab certs`), which
 * keeps the CA keys; the Vagrantfile uploads only this VM's share (--certs-dir), and a
 * control-plane VM's admin kubeconfig with it.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { installAdminKubeconfig, type Progress } from './credentials.js';
import { systemLayout } from './host-vars.js';
import { controlPlaneHosts, hostByName, planCluster, type ClusterSpec } from './plan.js';
import { applyAddons, configureHost, labelControlPlaneNodes, missingPrograms, startPhase, waitAPIServers, waitEtcd, waitNodesReady, type ProvisionContext } from './provision.js';
import type { SecurityMode } from './security.js';
import { SystemdServiceManager } from './services.js';

export interface MachineOptions {
  host: string;
  spec: ClusterSpec;
  security: SecurityMode;
  /** This VM's share of the signed certificates (credentials.ts writeHostBundles). */
  certsDir: string;
  tkubeHome: string;
  timeoutMs: number;
  progress: Progress;
}

export async function provisionMachine(o: MachineOptions): Promise<void> {
  const plan = planCluster(o.spec);
  const host = hostByName(plan, o.host);
  const layout = systemLayout(o.tkubeHome);
  const say = (l: string) => o.progress(`    ${l}`);
  const ctx: ProvisionContext = { plan, security: o.security, certsDir: o.certsDir, progress: say };
  const t = { host, layout, services: new SystemdServiceManager() };
  const missing = missingPrograms(o.tkubeHome);
  if (missing.length) o.progress(`note: not built on this branch, skipped: ${missing.join(', ')}`);

  o.progress(`==> ${host.name} (${host.ip}): certificates and kubeconfigs (security: ${o.security})`);
  configureHost(ctx, t);
  const adminKubeconfig = path.join(layout.kubeconfigDir, 'admin.kubeconfig');
  if (host.controlPlane) installAdminKubeconfig(o.certsDir, adminKubeconfig);
  const members = plan.hosts.filter((h) => h.etcd);
  const lastMember = members[members.length - 1]!;
  const canWait = !host.etcd || host.name === lastMember.name;

  if (host.etcd) {
    o.progress('==> etcd');
    await startPhase(ctx, t, 'etcd');
    if (canWait) await waitEtcd(plan, say, o.timeoutMs, o.security, layout.pkiDir);
    else say(`not waiting: the other members (${members.filter((m) => m.name !== host.name).map((m) => m.name).join(', ')}) join when their hosts are provisioned`);
  }
  const cps = controlPlaneHosts(plan);
  if (host.controlPlane) {
    o.progress('==> control plane');
    await startPhase(ctx, t, 'control-plane');
    if (canWait) await waitAPIServers(plan, cps.slice(0, cps.indexOf(host) + 1), path.join(layout.pkiDir, 'ca.crt'), say, o.timeoutMs);
  }
  if (host.node) {
    o.progress('==> node: kubelet and tkube-proxy (runtime: docker.service)');
    spawnSync('systemctl', ['enable', '--now', 'docker.service'], { stdio: 'inherit' });
    await startPhase(ctx, t, 'node');
  }
  if (host.controlPlane && host.name === lastMember.name) {
    o.progress('==> add-ons (deploy/addons)');
    await applyAddons(o.tkubeHome, layout.node, adminKubeconfig, say);
  }
  if (host.node && !missing.includes('tkube-kubelet') && canWait) {
    o.progress('==> waiting for this node');
    await waitNodesReady(adminKubeconfigFor(host.controlPlane, layout.kubeconfigDir, host.name), [host.name], say, o.timeoutMs);
    if (host.controlPlane) labelControlPlaneNodes(o.tkubeHome, layout.node, adminKubeconfig, [host.name]);
  }
  o.progress(`${host.name} provisioned`);
}

/** A worker has no admin kubeconfig: it reads its own Node with the kubelet's. */
function adminKubeconfigFor(controlPlane: boolean, dir: string, name: string): string {
  return path.join(dir, controlPlane ? 'admin.kubeconfig' : `kubelet-${name}.kubeconfig`);
}
