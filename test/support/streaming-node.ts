/**
 * A node for streaming tests: tkube's kubelet API server (lib/kubelet/server) on a free
 * loopback port, answering from pods this helper runs itself in the real Docker engine, and
 * the Node and Pod objects that point the API server at it. It stands in for the kubelet's pod
 * lifecycle (another part of tkube): pods are started here, not by watching the API server.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type Docker from 'dockerode';
import type { Pod } from '../../lib/api/index.js';
import { silentLogger } from '../../lib/base/index.js';
import { DockerRuntime, InMemoryKubeletHost, KubeletServer, type ContainerConfig } from '../../lib/kubelet/index.js';
import { busyboxImage } from '../../hack/images/images.js';
import { api } from './apiserver.js';
import { e2eRunLabel } from './node-host.js';

export interface TestContainer {
  name: string;
  command: string[];
  stdin?: boolean;
  tty?: boolean;
  /** Instances to run before the current one, each left exited (to have a previous instance). */
  previousRuns?: string[][];
}

export interface RunningPod {
  pod: Pod;
  sandboxId: string;
  containerIds: Record<string, string>;
}

export interface TestKubeletNode {
  nodeName: string;
  server: KubeletServer;
  host: InMemoryKubeletHost;
  runtime: DockerRuntime;
  port: number;
  /** Creates the pod in the API server, runs its containers, and reports it Running. */
  runPod(name: string, containers: TestContainer[], opts?: { labels?: Record<string, string> }): Promise<RunningPod>;
  /** Creates the pod as bound to the node but not started: its containers wait (reason given). */
  waitingPod(name: string, container: string, reason: string): Promise<Pod>;
  stop(): Promise<void>;
}

export async function startTestKubeletNode(opts: { apiURL: string; docker: Docker; run: string; nodeName?: string }): Promise<TestKubeletNode> {
  const nodeName = opts.nodeName ?? `node-${opts.run}`;
  const runtime = new DockerRuntime({ log: silentLogger(), docker: opts.docker });
  const host = new InMemoryKubeletHost(nodeName, runtime);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-test-kubelet-'));
  const server = new KubeletServer({ host, log: silentLogger(), address: '127.0.0.1', port: 0, certDir: path.join(dir, 'pki'), anonymousAuth: true, statsSecondSampleDelayMs: 500 });
  const ctl = new AbortController();
  const running = server.start(ctl.signal);
  const { port } = await server.listening();
  // As a kubelet does: register the Node, then report its status (addresses, kubelet port).
  const node = await api(opts.apiURL, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: nodeName, labels: { 'kubernetes.io/hostname': nodeName } } });
  if (node.status !== 201) throw new Error(`creating node: ${node.status} ${JSON.stringify(node.body)}`);
  const now = new Date().toISOString();
  const st = await api(
    opts.apiURL,
    'PATCH',
    `/api/v1/nodes/${nodeName}/status`,
    {
      status: {
        capacity: { cpu: '4', memory: '8Gi', pods: '110' },
        allocatable: { cpu: '4', memory: '8Gi', pods: '110' },
        addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
        daemonEndpoints: { kubeletEndpoint: { Port: port } },
        conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady', message: 'kubelet is posting ready status', lastHeartbeatTime: now, lastTransitionTime: now }],
      },
    },
    { 'content-type': 'application/merge-patch+json' },
  );
  if (st.status !== 200) throw new Error(`setting node status: ${st.status} ${JSON.stringify(st.body)}`);

  async function createPod(name: string, containers: Array<{ name: string; stdin?: boolean; tty?: boolean; command?: string[] }>, labels?: Record<string, string>): Promise<Pod> {
    const res = await api(opts.apiURL, 'POST', '/api/v1/namespaces/default/pods', {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name, labels: labels ?? { app: name } },
      spec: { nodeName, containers: containers.map((c) => ({ name: c.name, image: busyboxImage, command: c.command, stdin: c.stdin, tty: c.tty })) },
    });
    if (res.status !== 201) throw new Error(`creating pod ${name}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Pod;
  }

  async function setStatus(name: string, status: Pod['status']): Promise<Pod> {
    const res = await api(opts.apiURL, 'PATCH', `/api/v1/namespaces/default/pods/${name}/status`, { status }, { 'content-type': 'application/merge-patch+json' });
    if (res.status !== 200) throw new Error(`pod ${name} status: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body as Pod;
  }

  return {
    nodeName,
    server,
    host,
    runtime,
    port,
    async runPod(name, containers, podOpts = {}) {
      const pod = await createPod(name, containers, podOpts.labels);
      const uid = pod.metadata.uid!;
      const sandboxId = await runtime.createSandbox({ metadata: { uid, namespace: 'default', name, attempt: 0 }, labels: { [e2eRunLabel]: opts.run } });
      await runtime.startSandbox(sandboxId);
      const containerIds: Record<string, string> = {};
      const now = new Date().toISOString();
      for (const c of containers) {
        const base: Omit<ContainerConfig, 'metadata'> = { image: busyboxImage, stdin: c.stdin, tty: c.tty, labels: { [e2eRunLabel]: opts.run } };
        let attempt = 0;
        for (const cmd of c.previousRuns ?? []) {
          const id = await runtime.createContainer(sandboxId, { ...base, metadata: { name: c.name, attempt: attempt++ }, command: cmd });
          await runtime.startContainer(id);
          for (let i = 0; i < 100 && (await runtime.inspectContainer(id)).state !== 'exited'; i++) await new Promise((r) => setTimeout(r, 50));
        }
        const id = await runtime.createContainer(sandboxId, { ...base, metadata: { name: c.name, attempt }, command: c.command });
        await runtime.startContainer(id);
        containerIds[c.name] = id;
      }
      const status: Pod['status'] = {
        phase: 'Running',
        hostIP: '127.0.0.1',
        startTime: now,
        conditions: [{ type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: now }],
        containerStatuses: containers.map((c) => ({
          name: c.name,
          ready: true,
          started: true,
          restartCount: c.previousRuns?.length ?? 0,
          image: busyboxImage,
          imageID: '',
          containerID: `docker://${containerIds[c.name]}`,
          state: { running: { startedAt: now } },
        })),
      };
      const updated = await setStatus(name, status);
      host.set({ pod: updated, sandboxId, containerIds });
      return { pod: updated, sandboxId, containerIds };
    },
    async waitingPod(name, container, reason) {
      await createPod(name, [{ name: container, command: ['sleep', '3600'] }]);
      const updated = await setStatus(name, {
        phase: 'Pending',
        hostIP: '127.0.0.1',
        containerStatuses: [{ name: container, ready: false, restartCount: 0, image: busyboxImage, imageID: '', state: { waiting: { reason } } }],
      });
      host.set({ pod: updated, containerIds: {} });
      return updated;
    },
    async stop() {
      ctl.abort();
      await running;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
