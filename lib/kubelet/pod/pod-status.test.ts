import { describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../api/index.js';
import type { ContainerStatusAPI, PodCondition } from '../api-types.js';
import type { ContainerStatus } from '../runtime/index.js';
import { containerStatusFor, generatePodStatus, podPhase, podQOSClass, withTransitionTimes, type PodStatusInputs } from './pod-status.js';
import type { PodRuntimeState } from './runtime-state.js';

const t = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));

let seq = 0;
function inst(name: string, attempt: number, state: ContainerStatus['state'], extra: Partial<ContainerStatus> = {}): ContainerStatus {
  return {
    id: `id-${name}-${attempt}-${++seq}`,
    sandboxId: 'sb1',
    podUID: 'u1',
    podNamespace: 'ns',
    podName: 'p',
    metadata: { name, attempt },
    image: 'img',
    imageId: 'sha256:abc',
    state,
    createdAt: t(attempt),
    labels: {},
    annotations: {},
    oomKilled: false,
    mounts: [],
    ...(state === 'running' ? { startedAt: t(10 + attempt) } : {}),
    ...(state === 'exited' ? { startedAt: t(10 + attempt), finishedAt: t(20 + attempt), exitCode: 0, reason: 'Completed' } : {}),
    ...extra,
  };
}

function pod(spec: Partial<NonNullable<Pod['spec']>>, status?: Pod['status']): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'app', image: 'img' }], ...spec }, status };
}

function inputs(p: Pod, containers: ContainerStatus[], over: Partial<PodStatusInputs> = {}): PodStatusInputs {
  const runtime: PodRuntimeState = { uid: 'u1', sandboxes: [], containers };
  return {
    pod: p,
    runtime,
    podIPs: ['10.244.1.5'],
    hostIPs: ['192.0.2.10'],
    sandboxReady: true,
    waiting: new Map(),
    readiness: () => undefined,
    startup: () => undefined,
    runtimeName: 'docker',
    imageID: (id) => `docker://${id}`,
    now: t(30).getTime(),
    ...over,
  };
}

const running = (): ContainerStatusAPI['state'] => ({ running: { startedAt: '2026-01-01T00:00:10Z' } });
const term = (exitCode: number): ContainerStatusAPI['state'] => ({ terminated: { exitCode } });
const waiting = (reason = 'ContainerCreating'): ContainerStatusAPI['state'] => ({ waiting: { reason } });
const cs = (name: string, state: ContainerStatusAPI['state'], extra: Partial<ContainerStatusAPI> = {}): ContainerStatusAPI => ({ name, state, ready: false, restartCount: 0, image: 'img', imageID: '', ...extra });

describe('podPhase', () => {
  const spec = (restartPolicy: 'Always' | 'OnFailure' | 'Never', init: Container[] = [], apps = ['a', 'b']) => ({ restartPolicy, initContainers: init, containers: apps.map((name) => ({ name })) });
  it.each([
    ['nothing started yet', spec('Always'), [], [cs('a', waiting()), cs('b', waiting())], 'Pending'],
    ['one running, one still waiting', spec('Always'), [], [cs('a', running()), cs('b', waiting())], 'Pending'],
    ['all running', spec('Always'), [], [cs('a', running()), cs('b', running())], 'Running'],
    ['all exited, Always restarts them', spec('Always'), [], [cs('a', term(1)), cs('b', term(0))], 'Running'],
    ['all exited 0, OnFailure', spec('OnFailure'), [], [cs('a', term(0)), cs('b', term(0))], 'Succeeded'],
    ['one failed, OnFailure restarts it', spec('OnFailure'), [], [cs('a', term(1)), cs('b', term(0))], 'Running'],
    ['one failed, Never', spec('Never'), [], [cs('a', term(1)), cs('b', term(0))], 'Failed'],
    ['all exited 0, Never', spec('Never'), [], [cs('a', term(0)), cs('b', term(0))], 'Succeeded'],
    ['in CrashLoopBackOff (waiting with a last termination)', spec('Always'), [], [cs('a', waiting('CrashLoopBackOff'), { lastState: term(1) }), cs('b', running())], 'Running'],
    ['init container running', spec('Always', [{ name: 'i' }]), [cs('i', running())], [cs('a', waiting('PodInitializing')), cs('b', waiting('PodInitializing'))], 'Pending'],
    ['init container failed, Never', spec('Never', [{ name: 'i' }]), [cs('i', term(2))], [cs('a', waiting('PodInitializing')), cs('b', waiting('PodInitializing'))], 'Failed'],
    ['init container failed, Always retries', spec('Always', [{ name: 'i' }]), [cs('i', term(2))], [cs('a', waiting('PodInitializing')), cs('b', waiting('PodInitializing'))], 'Pending'],
    ['sidecar running, apps running', spec('Always', [{ name: 's', restartPolicy: 'Always' }]), [cs('s', running(), { started: true })], [cs('a', running()), cs('b', running())], 'Running'],
    ['sidecar still running, apps done (Never)', spec('Never', [{ name: 's', restartPolicy: 'Always' }]), [cs('s', running(), { started: true })], [cs('a', term(0)), cs('b', term(0))], 'Running'],
    ['sidecar stopped, apps done (Never)', spec('Never', [{ name: 's', restartPolicy: 'Always' }]), [cs('s', term(137), { started: false })], [cs('a', term(0)), cs('b', term(0))], 'Succeeded'],
  ])('%s → %s', (_what, s, init, app, phase) => {
    expect(podPhase(s as NonNullable<Pod['spec']>, init, app, false)).toBe(phase);
  });

  it('a terminal pod (being deleted) is Succeeded only if every container exited 0', () => {
    const s = spec('Always') as NonNullable<Pod['spec']>;
    expect(podPhase(s, [], [cs('a', term(0)), cs('b', term(0))], true)).toBe('Succeeded');
    expect(podPhase(s, [], [cs('a', term(137)), cs('b', term(0))], true)).toBe('Failed');
  });
});

describe('container status', () => {
  const c: Container = { name: 'app', image: 'img:1' };
  it('running: started and ready without probes, with IDs', () => {
    const i = inst('app', 0, 'running');
    expect(containerStatusFor(c, inputs(pod({}), [i]), 'ContainerCreating')).toEqual({
      name: 'app',
      state: { running: { startedAt: '2026-01-01T00:00:10Z' } },
      ready: true,
      started: true,
      restartCount: 0,
      image: 'img:1',
      imageID: 'docker://sha256:abc',
      containerID: `docker://${i.id}`,
    });
  });

  it('readiness and startup probes decide ready and started', () => {
    const i = inst('app', 0, 'running');
    expect(containerStatusFor(c, inputs(pod({}), [i], { readiness: () => false }), 'x')).toMatchObject({ ready: false, started: true });
    expect(containerStatusFor(c, inputs(pod({}), [i], { startup: () => false, readiness: () => true }), 'x')).toMatchObject({ ready: false, started: false });
  });

  it('an instance with a probe but no probe result yet (just restarted) is neither ready nor started', () => {
    const i = inst('app', 1, 'running');
    const probed: Container = { ...c, readinessProbe: { tcpSocket: { port: 8080 } } };
    expect(containerStatusFor(probed, inputs(pod({}), [i]), 'x')).toMatchObject({ ready: false, started: true });
    const slow: Container = { ...c, startupProbe: { tcpSocket: { port: 8080 } } };
    expect(containerStatusFor(slow, inputs(pod({}), [i]), 'x')).toMatchObject({ ready: false, started: false });
  });

  it('restarted: restartCount from the newest instance, lastState from the one before', () => {
    const old = inst('app', 1, 'exited', { exitCode: 137, reason: 'OOMKilled' });
    const cur = inst('app', 2, 'running');
    const s = containerStatusFor(c, inputs(pod({}), [cur, old]), 'x');
    expect(s.restartCount).toBe(2);
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 137, reason: 'OOMKilled', containerID: `docker://${old.id}`, startedAt: '2026-01-01T00:00:11Z', finishedAt: '2026-01-01T00:00:21Z' });
  });

  it('in backoff: waiting CrashLoopBackOff with the termination as lastState', () => {
    const cur = inst('app', 1, 'exited', { exitCode: 1, reason: 'Error' });
    const s = containerStatusFor(c, inputs(pod({}), [cur], { waiting: new Map([['app', { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=p_ns(u1)' }]]) }), 'x');
    expect(s.state).toEqual({ waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container=app pod=p_ns(u1)' } });
    expect(s.lastState?.terminated).toMatchObject({ exitCode: 1, reason: 'Error' });
    expect(s.restartCount).toBe(1);
  });

  it('never started: the sync reason, or the default one', () => {
    expect(containerStatusFor(c, inputs(pod({}), []), 'PodInitializing').state).toEqual({ waiting: { reason: 'PodInitializing' } });
    const s = containerStatusFor(c, inputs(pod({}), [], { waiting: new Map([['app', { reason: 'ImagePullBackOff', message: 'Back-off pulling image "img:1"' }]]) }), 'ContainerCreating');
    expect(s.state).toEqual({ waiting: { reason: 'ImagePullBackOff', message: 'Back-off pulling image "img:1"' } });
    expect(s).toMatchObject({ ready: false, started: false, restartCount: 0, imageID: '' });
  });

  it('carries the termination message', () => {
    const cur = inst('app', 0, 'exited', { exitCode: 2, reason: 'Error' });
    const s = containerStatusFor(c, inputs(pod({ restartPolicy: 'Never' }), [cur], { terminationMessage: () => 'disk full' }), 'x');
    expect(s.state?.terminated).toMatchObject({ exitCode: 2, reason: 'Error', message: 'disk full' });
  });
});

describe('generatePodStatus', () => {
  it('sets phase, conditions with reasons, IPs, start time and QoS', () => {
    const p = pod({ containers: [{ name: 'app', image: 'img' }, { name: 'side', image: 'img' }] });
    const st = generatePodStatus(inputs(p, [inst('app', 0, 'running')]));
    expect(st.phase).toBe('Pending');
    expect(st.podIP).toBe('10.244.1.5');
    expect(st.podIPs).toEqual([{ ip: '10.244.1.5' }]);
    expect(st.hostIP).toBe('192.0.2.10');
    expect(st.startTime).toBe('2026-01-01T00:00:30Z');
    expect(st.qosClass).toBe('BestEffort');
    const c = (type: string) => st.conditions?.find((x) => x.type === type);
    expect(c('PodReadyToStartContainers')?.status).toBe('True');
    expect(c('Initialized')?.status).toBe('True');
    expect(c('ContainersReady')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [side]' });
    expect(c('Ready')).toMatchObject({ status: 'False', reason: 'ContainersNotReady', message: 'containers with unready status: [side]' });
    expect(c('PodScheduled')?.status).toBe('True');
  });

  it('waits for readiness gates', () => {
    const p = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] });
    const st = generatePodStatus(inputs(p, [inst('app', 0, 'running')]));
    expect(st.conditions?.find((x) => x.type === 'Ready')).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady', message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist.' });
    const withGate = pod({ readinessGates: [{ conditionType: 'example.com/lb' }] }, { conditions: [{ type: 'example.com/lb', status: 'True' }] });
    const st2 = generatePodStatus(inputs(withGate, [inst('app', 0, 'running')]));
    expect(st2.conditions?.find((x) => x.type === 'Ready')?.status).toBe('True');
    // The gate's own condition is kept.
    expect(st2.conditions?.find((x) => x.type === 'example.com/lb')?.status).toBe('True');
  });

  it('reports init progress', () => {
    const p = pod({ initContainers: [{ name: 'one' }, { name: 'two' }] });
    const st = generatePodStatus(inputs(p, [inst('one', 0, 'exited')]));
    expect(st.conditions?.find((x) => x.type === 'Initialized')).toMatchObject({ status: 'False', reason: 'ContainersNotInitialized', message: 'containers with incomplete status: [two]' });
    expect(st.containerStatuses?.[0]?.state).toEqual({ waiting: { reason: 'PodInitializing' } });
    expect(st.initContainerStatuses?.map((s) => s.state?.terminated?.reason ?? s.state?.waiting?.reason)).toEqual(['Completed', 'PodInitializing']);
  });

  it('never leaves a terminal phase', () => {
    const p = pod({ restartPolicy: 'Always' }, { phase: 'Failed' });
    expect(generatePodStatus(inputs(p, [inst('app', 0, 'running')])).phase).toBe('Failed');
  });

  it('keeps the podIP it had when the sandbox is gone', () => {
    const p = pod({}, { podIP: '10.244.1.9', podIPs: [{ ip: '10.244.1.9' }] });
    expect(generatePodStatus(inputs(p, [], { podIPs: [], sandboxReady: false })).podIP).toBe('10.244.1.9');
  });

  it.each([
    [{ requests: { cpu: '1', memory: '1Gi' }, limits: { cpu: '1', memory: '1Gi' } }, 'Guaranteed'],
    [{ limits: { cpu: '1', memory: '1Gi' } }, 'Guaranteed'],
    [{ requests: { cpu: '100m' } }, 'Burstable'],
    [{}, 'BestEffort'],
  ])('QoS of %j is %s', (resources, qos) => {
    expect(podQOSClass({ containers: [{ name: 'a', resources }] })).toBe(qos);
  });
});

describe('withTransitionTimes', () => {
  it('keeps the time of conditions whose status held and stamps changed ones', () => {
    const old: PodCondition[] = [
      { type: 'Ready', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' },
      { type: 'Initialized', status: 'True', lastTransitionTime: '2026-01-01T00:00:01Z' },
      { type: 'example.com/gate', status: 'True', lastTransitionTime: '2026-01-01T00:00:02Z' },
    ];
    const out = withTransitionTimes([{ type: 'Ready', status: 'True' }, { type: 'Initialized', status: 'True' }], old, t(40).getTime());
    expect(out).toEqual([
      { type: 'Ready', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:40Z' },
      { type: 'Initialized', status: 'True', lastProbeTime: null, lastTransitionTime: '2026-01-01T00:00:01Z' },
      { type: 'example.com/gate', status: 'True', lastTransitionTime: '2026-01-01T00:00:02Z' },
    ]);
  });
});
