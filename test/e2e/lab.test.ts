/**
 * tkube-lab end to end: `up` with its own state folder, bridge, network and namespace prefix
 * (hack/provision.sh prepare runs for real), checks what runs and that each component runs the
 * command line of its rendered unit, `up` again (nothing restarts), then `down`, and checks the
 * host is as it was: no namespaces, links, iptables chains, processes, mounts or containers of
 * its own. Traffic goes only to the lab's own namespaces.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { expandCommand, parseUnit } from '../../lib/lab/index.js';
import { kubectls } from '../support/kubectl.js';
import { freeLabNetwork, labProcesses as labProcessesOf, labRoot as root, labSnapshot, labUnavailable, testLab, type HostSnapshot } from '../support/lab.js';

const unavailable = labUnavailable();
const canRun = !unavailable;
if (!canRun) console.warn(`tkube-lab e2e skipped: ${unavailable}`);

const t = testLab('tkl-e2e', canRun ? freeLabNetwork() : undefined);
const { bridge, prefix, network } = t;
const cpIP = network.replace('.0/24', '.10');
let stateDir = '';
const flags = () => t.flags();
const lab = (args: string[], timeout?: number) => t.run(args, timeout);
const snapshot = () => labSnapshot(t);
const labProcesses = () => labProcessesOf(t);

function netnsInode(pid: number): number {
  return fs.statSync(`/proc/${pid}/ns/net`).ino;
}

let before: HostSnapshot;
let upOutput = '';

describe.skipIf(!canRun)('tkube-lab up / down', () => {
  beforeAll(() => {
    stateDir = t.stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkl-e2e-'));
    before = snapshot();
  });

  afterAll(() => {
    // Whatever happened above, leave nothing behind.
    if (stateDir && fs.existsSync(stateDir)) lab(['down', ...flags()], 120_000);
    fs.rmSync(stateDir, { recursive: true, force: true });
  }, 180_000);

  test('up: runs hack/provision.sh, starts etcd, the control plane and two nodes, applies the DNS add-on', () => {
    const r = lab(['up', ...flags(), '--timeout=120s']);
    upOutput = `${r.stdout}${r.stderr}`;
    expect(r.status, upOutput).toBe(0);
    // Progress, step by step, and the provisioning script's own output.
    for (const step of ['[1/9] host preparation', '[2/9] network', '[4/9] etcd', '[5/9] control plane', '[6/9] container runtimes', '[8/9] add-ons', '[9/9] waiting']) expect(upOutput).toContain(step);
    expect(upOutput).toMatch(/==> local images|system packages present|npm dependencies present/);
    expect(upOutput).toMatch(/sysctl net\.ipv4\.ip_forward=1/);
    expect(upOutput).toContain(`tkube-lab is up`);
    expect(fs.existsSync(path.join(stateDir, 'admin.kubeconfig'))).toBe(true);
  }, 300_000);

  test('while up, the snapshot sees the lab (so that an empty one after down means something)', () => {
    const during = snapshot();
    expect(during.netns).toEqual([`${prefix}-cp`, `${prefix}-worker`]);
    expect(during.links).toEqual(expect.arrayContaining([bridge, `${bridge}-0`, `${bridge}-1`]));
    expect(during.chains.join('\n')).toContain(`filter -N TKL-${bridge}`);
    // What leaves the lab is masqueraded (as a VM's NAT interface), nothing else.
    expect(during.chains.join('\n')).toContain(`nat -A TKL-${bridge} -s ${network} ! -o ${bridge}`);
    // Each node's Docker keeps its data and runtime state in memory (tmpfs mounts of its own), which down removes.
    for (const h of ['cp', 'worker']) for (const d of ['docker', 'docker-exec']) expect(during.mounts).toContain(path.join(stateDir, 'hosts', h, d));
    expect(upOutput).toMatch(/cp: dockerd started, data-root on a tmpfs/);
  });

  test('each component runs in its host\'s namespace with the command line of its rendered unit', () => {
    const rec = JSON.parse(fs.readFileSync(path.join(stateDir, 'lab.json'), 'utf8')) as { hosts: Array<{ name: string; netns: string }> };
    expect(rec.hosts.map((h) => h.name)).toEqual(['cp', 'worker']);
    const expected: Record<string, string[]> = { cp: ['etcd.service', 'tkube-apiserver.service', 'docker.service', 'tkube-proxy.service'], worker: ['docker.service', 'tkube-proxy.service'] };
    for (const h of rec.hosts) {
      const nsIno = fs.statSync(`/run/netns/${h.netns}`).ino;
      for (const unit of expected[h.name]!) {
        const pidFile = path.join(stateDir, 'run', h.name, `${unit}.pid`);
        expect(fs.existsSync(pidFile), `${h.name} ${unit}`).toBe(true);
        const { pid } = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as { pid: number };
        expect(netnsInode(pid), `${h.name} ${unit} in ${h.netns}`).toBe(nsIno);
        // And in its host's UTS namespace: the host's name is its hostname, as on a VM.
        expect(spawnSync('nsenter', [`--target=${pid}`, '--uts', '--', 'hostname'], { encoding: 'utf8' }).stdout.trim(), `${h.name} ${unit} hostname`).toBe(h.name);
        let cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
        // A unit with Restart= runs under the lab's supervisor: sh -c <script> tkube-lab-supervise <unit> <policy> <delay> <command...>.
        const sup = cmdline.indexOf('tkube-lab-supervise');
        if (sup >= 0) cmdline = cmdline.slice(sup + 4);
        const rendered = parseUnit(unit, fs.readFileSync(path.join(stateDir, 'hosts', h.name, 'units', unit), 'utf8'));
        expect(cmdline, `${h.name} ${unit}`).toEqual(expandCommand(rendered.execStart, {}));
      }
    }
    const st = lab(['status', `--state-dir=${stateDir}`], 30_000);
    expect(st.stdout).toMatch(/apiserver\s+running \(pid \d+\)/);
    expect(st.stdout).not.toMatch(/\bstopped\b/);
  });

  test('the real kubectl reaches the API server through the lab bridge, with TLS verified', () => {
    const k = kubectls()[0];
    expect(k, 'a kubectl binary').toBeDefined();
    const kc = (...args: string[]) => spawnSync(k!.path, [`--kubeconfig=${path.join(stateDir, 'admin.kubeconfig')}`, ...args], { encoding: 'utf8', timeout: 30_000 });
    const ready = kc('get', '--raw', '/readyz');
    expect(ready.stdout.trim(), ready.stderr).toBe('ok');
    const svc = kc('-n', 'kube-system', 'get', 'service', 'kube-dns', '-o', 'jsonpath={.spec.clusterIP} {.spec.ports[*].protocol}');
    expect(svc.stdout, svc.stderr).toBe('10.96.0.10 UDP TCP');
    expect(kc('-n', 'kube-system', 'get', 'deployment', 'kube-dns', '-o', 'jsonpath={.spec.replicas}').stdout).toBe('2');
    const cs = kc('get', 'componentstatuses');
    expect(cs.stdout).toMatch(/etcd-0\s+Healthy/);
    const kubeconfig = fs.readFileSync(path.join(stateDir, 'admin.kubeconfig'), 'utf8');
    expect(kubeconfig).toContain(`server: https://${cpIP}:6443`);
    expect(kubeconfig).toContain('certificate-authority-data:');
  });

  test('hosts reach each other over the lab bridge; tkube-proxy programmed the kube-dns Service on every node', () => {
    const r = spawnSync('nsenter', [`--net=/run/netns/${prefix}-worker`, '--', process.execPath, '-e',
      `require('net').connect(6443, '${cpIP}').on('connect', () => process.exit(0)).on('error', (e) => { console.error(e.message); process.exit(1); })`], { encoding: 'utf8', timeout: 15_000 });
    expect(r.status, r.stderr).toBe(0);
    for (const host of ['cp', 'worker']) {
      // NAT rules once it has endpoints, a REJECT in the filter table until then.
      const rules = spawnSync('nsenter', [`--net=/run/netns/${prefix}-${host}`, '--', 'iptables-save'], { encoding: 'utf8' });
      expect(rules.stdout, host).toMatch(/-A KUBE-SERVICES -d 10\.96\.0\.10\/32 .*kube-system\/kube-dns:dns/);
    }
    // Each node's own dockerd holds the local images.
    const img = spawnSync('docker', ['-H', `unix://${path.join(stateDir, 'hosts/worker/docker.sock')}`, 'image', 'inspect', '--format', '{{.Id}}', 'tkube/pause:3.10'], { encoding: 'utf8' });
    expect(img.status, img.stderr).toBe(0);
  });

  test('with the kubelet, scheduler and controller manager built, the nodes are Ready and the DNS add-on answers', () => {
    const built = ['tkube-kubelet', 'tkube-scheduler', 'tkube-controller-manager'].filter((p) => fs.existsSync(path.join(root, 'dist/cmd', p, 'main.js')));
    if (built.length < 3) {
      expect(upOutput).toContain('skipped');
      console.warn(`nodes Ready / DNS answers not checked: only ${built.join(', ') || 'none'} of the kubelet, scheduler and controller manager are built`);
      return;
    }
    expect(upOutput).toMatch(/nodes cp, worker Ready: ok/);
    expect(upOutput).toMatch(/cluster DNS \(10\.96\.0\.10\) answers/);
  });

  test('up again is safe: nothing is restarted', () => {
    const pids = () => fs.readdirSync(path.join(stateDir, 'run')).flatMap((h) => fs.readdirSync(path.join(stateDir, 'run', h)).map((f) => `${h}/${f}=${JSON.parse(fs.readFileSync(path.join(stateDir, 'run', h, f), 'utf8')).pid}`)).sort();
    const first = pids();
    const r = lab(['up', ...flags(), '--skip-prepare', '--timeout=60s']);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('apiserver already running');
    expect(r.stdout).not.toMatch(/ (started|restarted) \(log/);
    expect(pids()).toEqual(first);
  }, 120_000);

  test('logs of a component, by host', () => {
    const r = lab(['logs', 'proxy', 'worker', `--state-dir=${stateDir}`], 15_000);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain('tkube-lab starts tkube-proxy.service');
    expect(lab(['logs', 'etcd', 'worker', `--state-dir=${stateDir}`], 15_000).stderr).toContain('etcd does not run on worker');
  });

  test('down leaves the host as it was', () => {
    const r = lab(['down', ...flags()], 120_000);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`removed bridge ${bridge}`);
    const after = snapshot();
    expect(before).toEqual({ netns: [], links: [], chains: [], mounts: [], containers: [] });
    expect(after).toEqual(before);
    expect(labProcesses()).toEqual([]);
    expect(fs.existsSync(stateDir)).toBe(false);
    // And again: nothing to do, no error.
    const again = lab(['down', ...flags()], 60_000);
    expect(again.status, again.stderr).toBe(0);
  }, 180_000);
});
