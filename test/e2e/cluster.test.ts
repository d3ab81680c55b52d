/**
 * The whole cluster, end to end, with the real kubectl against one tkube-lab brought up for
 * this file (security pki: client certificates, Node,RBAC, NodeRestriction, ServiceAccount
 * tokens): nodes Ready, a Deployment of 4 spread over both nodes with pod IPs from each node's
 * /24, pod-to-pod traffic across nodes without NAT, a ClusterIP Service reaching every backend
 * from both nodes, cluster DNS, a NodePort from this machine, scaling, a rolling update and its
 * undo, a killed container restarted by its kubelet, and `down` leaving nothing behind.
 * Traffic goes only to the lab's own namespaces.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { kubectls } from '../support/kubectl.js';
import { freeLabNetwork, labUnavailable, testLab } from '../support/lab.js';

const unavailable = labUnavailable() ?? (kubectls()[0] ? undefined : 'needs a kubectl binary');
if (unavailable) console.warn(`cluster e2e skipped: ${unavailable}`);

const lab = testLab('tkc-e2e', unavailable ? undefined : freeLabNetwork());
const nodeIP = (i: number) => lab.network.replace('.0/24', `.${10 + i}`);
const image = 'tkube/busybox:1.36';
const ns = 'e2e';

function kubectl(args: string[], input?: string, timeout = 60_000): { ok: boolean; out: string; err: string } {
  const r = spawnSync(kubectls()[0]!.path, [`--kubeconfig=${path.join(lab.stateDir, 'admin.kubeconfig')}`, ...args], { encoding: 'utf8', input, timeout });
  return { ok: r.status === 0, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

/** kubectl that must succeed; its stdout. */
function k(...args: string[]): string {
  const r = kubectl(args);
  if (!r.ok) throw new Error(`kubectl ${args.join(' ')} failed: ${r.err}${r.out}`);
  return r.out;
}

/** A shell command in a pod (kubectl exec through the API server and the pod's kubelet). */
function sh(pod: string, script: string): string {
  const r = kubectl(['-n', ns, 'exec', pod, '--', 'sh', '-c', script], undefined, 90_000);
  if (!r.ok) throw new Error(`exec in ${pod} failed: ${r.err}${r.out}`);
  return r.out;
}

async function until<T>(what: string, f: () => T | undefined, timeoutMs = 120_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last = '';
  for (;;) {
    try {
      const v = f();
      if (v !== undefined) return v;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last}` : ''}`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

interface PodInfo {
  name: string;
  node: string;
  ip: string;
  phase: string;
  ready: boolean;
  image: string;
  restarts: number;
  containerID: string;
  deleting: boolean;
}

function pods(selector = 'app=web'): PodInfo[] {
  const list = JSON.parse(k('-n', ns, 'get', 'pods', '-l', selector, '-o', 'json')) as { items: Array<Record<string, any>> };
  return list.items.map((p) => ({
    name: p.metadata.name,
    node: p.spec.nodeName ?? '',
    ip: p.status?.podIP ?? '',
    phase: p.status?.phase ?? '',
    ready: (p.status?.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True'),
    image: p.spec.containers[0].image,
    restarts: p.status?.containerStatuses?.[0]?.restartCount ?? 0,
    containerID: p.status?.containerStatuses?.[0]?.containerID ?? '',
    deleting: !!p.metadata.deletionTimestamp,
  }));
}

/** The live (not terminating) pods, once there are `n` of them, all Running and Ready. */
async function runningPods(n: number, selector = 'app=web'): Promise<PodInfo[]> {
  return until(`${n} pods Running and Ready`, () => {
    const live = pods(selector).filter((p) => !p.deleting);
    return live.length === n && live.every((p) => p.phase === 'Running' && p.ready && p.ip) ? live : undefined;
  });
}

/** One HTTP request with busybox nc; the body's last line ("<hostname> <peer address>"). */
const who = (addr: string, port: number) => `printf 'GET /cgi-bin/who HTTP/1.0\\r\\n\\r\\n' | nc -w 5 ${addr} ${port} | tail -n 1`;

/**
 * Pods serving /cgi-bin/who with busybox httpd: the pod's name and the peer address the
 * server saw (REMOTE_ADDR).
 */
const webManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: ${ns}
spec:
  replicas: 4
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: web
        image: ${image}
        imagePullPolicy: Never
        command: ["sh", "-c", "mkdir -p /tmp/www/cgi-bin && printf '#!/bin/sh\\\\necho Content-Type: text/plain\\\\necho\\\\necho \\"$(hostname) $REMOTE_ADDR\\"\\\\n' > /tmp/www/cgi-bin/who && chmod +x /tmp/www/cgi-bin/who && exec httpd -f -p 8080 -h /tmp/www"]
        ports: [{containerPort: 8080}]
        readinessProbe:
          tcpSocket: {port: 8080}
          periodSeconds: 2
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: ${ns}
spec:
  type: NodePort
  selector: {app: web}
  ports: [{port: 80, targetPort: 8080}]
`;

/** A busybox pod that sleeps, pinned to a node (a client). */
const clientManifest = (node: string) => `apiVersion: v1
kind: Pod
metadata:
  name: client-${node}
  namespace: ${ns}
  labels: {app: client}
spec:
  nodeName: ${node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: client
    image: ${image}
    imagePullPolicy: Never
    command: ["sleep", "3600"]
`;

/**
 * One HTTP/1.0 request from this machine over a plain socket (busybox httpd passes the CGI's
 * LF-only header lines through, which node:http refuses); the body's last line.
 */
function hostWho(host: string, port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let data = '';
    const s = net.connect({ host, port }, () => s.end('GET /cgi-bin/who HTTP/1.0\r\n\r\n'));
    s.setTimeout(5000, () => s.destroy(new Error(`no answer from ${host}:${port}`)));
    s.setEncoding('utf8');
    s.on('data', (d: string) => (data += d));
    s.on('end', () => resolve(data.trim().split('\n').pop() ?? ''));
    s.on('error', reject);
  });
}

const figures: string[] = [];
let nodeCIDR: Record<string, string> = {};
let web: PodInfo[] = [];
let clusterIP = '';
let nodePort = 0;

describe.skipIf(!!unavailable)('the whole cluster (tkube-lab, real kubectl)', () => {
  beforeAll(() => {
    lab.stateDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkc-e2e-'));
    const started = Date.now();
    const r = lab.run(['up', ...lab.flags(), '--timeout=180s'], 600_000);
    figures.push(`lab up (hack/provision.sh prepare included): ${((Date.now() - started) / 1000).toFixed(1)}s`);
    if (r.status !== 0) throw new Error(`tkube-lab up failed:\n${r.stdout}${r.stderr}`);
  }, 660_000);

  afterAll(() => {
    if (figures.length) console.log(`cluster e2e figures:\n  ${figures.join('\n  ')}`);
    if (!lab.stateDir) return;
    const r = lab.run(['down', ...lab.flags()], 180_000);
    if (r.status !== 0) console.error(`tkube-lab down failed:\n${r.stdout}${r.stderr}`);
    fs.rmSync(lab.stateDir, { recursive: true, force: true });
  }, 240_000);

  test('kubectl get nodes: both nodes Ready, each with its own /24 podCIDR', () => {
    const out = k('get', 'nodes');
    expect(out).toMatch(/^cp\s+Ready\s/m);
    expect(out).toMatch(/^worker\s+Ready\s/m);
    nodeCIDR = Object.fromEntries(
      k('get', 'nodes', '-o', 'jsonpath={range .items[*]}{.metadata.name}={.spec.podCIDR}{"\\n"}{end}')
        .trim()
        .split('\n')
        .map((l) => l.split('=') as [string, string]),
    );
    expect(nodeCIDR.cp).toMatch(/^10\.244\.\d+\.0\/24$/);
    expect(nodeCIDR.worker).toMatch(/^10\.244\.\d+\.0\/24$/);
    expect(nodeCIDR.cp).not.toBe(nodeCIDR.worker);
  });

  test('a Deployment of 4 busybox replicas spreads over both nodes and runs, pod IPs from each node\'s /24', async () => {
    k('create', 'namespace', ns);
    // The root CA publisher gives every namespace kube-root-ca.crt (the pods' token volume needs it).
    await until('kube-root-ca.crt in the namespace', () => (kubectl(['-n', ns, 'get', 'configmap', 'kube-root-ca.crt']).ok ? true : undefined), 60_000);
    const started = Date.now();
    const applied = kubectl(['apply', '-f', '-'], webManifest);
    expect(applied.ok, applied.err).toBe(true);
    const rollout = kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=180s'], undefined, 200_000);
    expect(rollout.ok, rollout.err).toBe(true);
    web = await runningPods(4);
    figures.push(`4-replica Deployment from kubectl apply to all Running and Ready: ${((Date.now() - started) / 1000).toFixed(1)}s`);
    expect(new Set(web.map((p) => p.node))).toEqual(new Set(['cp', 'worker']));
    for (const p of web) {
      const prefix = nodeCIDR[p.node]!.replace(/0\/24$/, '');
      expect(p.ip.startsWith(prefix), `${p.name} on ${p.node}: ${p.ip} in ${nodeCIDR[p.node]}`).toBe(true);
    }
    // The chain of events: scheduled, then the kubelet started it.
    const events = k('-n', ns, 'get', 'events', '--sort-by=.metadata.creationTimestamp');
    for (const reason of ['ScalingReplicaSet', 'SuccessfulCreate', 'Scheduled', 'Created', 'Started']) expect(events).toContain(reason);
    const svc = JSON.parse(k('-n', ns, 'get', 'service', 'web', '-o', 'json'));
    clusterIP = svc.spec.clusterIP;
    nodePort = svc.spec.ports[0].nodePort;
    for (const node of ['cp', 'worker']) expect(kubectl(['apply', '-f', '-'], clientManifest(node)).ok).toBe(true);
    await runningPods(2, 'app=client');
  }, 300_000);

  test('pod to pod across nodes, both ways, without NAT: the server sees the client\'s own pod IP', () => {
    const clients = pods('app=client');
    for (const c of clients) {
      for (const server of web.filter((p) => p.node !== c.node)) {
        const line = sh(c.name, who(server.ip, 8080)).trim();
        expect(line, `${c.name} (${c.ip}) -> ${server.name} (${server.ip})`).toMatch(new RegExp(`^${server.name} \\[?(::ffff:)?${c.ip.replace(/\./g, '\\.')}\\]?$`));
      }
    }
  });

  test('the ClusterIP Service reaches every backend, from a pod on each node (random spreading)', () => {
    for (const c of pods('app=client')) {
      const out = sh(c.name, `for i in $(seq 1 40); do ${who(clusterIP, 80)}; done`);
      const answered = new Set(out.trim().split('\n').map((l) => l.split(' ')[0]));
      expect(answered, `from ${c.name} on ${c.node}`).toEqual(new Set(web.map((p) => p.name)));
      // Pod to pod through the Service: still the client's own address.
      expect(out.trim().split('\n').every((l) => l.includes(c.ip))).toBe(true);
    }
  });

  test('cluster DNS: a pod resolves web.e2e.svc.cluster.local and kubernetes.default (search domains) through 10.96.0.10', () => {
    const c = pods('app=client')[0]!;
    const conf = sh(c.name, 'cat /etc/resolv.conf');
    expect(conf).toContain('nameserver 10.96.0.10');
    expect(conf).toContain(`search ${ns}.svc.cluster.local svc.cluster.local cluster.local`);
    const svc = sh(c.name, `nslookup web.${ns}.svc.cluster.local`);
    expect(svc).toMatch(/Server:\s+10\.96\.0\.10/);
    expect(svc).toContain(`Address: ${clusterIP}`);
    const api = sh(c.name, 'nslookup kubernetes.default.svc.cluster.local');
    expect(api).toContain('Address: 10.96.0.1');
    // busybox nslookup does not search; the resolver of its libc (ping's) does.
    expect(sh(c.name, 'ping -c 1 -W 1 kubernetes.default 2>&1 | head -n 1; true')).toContain('PING kubernetes.default (10.96.0.1)');
    expect(sh(c.name, 'ping -c 1 -W 1 web 2>&1 | head -n 1; true')).toContain(`PING web (${clusterIP})`);
  });

  test('the NodePort answers on both node addresses from this machine', async () => {
    for (const i of [0, 1]) {
      const seen = new Set<string>();
      for (let n = 0; n < 12; n++) seen.add((await hostWho(nodeIP(i), nodePort)).split(' ')[0]!);
      expect([...seen].every((name) => web.some((p) => p.name === name)), [...seen].join(', ')).toBe(true);
      expect(seen.size).toBeGreaterThan(1);
    }
    // tkube-proxy's rules, as users inspect them on a node.
    const nat = spawnSync('nsenter', [`--net=/run/netns/${lab.prefix}-worker`, '--', 'iptables', '-t', 'nat', '-L', 'KUBE-SERVICES', '-n'], { encoding: 'utf8' }).stdout;
    expect(nat).toContain(`${ns}/web`);
    expect(nat).toContain(clusterIP);
  });

  test('kubectl scale down to 2 and up to 4', async () => {
    k('-n', ns, 'scale', 'deployment/web', '--replicas=2');
    expect(await runningPods(2)).toHaveLength(2);
    k('-n', ns, 'scale', 'deployment/web', '--replicas=4');
    web = await runningPods(4);
    expect(new Set(web.map((p) => p.node)).size).toBe(2);
  }, 240_000);

  test('rolling update with kubectl set image and rollout status, then rollout undo', async () => {
    // A second tag of the same local image, in each node's own Docker engine.
    for (const node of ['cp', 'worker']) {
      const sock = `unix://${path.join(lab.stateDir, 'hosts', node, 'docker.sock')}`;
      const r = spawnSync('docker', ['-H', sock, 'tag', image, 'tkube/busybox:e2e-v2'], { encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    }
    k('-n', ns, 'set', 'image', 'deployment/web', 'web=tkube/busybox:e2e-v2');
    const rollout = kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=180s'], undefined, 200_000);
    expect(rollout.ok, rollout.err).toBe(true);
    expect(rollout.out).toContain('successfully rolled out');
    web = await runningPods(4);
    expect(web.map((p) => p.image)).toEqual(Array(4).fill('tkube/busybox:e2e-v2'));
    expect(k('-n', ns, 'rollout', 'history', 'deployment/web')).toMatch(/^2\s/m);
    k('-n', ns, 'rollout', 'undo', 'deployment/web');
    expect(kubectl(['-n', ns, 'rollout', 'status', 'deployment/web', '--timeout=180s'], undefined, 200_000).ok).toBe(true);
    web = await runningPods(4);
    expect(web.map((p) => p.image)).toEqual(Array(4).fill(image));
  }, 420_000);

  test('a killed container is restarted by its kubelet (restartCount 1, Running again, same pod)', async () => {
    const victim = web.find((p) => p.node === 'worker')!;
    const sock = `unix://${path.join(lab.stateDir, 'hosts', victim.node, 'docker.sock')}`;
    const r = spawnSync('docker', ['-H', sock, 'kill', victim.containerID.replace(/^docker:\/\//, '')], { encoding: 'utf8' });
    expect(r.status, r.stderr).toBe(0);
    const after = await until('the container restarted', () => {
      const p = pods().find((x) => x.name === victim.name);
      return p && p.restarts >= 1 && p.phase === 'Running' && p.ready ? p : undefined;
    });
    expect(after.restarts).toBe(1);
    expect(after.containerID).not.toBe(victim.containerID);
    expect(after.ip).toBe(victim.ip);
    // It serves again.
    const c = pods('app=client')[0]!;
    expect(sh(c.name, who(victim.ip, 8080)).trim().split(' ')[0]).toBe(victim.name);
  }, 180_000);
  test('a stopped kubelet: its node turns NotReady after the grace period, its pods keep serving; back, nothing restarted', async () => {
    const pidFile = path.join(lab.stateDir, 'run', 'worker', 'tkube-kubelet.service.pid');
    const { pid } = JSON.parse(fs.readFileSync(pidFile, 'utf8')) as { pid: number };
    const before = pods().filter((p) => p.node === 'worker' && !p.deleting);
    expect(before.length).toBeGreaterThan(0);
    process.kill(pid, 'SIGTERM');
    const started = Date.now();
    await until('worker NotReady', () => (/^worker\s+NotReady\s/m.test(k('get', 'nodes')) ? true : undefined), 150_000);
    figures.push(`worker NotReady after its kubelet stopped: ${((Date.now() - started) / 1000).toFixed(1)}s (--node-monitor-grace-period 40s)`);
    // The containers run on without their kubelet, and still answer.
    const c = pods('app=client').find((p) => p.node === 'cp')!;
    for (const p of before) expect(sh(c.name, who(p.ip, 8080)).trim().split(' ')[0]).toBe(p.name);
    // Started again (up starts what is not running): Ready, the same containers, no restarts.
    const r = lab.run(['up', ...lab.flags(), '--skip-prepare', '--timeout=120s'], 200_000);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/worker: kubelet started/);
    await until('worker Ready', () => (/^worker\s+Ready\s/m.test(k('get', 'nodes')) ? true : undefined), 120_000);
    const after = await runningPods(4);
    for (const p of before) {
      const now = after.find((x) => x.name === p.name);
      expect(now, `${p.name} still there`).toBeDefined();
      expect([now!.containerID, now!.restarts]).toEqual([p.containerID, p.restarts]);
    }
  }, 360_000);
});
