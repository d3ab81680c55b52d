import { describe, expect, it } from 'vitest';
import type { Node, Pod } from '../../api/index.js';
import { StatusError } from '../../machinery/index.js';
import { forwardedHeaders, locateKubelet, relayedHeaders } from './kubelet-client.js';
import { usageOf } from './metrics-api.js';
import { chooseContainer, kubeletLogQuery, kubeletStreamQuery } from './pod-streams.js';

const node = (addresses: Array<{ type: string; address: string }>, port?: number): Node => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: { name: 'n1' },
  status: { addresses, ...(port ? { daemonEndpoints: { kubeletEndpoint: { Port: port } } } : {}) },
});

const statusOf = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return (err as StatusError).status;
  }
  throw new Error('no error');
};

describe('finding a kubelet', () => {
  it('takes the first address of the preferred types and the published port', () => {
    const n = node([{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'n1.local' }], 12345);
    expect(locateKubelet(n)).toEqual({ nodeName: 'n1', host: 'n1.local', port: 12345 });
    expect(locateKubelet(n, { preferredAddressTypes: ['InternalIP', 'Hostname'] })).toEqual({ nodeName: 'n1', host: '10.0.0.5', port: 12345 });
    expect(locateKubelet(node([{ type: 'ExternalIP', address: '1.2.3.4' }]))).toEqual({ nodeName: 'n1', host: '1.2.3.4', port: 10250 });
  });

  it('is 503 for a node without usable addresses', () => {
    expect(statusOf(() => locateKubelet(node([{ type: 'InternalIP', address: '10.0.0.5' }]), { preferredAddressTypes: ['Hostname'] }))).toMatchObject({
      code: 503,
      message: 'no preferred addresses found for node "n1"; known addresses: [InternalIP=10.0.0.5]',
    });
  });
});

describe('headers to and from kubelets', () => {
  it('never forward the user credentials; keep the upgrade negotiation', () => {
    const h = forwardedHeaders(
      {
        authorization: 'Bearer secret',
        'impersonate-user': 'admin',
        cookie: 'c',
        host: 'apiserver',
        connection: 'Upgrade',
        upgrade: 'websocket',
        'sec-websocket-protocol': 'v5.channel.k8s.io',
        'sec-websocket-key': 'k',
        'x-stream-protocol-version': 'v4.channel.k8s.io',
        'user-agent': 'kubectl',
      },
      true,
    );
    expect(h).toEqual({ connection: 'Upgrade', upgrade: 'websocket', 'sec-websocket-protocol': 'v5.channel.k8s.io', 'sec-websocket-key': 'k', 'x-stream-protocol-version': 'v4.channel.k8s.io', 'user-agent': 'kubectl' });
    expect(forwardedHeaders({ connection: 'keep-alive', 'keep-alive': '5', accept: 'x' }, false)).toEqual({ accept: 'x' });
    expect(relayedHeaders({ 'transfer-encoding': 'chunked', connection: 'close', 'content-type': 'text/plain', 'content-length': '3' })).toEqual({ 'content-type': 'text/plain' });
  });
});

describe('the container of a request', () => {
  const pod = (containers: string[], init: string[] = []): Pod => ({
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p' },
    spec: { containers: containers.map((name) => ({ name, image: 'x' })), initContainers: init.map((name) => ({ name, image: 'x' })) },
  });

  it('is the one named, the only one, or an error naming the choices', () => {
    expect(chooseContainer(pod(['a']), null)).toBe('a');
    expect(chooseContainer(pod(['a', 'b'], ['i']), 'i')).toBe('i');
    expect(statusOf(() => chooseContainer(pod(['a']), 'z'))).toMatchObject({ code: 400, message: 'container z is not valid for pod p' });
    expect(statusOf(() => chooseContainer(pod(['a', 'b'], ['i']), null))).toMatchObject({ code: 400, message: 'a container name must be specified for pod p, choose one of: [a b] or one of the init containers: [i]' });
  });
});

describe('query translation', () => {
  it('turns PodLogOptions into the kubelet query, checking them as upstream', () => {
    expect(kubeletLogQuery(new URLSearchParams('container=a&follow=true&tailLines=5&limitBytes=10&timestamps=true&sinceSeconds=30'), 'p').toString()).toBe('follow=true&timestamps=true&tailLines=5&limitBytes=10&sinceSeconds=30');
    expect(statusOf(() => kubeletLogQuery(new URLSearchParams('limitBytes=0&sinceSeconds=0'), 'p'))).toMatchObject({
      code: 422,
      reason: 'Invalid',
      details: { kind: 'PodLogOptions', name: 'p', causes: [{ field: 'limitBytes' }, { field: 'sinceSeconds' }] },
    });
    expect(statusOf(() => kubeletLogQuery(new URLSearchParams('sinceSeconds=1&sinceTime=2024-01-01T00:00:00Z'), 'p')).message).toContain('at most one of `sinceTime` or `sinceSeconds` may be specified');
  });

  it('turns PodExecOptions into the kubelet query (input/output/error/tty=1, command repeated)', () => {
    expect(kubeletStreamQuery(new URLSearchParams('command=sh&command=-c&command=echo+hi&stdin=true&stdout=true&stderr=true&tty=false&container=a'), true).toString()).toBe('command=sh&command=-c&command=echo+hi&input=1&output=1&error=1');
    expect(kubeletStreamQuery(new URLSearchParams('stdout=true&tty=true'), false).toString()).toBe('output=1&tty=1');
    expect(statusOf(() => kubeletStreamQuery(new URLSearchParams('stdout=true'), true))).toMatchObject({ code: 400, message: 'you must specify at least one command for the container' });
  });
});

describe('metrics quantities', () => {
  it('are nanocores and KiB, as metrics-server writes them', () => {
    expect(usageOf(1_234_567, 10 * 1024 * 1024)).toEqual({ cpu: '1234567n', memory: '10240Ki' });
    expect(usageOf(undefined, undefined)).toEqual({ cpu: '0n', memory: '0Ki' });
  });
});
