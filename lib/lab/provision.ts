/**
 * Provisioning of one host, shared by the Vagrant lab (`tkube-lab provision` inside each VM,
 * with systemd) and the single-machine lab (`tkube-lab up`, with network namespaces): the same
 * certificates, kubeconfigs, rendered units, start order and health checks. Only the
 * ServiceManager and the HostLayout differ.
 *
 *   configure   the host's share of the signed certificates, the component kubeconfigs
 *   etcd        the etcd member                          → wait: etcd healthy (needs a quorum)
 *   control     API server, scheduler, controller manager → wait: API server /readyz
 *   node        kubelet, tkube-proxy (after the runtime)  → wait: the Node Ready
 *   add-ons     deploy/addons/* applied (once, from a control-plane host)
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { RESTClient, Resources, loadClientConfig } from '../client/index.js';
import type { Node } from '../api/index.js';
import { ensureHostCertificates, writeHostKubeconfigs, type Progress } from './credentials.js';
import { hostVariables, type HostLayout } from './host-vars.js';
import { type ClusterPlan, type HostPlan } from './plan.js';
import { etcdScheme, type SecurityMode } from './security.js';
import type { ServiceManager } from './services.js';
import { components, isBuilt, renderUnit, type Component, type RenderedUnit } from './units.js';

export interface ProvisionContext {
  plan: ClusterPlan;
  security: SecurityMode;
  /**
   * Where this host's certificates are taken from: the folder they were signed in (the
   * single-machine lab's <state>/shared) or a VM's own share of it (credentials.ts).
   */
  certsDir: string;
  progress: Progress;
}

export interface ProvisionTarget {
  host: HostPlan;
  layout: HostLayout;
  services: ServiceManager;
}

export type Phase = 'etcd' | 'control-plane' | 'node';

const phaseOf: Record<string, Phase> = {
  etcd: 'etcd',
  apiserver: 'control-plane',
  scheduler: 'control-plane',
  'controller-manager': 'control-plane',
  kubelet: 'node',
  proxy: 'node',
};

export function componentsOf(host: HostPlan, phase: Phase): Component[] {
  return components.filter((c) => c.on(host) && phaseOf[c.name] === phase);
}

/** The programs a cluster needs that this checkout has not built (they are skipped). */
export function missingPrograms(tkubeHome: string): string[] {
  return components.filter((c) => !isBuilt(tkubeHome, c)).map((c) => c.program!);
}

/** Certificates and kubeconfigs of a host. */
export function configureHost(ctx: ProvisionContext, t: ProvisionTarget): void {
  ensureHostCertificates(ctx.plan, t.host, t.layout, ctx.security, ctx.certsDir, (l) => ctx.progress(`${t.host.name}: ${l}`));
  writeHostKubeconfigs(ctx.plan, t.host, t.layout, ctx.security);
}

/** Every unit of a host rendered (the ones whose program is not built too). */
export function renderHost(ctx: ProvisionContext, t: ProvisionTarget): RenderedUnit[] {
  const vars = hostVariables(ctx.plan, t.host, t.layout, ctx.security);
  return components.filter((c) => c.on(t.host)).map((c) => renderUnit(t.layout.tkubeHome, c, vars));
}

/** Starts (or leaves running, or restarts when changed) a host's components of one phase. */
export async function startPhase(ctx: ProvisionContext, t: ProvisionTarget, phase: Phase): Promise<{ started: string[]; skipped: string[] }> {
  const vars = hostVariables(ctx.plan, t.host, t.layout, ctx.security);
  const started: string[] = [];
  const skipped: string[] = [];
  for (const c of componentsOf(t.host, phase)) {
    if (!isBuilt(t.layout.tkubeHome, c)) {
      ctx.progress(`${t.host.name}: ${c.name} skipped: dist/cmd/${c.program}/main.js is not built (${c.program} has not landed on this branch yet)`);
      skipped.push(c.name);
      continue;
    }
    const unit = renderUnit(t.layout.tkubeHome, c, vars);
    const outcome = await t.services.apply(unit);
    ctx.progress(`${t.host.name}: ${c.name} ${outcome === 'unchanged' ? 'already running' : outcome} (log: ${t.services.logHint(unit.name)})`);
    started.push(c.name);
  }
  return { started, skipped };
}

export async function sleep(ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}

/** Polls `check` until it returns true; the error names what was awaited and the last failure. */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, progress?: Progress, everyMs = 500): Promise<void> {
  const started = Date.now();
  let last = '';
  let lastReport = started;
  for (;;) {
    try {
      if (await check()) {
        progress?.(`${what}: ok (${((Date.now() - started) / 1000).toFixed(1)}s)`);
        return;
      }
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${what}${last ? ` (last error: ${last})` : ''}`);
    if (progress && Date.now() - lastReport > 10_000) {
      lastReport = Date.now();
      progress(`${what}: still waiting (${Math.round((Date.now() - started) / 1000)}s${last ? `; ${last}` : ''})`);
    }
    await sleep(everyMs);
  }
}

function httpGet(url: string, tls?: { ca?: Buffer; cert?: Buffer; key?: Buffer }, timeoutMs = 3000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const done = (res: http.IncomingMessage) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    };
    const req = url.startsWith('https:') ? https.get(url, { ...tls, timeout: timeoutMs }, done) : http.get(url, { timeout: timeoutMs }, done);
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs}ms`)));
    req.on('error', reject);
  });
}

/**
 * etcd members answer /health (true once there is a quorum). In pki mode over TLS, with the API
 * server's etcd client certificate from `pkiDir` (an etcd host's): etcd lets no one else in.
 */
export async function waitEtcd(plan: ClusterPlan, progress: Progress, timeoutMs = 60_000, security: SecurityMode = 'development', pkiDir = ''): Promise<void> {
  const members = plan.hosts.filter((h) => h.etcd);
  const tls = security === 'pki' ? { ca: fs.readFileSync(path.join(pkiDir, 'etcd-ca.crt')), cert: fs.readFileSync(path.join(pkiDir, 'apiserver-etcd-client.crt')), key: fs.readFileSync(path.join(pkiDir, 'apiserver-etcd-client.key')) } : undefined;
  await waitUntil(`etcd (${members.length} member${members.length > 1 ? 's' : ''}) healthy`, async () => {
    for (const m of members) {
      const r = await httpGet(`${etcdScheme(security)}://${m.ip}:2379/health`, tls);
      if (r.status !== 200 || !r.body.includes('"health":"true"')) throw new Error(`${m.name}: ${r.status} ${r.body.trim()}`);
    }
    return true;
  }, timeoutMs, progress);
}

/** Each control-plane host's API server answers /readyz over TLS verified with the cluster CA. */
export async function waitAPIServers(plan: ClusterPlan, hosts: HostPlan[], caFile: string, progress: Progress, timeoutMs = 60_000): Promise<void> {
  const ca = fs.readFileSync(caFile);
  await waitUntil(`API server${hosts.length > 1 ? 's' : ''} ready (${hosts.map((h) => `https://${h.ip}:${plan.spec.apiserverPort}`).join(', ')})`, async () => {
    for (const h of hosts) {
      const r = await httpGet(`https://${h.ip}:${plan.spec.apiserverPort}/readyz`, { ca });
      // 401/403: it answers, and refuses the anonymous probe (security mode pki).
      if (r.status !== 200 && r.status !== 401 && r.status !== 403) throw new Error(`${h.name}: /readyz ${r.status} ${r.body.trim().slice(0, 200)}`);
    }
    return true;
  }, timeoutMs, progress);
}

export function clientFor(kubeconfig: string): RESTClient {
  return new RESTClient({ config: loadClientConfig({ kubeconfig }), component: 'tkube-lab', timeoutMs: 5000, connectionRetries: 0, maxRetries: 2, qps: 50, burst: 100 });
}

export function nodeReady(n: Node): boolean {
  return (n.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Waits until the named Nodes exist and are Ready. */
export async function waitNodesReady(kubeconfig: string, names: string[], progress: Progress, timeoutMs = 120_000): Promise<void> {
  const client = clientFor(kubeconfig);
  try {
    await waitUntil(`node${names.length > 1 ? 's' : ''} ${names.join(', ')} Ready`, async () => {
      const list = await client.resource(Resources.nodes).list();
      const notReady = names.filter((n) => !list.items.some((x) => x.metadata?.name === n && nodeReady(x)));
      if (notReady.length) throw new Error(`not Ready yet: ${notReady.join(', ')}`);
      return true;
    }, timeoutMs, progress, 1000);
  } finally {
    client.close();
  }
}

/** Whether the API server serves a group/version (RBAC is not served before the security work lands). */
export async function servesGroupVersion(kubeconfig: string, groupVersion: string): Promise<boolean> {
  const client = clientFor(kubeconfig);
  try {
    const res = await client.requestRaw({ path: `/apis/${groupVersion}` });
    return res.status === 200;
  } catch {
    return false;
  } finally {
    client.close();
  }
}

function tkubectl(tkubeHome: string, node: string, kubeconfig: string, args: string[]): { ok: boolean; out: string } {
  const r = spawnSync(node, [path.join(tkubeHome, 'dist/cmd/tkubectl/main.js'), `--kubeconfig=${kubeconfig}`, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0, out: `${r.stdout}${r.stderr}`.trim() };
}

/**
 * Applies every add-on manifest in deploy/addons (in file order) with tkubectl. Objects of an
 * API group the server does not serve yet (RBAC before the security work lands) are skipped
 * with a message.
 */
export async function applyAddons(tkubeHome: string, node: string, kubeconfig: string, progress: Progress): Promise<void> {
  const root = path.join(tkubeHome, 'deploy/addons');
  for (const addon of fs.readdirSync(root).sort()) {
    const files = fs.readdirSync(path.join(root, addon)).filter((f) => f.endsWith('.yaml')).sort();
    for (const f of files) {
      const file = path.join(root, addon, f);
      const text = fs.readFileSync(file, 'utf8');
      const groups = [...text.matchAll(/^apiVersion:\s*(\S+)/gm)].map((m) => m[1]!).filter((gv) => gv.includes('/'));
      const unserved: string[] = [];
      for (const gv of new Set(groups)) if (!(await servesGroupVersion(kubeconfig, gv))) unserved.push(gv);
      if (unserved.length) {
        progress(`add-on ${addon}/${f}: skipped, the API server does not serve ${unserved.join(', ')} yet`);
        continue;
      }
      // Server-side apply: client-side apply merges Service ports by port alone, which folds
      // kube-dns's 53/UDP and 53/TCP into one (upstream's kubernetes#39188).
      const apply = ['apply', '--server-side', '--force-conflicts', '--field-manager=tkube-lab', '-f', file];
      let r = tkubectl(tkubeHome, node, kubeconfig, apply);
      // Right after start the API server may still be creating kube-system: try again briefly.
      for (let i = 0; !r.ok && i < 10; i++) {
        await sleep(1000);
        r = tkubectl(tkubeHome, node, kubeconfig, apply);
      }
      if (!r.ok) throw new Error(`applying ${file} failed: ${r.out}`);
      for (const l of r.out.split('\n').filter(Boolean)) progress(`add-on ${addon}: ${l}`);
    }
  }
}

/** Labels the control-plane hosts' Nodes as upstream's kubeadm does (kubelets may not label themselves so). */
export function labelControlPlaneNodes(tkubeHome: string, node: string, kubeconfig: string, names: string[]): void {
  for (const n of names) tkubectl(tkubeHome, node, kubeconfig, ['label', 'node', n, 'node-role.kubernetes.io/control-plane=', '--overwrite']);
}
