/**
 * The whole cluster, end to end, with the real kubectl against one tkube-lab brought up for
 * this file (security pki: client certificates, Node,RBAC, NodeRestriction, ServiceAccount
 * tokens): nodes Ready, a Deployment of 4 spread over both nodes with pod IPs from each node's
 * /24, pod-to-pod traffic across nodes without NAT, a ClusterIP Service reaching every backend
 * from both nodes, cluster DNS, a NodePort from this machine, scaling, a rolling update and its
 * undo, a killed container restarted by its kubelet, a DaemonSet and a Job, logs/exec/port-forward
 * through each node's kubelet API, faults (the API server restarted under an informer, a stopped
 * kubelet, a whole node stopped and back), and `down` leaving nothing behind.
 * Traffic goes only to the lab's own namespaces.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { deletedObject, loadClientConfig, Resources, RESTClient, SharedInformerFactory } from '../../lib/client/index.js';
import { labHostServices, netnsName, netnsPids } from '../../lib/lab/index.js';
import { generateKey, selfSignedCA, signedCertificate } from '../../lib/pki/openssl.js';
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

/** A DaemonSet whose pods print a numbered line every second (for kubectl logs -f). */
const tickerManifest = `apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: ticker
  namespace: ${ns}
spec:
  selector:
    matchLabels: {app: ticker}
  template:
    metadata:
      labels: {app: ticker}
    spec:
      terminationGracePeriodSeconds: 1
      containers:
      - name: ticker
        image: ${image}
        imagePullPolicy: Never
        command: ["sh", "-c", "i=1; while true; do echo tick $i; i=$((i+1)); sleep 1; done"]
`;

/** A Deployment whose pods leave an unreachable or not-ready node after 5 s (default: 300 s). */
const evictManifest = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: evict
  namespace: ${ns}
spec:
  replicas: 4
  selector:
    matchLabels: {app: evict}
  template:
    metadata:
      labels: {app: evict}
    spec:
      terminationGracePeriodSeconds: 1
      tolerations:
      - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      - {key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute, tolerationSeconds: 5}
      containers:
      - name: sleep
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

  test('the ClusterIP Service reaches every backend, from a pod on each node (random spreading)', async () => {
    // Pods Ready → EndpointSlice → each node's tkube-proxy: the last backend can take a sync to
    // appear in a node's rules, as upstream. Every answer must come from a backend, and within a
    // few rounds every backend must have answered.
    for (const c of pods('app=client')) {
      const answered = new Set<string>();
      await until(`every backend answering through ${clusterIP} from ${c.name} on ${c.node}`, () => {
        const out = sh(c.name, `for i in $(seq 1 40); do ${who(clusterIP, 80)}; done`);
        const lines = out.trim().split('\n');
        // Pod to pod through the Service: still the client's own address (a round with a failed
        // connection counts for nothing and is tried again).
        expect(lines.every((l) => l.includes(c.ip)), out).toBe(true);
        for (const l of lines) answered.add(l.split(' ')[0]!);
        return answered.size >= web.length ? true : undefined;
      }, 30_000);
      expect(answered, `from ${c.name} on ${c.node}`).toEqual(new Set(web.map((p) => p.name)));
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

  test('a Service without a selector and Endpoints written by hand: mirrored into an EndpointSlice, reached by its ClusterIP and, headless, by DNS', async () => {
    const [a, b] = web;
    const manifest = `apiVersion: v1
kind: Service
metadata: {name: manual, namespace: ${ns}}
spec:
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: manual, namespace: ${ns}, labels: {team: e2e}}
subsets:
- addresses: [{ip: "${a!.ip}"}]
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Service
metadata: {name: manual-hl, namespace: ${ns}}
spec:
  clusterIP: None
  ports: [{port: 8080}]
---
apiVersion: v1
kind: Endpoints
metadata: {name: manual-hl, namespace: ${ns}}
subsets:
- addresses: [{ip: "${a!.ip}"}, {ip: "${b!.ip}"}]
  ports: [{port: 8080}]
`;
    const applied = kubectl(['apply', '-f', '-'], manifest);
    expect(applied.ok, applied.err).toBe(true);
    const slice = await until('the mirrored EndpointSlice', () => {
      const items = JSON.parse(k('-n', ns, 'get', 'endpointslices', '-l', 'kubernetes.io/service-name=manual', '-o', 'json')).items;
      return items.length === 1 ? items[0] : undefined;
    }, 30_000);
    expect(slice.metadata.labels).toMatchObject({ team: 'e2e', 'endpointslice.kubernetes.io/managed-by': 'endpointslicemirroring-controller.k8s.io' });
    expect(slice.metadata.ownerReferences[0]).toMatchObject({ kind: 'Endpoints', name: 'manual' });
    expect(slice.endpoints.map((e: { addresses: string[] }) => e.addresses[0])).toEqual([a!.ip]);

    const manualIP = k('-n', ns, 'get', 'service', 'manual', '-o', 'jsonpath={.spec.clusterIP}').trim();
    const c = pods('app=client')[0]!;
    const line = await until(`${manualIP}:80 answering from ${c.name}`, () => sh(c.name, `${who(manualIP, 80)} || true`).trim() || undefined, 30_000);
    expect(line.split(' ')[0]).toBe(a!.name);
    const hl = await until('manual-hl resolving to both addresses', () => {
      const out = sh(c.name, `nslookup manual-hl.${ns}.svc.cluster.local || true`);
      return out.includes(`Address: ${a!.ip}`) && out.includes(`Address: ${b!.ip}`) ? out : undefined;
    }, 30_000);
    expect(hl).toMatch(/Server:\s+10\.96\.0\.10/);

    // Without their Service, the Endpoints are not mirrored any more: the slices go.
    k('-n', ns, 'delete', 'service', 'manual', 'manual-hl');
    await until('mirrored slices removed', () => (k('-n', ns, 'get', 'endpointslices', '-l', 'endpointslice.kubernetes.io/managed-by=endpointslicemirroring-controller.k8s.io', '-o', 'name').trim() === '' ? true : undefined), 30_000);
    k('-n', ns, 'delete', 'endpoints', 'manual', 'manual-hl', '--ignore-not-found');
  }, 120_000);

  test('an admission webhook served by a pod behind a ClusterIP Service: the API server reaches it through kube-proxy\'s rules, the certificate checked for denier.e2e.svc', async () => {
    kubectl(['create', 'namespace', ns]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkc-webhook-'));
    const caKey = generateKey('ecdsa');
    const ca = selfSignedCA(caKey, { commonName: 'e2e-webhook-ca' }, 1);
    const key = generateKey('ecdsa');
    fs.writeFileSync(path.join(dir, 'tls.key'), key);
    fs.writeFileSync(path.join(dir, 'tls.crt'), signedCertificate(key, { subject: { commonName: 'denier' }, dnsNames: [`denier.${ns}.svc`], usages: ['server'], days: 1 }, ca, caKey));
    k('-n', ns, 'create', 'secret', 'tls', 'denier-tls', `--cert=${path.join(dir, 'tls.crt')}`, `--key=${path.join(dir, 'tls.key')}`);
    fs.rmSync(dir, { recursive: true, force: true });
    // The webhook server: refuses objects labelled deny=true, naming the pod that answered.
    const server = `const https = require('https'), fs = require('fs'), os = require('os');
https.createServer({ key: fs.readFileSync('/tls/tls.key'), cert: fs.readFileSync('/tls/tls.crt') }, (q, s) => {
  let b = ''; q.on('data', (c) => (b += c)); q.on('end', () => {
    const r = JSON.parse(b); const o = r.request.object || {};
    const deny = ((o.metadata || {}).labels || {}).deny === 'true';
    s.setHeader('content-type', 'application/json');
    s.end(JSON.stringify({ apiVersion: r.apiVersion, kind: 'AdmissionReview', response: { uid: r.request.uid, allowed: !deny, status: deny ? { message: 'refused by ' + os.hostname() } : undefined } }));
  });
}).listen(8443);`;
    const manifest = {
      apiVersion: 'v1',
      kind: 'List',
      items: [
        { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'denier', namespace: ns, labels: { app: 'denier' } }, spec: { containers: [{ name: 'hook', image: 'tkube/tkube:0.1.0', imagePullPolicy: 'Never', command: ['node', '-e', server], ports: [{ containerPort: 8443 }], readinessProbe: { tcpSocket: { port: 8443 }, periodSeconds: 1 }, volumeMounts: [{ name: 'tls', mountPath: '/tls', readOnly: true }] }], volumes: [{ name: 'tls', secret: { secretName: 'denier-tls' } }] } },
        { apiVersion: 'v1', kind: 'Service', metadata: { name: 'denier', namespace: ns }, spec: { selector: { app: 'denier' }, ports: [{ port: 443, targetPort: 8443 }] } },
      ],
    };
    const applied = kubectl(['apply', '-f', '-'], JSON.stringify(manifest));
    expect(applied.ok, applied.err).toBe(true);
    await until('the webhook pod Ready', () => (k('-n', ns, 'get', 'pod', 'denier', '-o', 'jsonpath={.status.conditions[?(@.type=="Ready")].status}') === 'True' ? true : undefined), 120_000);
    // Only objects that ask for it (the object selector) are sent, so the rest of the cluster never waits on this pod.
    const config = {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: 'e2e-denier' },
      webhooks: [{ name: 'denier.e2e.tkube.test', clientConfig: { service: { namespace: ns, name: 'denier', path: '/validate' }, caBundle: Buffer.from(ca).toString('base64') }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }], objectSelector: { matchLabels: { 'webhook-e2e': 'yes' } }, sideEffects: 'None', admissionReviewVersions: ['v1'], timeoutSeconds: 5 }],
    };
    expect(kubectl(['apply', '-f', '-'], JSON.stringify(config)).ok).toBe(true);
    try {
      const cm = (name: string, labels: Record<string, string>) => JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name, namespace: ns, labels: { 'webhook-e2e': 'yes', ...labels } } });
      const refused = await until('the webhook answering a refusal', () => {
        const r = kubectl(['create', '-f', '-'], cm('hooked-no', { deny: 'true' }));
        return r.err.includes('denied the request') ? r : undefined;
      }, 30_000);
      expect(refused.ok).toBe(false);
      expect(refused.err).toContain('admission webhook "denier.e2e.tkube.test" denied the request: refused by denier');
      const allowed = kubectl(['create', '-f', '-'], cm('hooked-yes', {}));
      expect(allowed.ok, allowed.err).toBe(true);
      // The pod gone, the Service has nowhere to send the call: failurePolicy Fail refuses the request.
      k('-n', ns, 'delete', 'pod', 'denier', '--grace-period=1', '--wait=true');
      let attempt = 0;
      const down = await until('the call failing', () => {
        const r = kubectl(['create', '-f', '-'], cm(`hooked-down-${++attempt}`, {}));
        return r.ok ? undefined : r;
      }, 60_000);
      expect(down.err).toContain(`Internal error occurred: failed calling webhook "denier.e2e.tkube.test": failed to call webhook: Post "https://denier.${ns}.svc:443/validate?timeout=5s"`);
    } finally {
      kubectl(['delete', 'validatingwebhookconfiguration', 'e2e-denier', '--ignore-not-found']);
      kubectl(['-n', ns, 'delete', 'service', 'denier', '--ignore-not-found']);
      kubectl(['-n', ns, 'delete', 'pod', 'denier', '--ignore-not-found', '--wait=false']);
      kubectl(['-n', ns, 'delete', 'configmap', 'hooked-yes', '--ignore-not-found']);
    }
  }, 240_000);

  test('a hostPath PersistentVolume and a claim: bound, written by a pod, kept while in use, Released (Retain) once the claim goes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-e2e-pv-'));
    try {
      const manifest = `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${ns}-pv}
spec:
  storageClassName: manual
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  persistentVolumeReclaimPolicy: Retain
  hostPath: {path: "${dir}", type: Directory}
---
apiVersion: v1
kind: PersistentVolumeClaim
metadata: {name: data, namespace: ${ns}}
spec:
  storageClassName: manual
  accessModes: [ReadWriteOnce]
  resources: {requests: {storage: 500Mi}}
---
apiVersion: v1
kind: Pod
metadata: {name: writer, namespace: ${ns}}
spec:
  containers:
  - name: w
    image: ${image}
    imagePullPolicy: Never
    command: ["sh", "-c", "echo written-by-a-pod > /data/hello && sleep 3600"]
    volumeMounts: [{name: d, mountPath: /data}]
  volumes:
  - name: d
    persistentVolumeClaim: {claimName: data}
`;
      const applied = kubectl(['apply', '-f', '-'], manifest);
      expect(applied.ok, applied.err).toBe(true);
      await until('claim Bound', () => (k('-n', ns, 'get', 'pvc', 'data', '-o', 'jsonpath={.status.phase}') === 'Bound' ? true : undefined), 60_000);
      const pvLine = k('get', 'pv', `${ns}-pv`, '--no-headers');
      expect(pvLine).toMatch(new RegExp(`^${ns}-pv\\s+1Gi\\s+RWO\\s+Retain\\s+Bound\\s+${ns}/data\\s+manual\\s`));
      expect(k('-n', ns, 'get', 'pvc', 'data', '--no-headers')).toMatch(new RegExp(`^data\\s+Bound\\s+${ns}-pv\\s+1Gi\\s+RWO\\s+manual\\s`));
      const content = await until('the pod\'s file on the volume', () => {
        try {
          return fs.readFileSync(path.join(dir, 'hello'), 'utf8');
        } catch {
          return undefined;
        }
      }, 90_000);
      expect(content).toBe('written-by-a-pod\n');

      // In use: deleting the claim leaves it Terminating until the pod is gone.
      k('-n', ns, 'delete', 'pvc', 'data', '--wait=false');
      await new Promise((r) => setTimeout(r, 2000));
      const held = JSON.parse(k('-n', ns, 'get', 'pvc', 'data', '-o', 'json'));
      expect(held.metadata.deletionTimestamp).toBeTruthy();
      expect(held.metadata.finalizers).toEqual(['kubernetes.io/pvc-protection']);
      k('-n', ns, 'delete', 'pod', 'writer', '--grace-period=1');
      await until('claim gone', () => (kubectl(['-n', ns, 'get', 'pvc', 'data']).ok ? undefined : true), 60_000);
      await until('volume Released', () => (k('get', 'pv', `${ns}-pv`, '-o', 'jsonpath={.status.phase}') === 'Released' ? true : undefined), 60_000);
      expect(fs.readFileSync(path.join(dir, 'hello'), 'utf8')).toBe('written-by-a-pod\n');
      // Not bound any more: pv-protection lets it go.
      k('delete', 'pv', `${ns}-pv`, '--timeout=60s');
    } finally {
      kubectl(['delete', 'pv', `${ns}-pv`, '--ignore-not-found', '--wait=false']);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }, 240_000);

  test('a StatefulSet with volumeClaimTemplates on local volumes of a WaitForFirstConsumer class: each pod\'s claim bound to a volume of its node', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-e2e-lv-'));
    const cls = `${ns}-local`;
    const pv = (node: string) => `apiVersion: v1
kind: PersistentVolume
metadata: {name: ${ns}-lv-${node}}
spec:
  capacity: {storage: 1Gi}
  accessModes: [ReadWriteOnce]
  storageClassName: ${cls}
  local: {path: "${root}/${node}"}
  nodeAffinity:
    required:
      nodeSelectorTerms:
      - matchExpressions: [{key: kubernetes.io/hostname, operator: In, values: [${node}]}]
---
`;
    try {
      for (const node of ['cp', 'worker']) fs.mkdirSync(path.join(root, node));
      const manifest = `apiVersion: storage.k8s.io/v1
kind: StorageClass
metadata: {name: ${cls}}
provisioner: kubernetes.io/no-provisioner
volumeBindingMode: WaitForFirstConsumer
---
${pv('cp')}${pv('worker')}apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: ${ns}}
spec:
  serviceName: db
  replicas: 2
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      terminationGracePeriodSeconds: 1
      affinity:
        podAntiAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
          - labelSelector: {matchLabels: {app: db}}
            topologyKey: kubernetes.io/hostname
      containers:
      - name: db
        image: ${image}
        imagePullPolicy: Never
        command: ["sh", "-c", "hostname > /data/who && sleep 3600"]
        volumeMounts: [{name: data, mountPath: /data}]
  volumeClaimTemplates:
  - metadata: {name: data}
    spec:
      accessModes: [ReadWriteOnce]
      storageClassName: ${cls}
      resources: {requests: {storage: 500Mi}}
`;
      const applied = kubectl(['apply', '-f', '-'], manifest);
      expect(applied.ok, applied.err).toBe(true);
      const rollout = kubectl(['-n', ns, 'rollout', 'status', 'statefulset/db', '--timeout=120s'], undefined, 150_000);
      expect(rollout.ok, rollout.err).toBe(true);
      const claims = JSON.parse(k('-n', ns, 'get', 'pvc', '-o', 'json')).items.filter((c: { metadata: { name: string } }) => c.metadata.name.startsWith('data-db-'));
      const podNode = Object.fromEntries(pods('app=db').map((p) => [p.name, p.node]));
      expect(Object.keys(podNode).sort()).toEqual(['db-0', 'db-1']);
      for (const c of claims) {
        const pod = c.metadata.name.replace(/^data-/, '');
        // Bound to the volume of the node its pod runs on, and the pod wrote there.
        expect(c.status.phase).toBe('Bound');
        expect(c.spec.volumeName).toBe(`${ns}-lv-${podNode[pod]}`);
        expect(fs.readFileSync(path.join(root, podNode[pod]!, 'who'), 'utf8').trim()).toBe(pod);
      }
    } finally {
      kubectl(['-n', ns, 'delete', 'statefulset', 'db', '--wait=true', '--timeout=60s']);
      kubectl(['-n', ns, 'delete', 'pvc', 'data-db-0', 'data-db-1', '--ignore-not-found', '--timeout=60s']);
      kubectl(['delete', 'pv', `${ns}-lv-cp`, `${ns}-lv-worker`, '--ignore-not-found', '--timeout=60s']);
      kubectl(['delete', 'storageclass', cls, '--ignore-not-found']);
      fs.rmSync(root, { recursive: true, force: true });
    }
  }, 300_000);

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
  test('a DaemonSet runs one Ready pod on each node; a Job runs to completion', async () => {
    expect(kubectl(['apply', '-f', '-'], tickerManifest).ok).toBe(true);
    const ds = await until('the DaemonSet\'s pods', () => {
      const live = pods('app=ticker').filter((p) => !p.deleting);
      return live.length === 2 && live.every((p) => p.phase === 'Running' && p.ready) ? live : undefined;
    });
    expect(ds.map((p) => p.node).sort()).toEqual(['cp', 'worker']);
    const st = JSON.parse(k('-n', ns, 'get', 'daemonset', 'ticker', '-o', 'json')).status;
    expect([st.desiredNumberScheduled, st.currentNumberScheduled, st.numberReady]).toEqual([2, 2, 2]);
    k('-n', ns, 'create', 'job', 'once', `--image=${image}`, '--', 'sh', '-c', 'echo job-done-$((6 * 7))');
    const wait = kubectl(['-n', ns, 'wait', '--for=condition=complete', 'job/once', '--timeout=120s'], undefined, 150_000);
    expect(wait.ok, wait.err).toBe(true);
    expect(wait.out).toContain('job.batch/once condition met');
    const job = JSON.parse(k('-n', ns, 'get', 'job', 'once', '-o', 'json')).status;
    expect([job.succeeded, job.failed ?? 0]).toEqual([1, 0]);
    expect(k('-n', ns, 'logs', 'job/once').trim()).toBe('job-done-42');
  }, 240_000);

  test('kubectl autoscale: a busy Deployment is scaled up from its pods\' measured CPU (metrics API → HPA controller)', async () => {
    k('-n', ns, 'create', 'deployment', 'busy', `--image=${image}`, '--', 'sh', '-c', 'trap "exit 0" TERM; while :; do :; done');
    try {
      k('-n', ns, 'set', 'resources', 'deployment', 'busy', '--requests=cpu=50m');
      k('-n', ns, 'rollout', 'status', 'deployment/busy', '--timeout=120s');
      expect(k('-n', ns, 'autoscale', 'deployment', 'busy', '--min=1', '--max=3', '--cpu-percent=50')).toContain('horizontalpodautoscaler.autoscaling/busy autoscaled');
      // One pod spinning uses far more than 50% of 50m: the first sync with metrics asks for the maximum.
      const hpa = await until('the autoscaler to scale busy to 3', () => {
        const h = JSON.parse(k('-n', ns, 'get', 'hpa', 'busy', '-o', 'json'));
        return h.status?.desiredReplicas === 3 ? h : undefined;
      }, 180_000);
      const cpu = hpa.status.currentMetrics.find((m: { type: string }) => m.type === 'Resource').resource.current;
      expect(cpu.averageUtilization).toBeGreaterThan(100);
      expect(hpa.status.conditions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ type: 'AbleToScale', status: 'True' }),
          expect.objectContaining({ type: 'ScalingActive', status: 'True', reason: 'ValidMetricFound' }),
        ]),
      );
      await until('3 busy replicas', () => (JSON.parse(k('-n', ns, 'get', 'deployment', 'busy', '-o', 'json')).spec.replicas === 3 ? true : undefined));
      expect(k('-n', ns, 'get', 'hpa', 'busy', '--no-headers')).toMatch(/^busy\s+Deployment\/busy\s+cpu: \d+%\/50%\s+1\s+3\s+\d\s+/);
      const events = k('-n', ns, 'get', 'events', '--field-selector=involvedObject.kind=HorizontalPodAutoscaler,involvedObject.name=busy', '-o', 'json');
      expect(JSON.parse(events).items.map((e: { reason: string; message: string; source: { component: string } }) => [e.reason, e.message, e.source.component])).toContainEqual([
        'SuccessfulRescale',
        'New size: 3; reason: cpu resource utilization (percentage of request) above target',
        'horizontal-pod-autoscaler',
      ]);
    } finally {
      // Stop the spinning pods at once: the rest of the suite shares these two cores.
      kubectl(['-n', ns, 'delete', 'hpa', 'busy', '--ignore-not-found']);
      kubectl(['-n', ns, 'delete', 'deployment', 'busy', '--wait=false']);
      kubectl(['-n', ns, 'delete', 'pods', '-l', 'app=busy', '--wait=false']);
    }
  }, 300_000);

  test('kubectl logs (and -f), exec with stdin and exit codes, port-forward: through the API server to each node\'s kubelet', async () => {
    for (const p of pods('app=ticker')) {
      expect(k('-n', ns, 'logs', p.name)).toMatch(/^tick 1$/m);
      // -f: lines keep arriving while it follows.
      const f = spawn(kubectls()[0]!.path, [`--kubeconfig=${path.join(lab.stateDir, 'admin.kubeconfig')}`, '-n', ns, 'logs', '-f', '--tail=1', p.name], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      f.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const ticks = await until(`logs -f of ${p.name} following`, () => {
          const n = out.split('\n').filter((l) => /^tick \d+$/.test(l));
          return n.length >= 3 ? n : undefined;
        }, 30_000);
        const seq = ticks.map((l) => Number(l.split(' ')[1]));
        expect(seq.slice(1)).toEqual(seq.slice(1).map((_, i) => seq[0]! + i + 1));
      } finally {
        f.kill();
      }
      const upper = kubectl(['-n', ns, 'exec', '-i', p.name, '--', 'sh', '-c', 'tr a-z A-Z; echo "on $(hostname)"'], `hello from ${p.node}\n`);
      expect(upper.ok, upper.err).toBe(true);
      expect(upper.out).toBe(`HELLO FROM ${p.node.toUpperCase()}\non ${p.name}\n`);
      const failed = spawnSync(kubectls()[0]!.path, [`--kubeconfig=${path.join(lab.stateDir, 'admin.kubeconfig')}`, '-n', ns, 'exec', p.name, '--', 'sh', '-c', 'exit 3'], { encoding: 'utf8', timeout: 60_000 });
      expect(failed.status).toBe(3);
    }
    // port-forward: a local port on this machine to a web pod on each node.
    for (const node of ['cp', 'worker']) {
      const target = pods().find((p) => p.node === node && !p.deleting)!;
      const pf = spawn(kubectls()[0]!.path, [`--kubeconfig=${path.join(lab.stateDir, 'admin.kubeconfig')}`, '-n', ns, 'port-forward', `pod/${target.name}`, ':8080'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      pf.stdout.on('data', (d: Buffer) => (out += d.toString()));
      try {
        const port = await until('port-forward listening', () => out.match(/Forwarding from 127\.0\.0\.1:(\d+) -> 8080/)?.[1], 30_000);
        for (let i = 0; i < 3; i++) {
          // Through the tunnel the pod sees a connection from its own loopback.
          expect(await hostWho('127.0.0.1', Number(port))).toMatch(new RegExp(`^${target.name} \\[?(::ffff:)?127\\.0\\.0\\.1\\]?$`));
        }
      } finally {
        pf.kill();
      }
    }
  }, 240_000);

  test('every controller acted as its own service account with its system:controller role, and none of the cluster\'s requests so far was refused', () => {
    const accounts = k('get', 'serviceaccounts', '-n', 'kube-system', '-o', 'jsonpath={.items[*].metadata.name}').split(' ');
    for (const a of ['deployment-controller', 'replicaset-controller', 'daemon-set-controller', 'job-controller', 'statefulset-controller', 'node-controller', 'endpointslice-controller', 'horizontal-pod-autoscaler', 'persistent-volume-binder', 'generic-garbage-collector']) {
      expect(accounts).toContain(a);
    }
    expect(k('get', 'clusterrolebinding', 'system:controller:deployment-controller', '-o', 'jsonpath={.roleRef.name} {.subjects[0].namespace}/{.subjects[0].name}')).toBe('system:controller:deployment-controller kube-system/deployment-controller');
    // Every test above went through the controllers (deployments, rollouts, a StatefulSet with
    // claims, volumes, a DaemonSet, a Job, an autoscaler): a write their roles do not allow
    // would be a 403 here (the API server's counters start with it, before the restart below).
    // Reads are left out: a kubelet may read a new pod's ConfigMap a moment before the Node
    // authorizer has seen the pod, and is refused once, as upstream, before it tries again.
    const refused = k('get', '--raw', '/metrics')
      .split('\n')
      .filter((l) => l.startsWith('apiserver_request_total{') && l.includes('code="403"') && /verb="(POST|PUT|PATCH|APPLY|DELETE)"/.test(l));
    expect(refused).toEqual([]);
  });

  test('the API server restarted: an informer resumes with every change seen; the controllers, scheduler and kubelets carry on', async () => {
    const client = new RESTClient({ config: loadClientConfig({ kubeconfig: path.join(lab.stateDir, 'admin.kubeconfig') }), component: 'e2e', timeoutMs: 10_000, connectionRetries: 0, maxRetries: 0 });
    const factory = new SharedInformerFactory({ client, informerOptions: { backoffInitialMs: 200, backoffMaxMs: 2000 } });
    const seen: string[] = [];
    const cms = factory.informerFor(Resources.configMaps, { namespace: ns, labelSelector: 'e2e=watch' });
    cms.addEventHandler({
      onAdd: (cm) => seen.push(`add ${cm.metadata!.name} ${cm.data?.v}`),
      onUpdate: (a, b) => a.metadata!.resourceVersion !== b.metadata!.resourceVersion && seen.push(`update ${b.metadata!.name} ${b.data?.v}`),
      onDelete: (x) => seen.push(`delete ${deletedObject(x).metadata!.name}`),
    });
    const ctl = new AbortController();
    void factory.start(ctl.signal);
    const cm = (name: string, v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: ${name}, namespace: ${ns}, labels: {e2e: watch}}\ndata: {v: "${v}"}\n`;
    const apply = (name: string, v: string) => expect(kubectl(['apply', '-f', '-'], cm(name, v)).ok).toBe(true);
    try {
      expect(await factory.waitForCacheSync(ctl.signal)).toBe(true);
      apply('a', '1');
      apply('b', '1');
      await until('a and b seen', () => (seen.includes('add a 1') && seen.includes('add b 1') ? true : undefined), 30_000);
      const cp = labHostServices(lab.stateDir, netnsName(lab.prefix, 'cp'), 'cp');
      expect(await cp.stop('tkube-apiserver.service')).toBe(true);
      expect(kubectl(['get', 'nodes'], undefined, 20_000).ok).toBe(false);
      const r = lab.run(['up', ...lab.flags(), '--skip-prepare', '--no-wait', '--timeout=120s'], 200_000);
      expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
      expect(r.stdout).toMatch(/cp: apiserver started/);
      // At once, while the informer may still be reconnecting: an update, a delete, a create, and
      // an object created and deleted in between (only a watch resumed from the last version seen
      // reports that one; a re-list would not).
      apply('a', '2');
      expect(kubectl(['-n', ns, 'delete', 'configmap', 'b']).ok).toBe(true);
      apply('c', '1');
      apply('d', '1');
      expect(kubectl(['-n', ns, 'delete', 'configmap', 'd']).ok).toBe(true);
      await until('the changes seen', () => (['update a 2', 'delete b', 'add c 1', 'add d 1', 'delete d'].every((e) => seen.includes(e)) ? true : undefined), 60_000);
      apply('c', '2');
      await until('c updated', () => (seen.includes('update c 2') ? true : undefined), 30_000);
      expect(seen).toEqual(['add a 1', 'add b 1', 'update a 2', 'delete b', 'add c 1', 'add d 1', 'delete d', 'update c 2']);
      expect(cms.getIndexer().list().map((x) => `${x.metadata!.name}=${x.data!.v}`).sort()).toEqual(['a=2', 'c=2']);
    } finally {
      ctl.abort();
      client.close();
    }
    // The controllers, the scheduler and both kubelets watch on: a new Deployment runs on both nodes.
    expect(kubectl(['-n', ns, 'create', 'deployment', 'after', `--image=${image}`, '--replicas=4', '--', 'sleep', '3600']).ok).toBe(true);
    const after = await runningPods(4, 'app=after');
    expect(new Set(after.map((p) => p.node))).toEqual(new Set(['cp', 'worker']));
    k('-n', ns, 'delete', 'deployment', 'after', '--wait=false');
  }, 300_000);

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

  test('a node stopped entirely: NotReady within the grace period, pods with a 5 s toleration replaced on the other node; back, Ready, the old pods cleaned up', async () => {
    expect(kubectl(['apply', '-f', '-'], evictManifest).ok).toBe(true);
    const placed = await runningPods(4, 'app=evict');
    const doomed = placed.filter((p) => p.node === 'worker');
    expect(doomed.length, 'the scheduler spreads the Deployment over both nodes').toBeGreaterThan(0);
    const worker = labHostServices(lab.stateDir, netnsName(lab.prefix, 'worker'), 'worker');
    const sock = path.join(lab.stateDir, 'hosts', 'worker', 'docker.sock');
    // The whole node, as a power cut would leave it: kubelet, proxy, and its Docker engine (and with it every container).
    const stopped = Date.now();
    for (const unit of ['tkube-kubelet.service', 'tkube-proxy.service', 'docker.service']) expect(await worker.stop(unit), unit).toBe(true);
    await until('nothing left running in the worker namespace', () => (netnsPids(netnsName(lab.prefix, 'worker')).length === 0 ? true : undefined), 60_000);
    await until('worker NotReady', () => (/^worker\s+NotReady\s/m.test(k('get', 'nodes')) ? true : undefined), 150_000);
    figures.push(`worker NotReady after the node stopped: ${((Date.now() - stopped) / 1000).toFixed(1)}s (--node-monitor-grace-period 40s)`);
    // The node lifecycle controller: Ready Unknown, then the unreachable taints (NoSchedule, and NoExecute that evicts).
    const node = await until('the unreachable NoExecute taint', () => {
      const n = JSON.parse(k('get', 'node', 'worker', '-o', 'json'));
      return (n.spec.taints ?? []).some((t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute') ? n : undefined;
    }, 60_000);
    expect(node.status.conditions.find((c: any) => c.type === 'Ready')).toMatchObject({ status: 'Unknown', reason: 'NodeStatusUnknown' });
    expect(node.spec.taints.map((t: any) => `${t.key}:${t.effect}`).sort()).toEqual(['node.kubernetes.io/unreachable:NoExecute', 'node.kubernetes.io/unreachable:NoSchedule']);
    // Evicted after their 5 s, replaced on cp; the old ones stay Terminating until their kubelet confirms.
    const replaced = await until('the evicted pods replaced on cp', () => {
      const all = pods('app=evict');
      const live = all.filter((p) => !p.deleting);
      const evicted = all.filter((p) => p.deleting).map((p) => p.name).sort();
      return live.length === 4 && live.every((p) => p.node === 'cp' && p.phase === 'Running' && p.ready) && JSON.stringify(evicted) === JSON.stringify(doomed.map((p) => p.name).sort()) ? live : undefined;
    }, 150_000);
    figures.push(`evicted pods replaced and Running on cp: ${((Date.now() - stopped) / 1000).toFixed(1)}s after the node stopped`);
    expect(replaced.filter((p) => placed.some((x) => x.name === p.name)).every((p) => p.node === 'cp')).toBe(true);
    const events = k('-n', ns, 'get', 'events', '--field-selector', `involvedObject.name=${doomed[0]!.name}`);
    expect(events).toContain('TaintManagerEviction');

    // Back up: Ready again, the Terminating pods finished by their kubelet and gone, their containers too.
    const r = lab.run(['up', ...lab.flags(), '--skip-prepare', '--timeout=150s'], 300_000);
    expect(r.status, `${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toMatch(/worker: dockerd started/);
    await until('worker Ready', () => (/^worker\s+Ready\s/m.test(k('get', 'nodes')) ? true : undefined), 120_000);
    await until('the evicted pods gone', () => (pods('app=evict').length === 4 ? true : undefined), 120_000);
    expect(pods('app=evict').map((p) => p.name).sort()).toEqual(replaced.map((p) => p.name).sort());
    const left = spawnSync('docker', ['-H', `unix://${sock}`, 'ps', '-a', '-q', '--filter', `label=io.kubernetes.pod.namespace=${ns}`, '--filter', 'label=app=evict'], { encoding: 'utf8' });
    expect(left.stdout.trim()).toBe('');
    for (const p of doomed) {
      const c = spawnSync('docker', ['-H', `unix://${sock}`, 'ps', '-a', '-q', '--filter', `label=io.kubernetes.pod.name=${p.name}`], { encoding: 'utf8' });
      expect(c.stdout.trim(), `containers of ${p.name}`).toBe('');
    }
    // What the node runs again: its DaemonSet pod and the web pods it kept (their containers restarted).
    await until('the ticker Running on both nodes again', () => {
      const live = pods('app=ticker').filter((p) => !p.deleting && p.phase === 'Running' && p.ready);
      return live.length === 2 ? true : undefined;
    });
    expect(new Set((await runningPods(4)).map((p) => p.node))).toEqual(new Set(['cp', 'worker']));
  }, 600_000);
});
