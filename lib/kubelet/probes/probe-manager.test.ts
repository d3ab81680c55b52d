import { afterEach, describe, expect, it } from 'vitest';
import type { Container, Pod } from '../../api/index.js';
import { FakeClock, silentLogger } from '../../base/index.js';
import type { Probe } from '../api-types.js';
import { ProbeManager, type ProbeType, type RunningInstance } from './probe-manager.js';
import type { ProbeAnswer, ProbeTarget } from './prober.js';

/** A prober whose answers the test scripts per container instance. */
class ScriptedProber {
  readonly calls: Array<{ id: string; cmd: string }> = [];
  answers = new Map<string, boolean>();
  async run(action: { exec?: { command?: string[] } }, target: ProbeTarget): Promise<ProbeAnswer> {
    const cmd = action.exec?.command?.join(' ') ?? '';
    this.calls.push({ id: target.containerId, cmd });
    const ok = this.answers.get(`${target.containerId}/${cmd}`) ?? true;
    return { result: ok ? 'success' : 'failure', output: ok ? '' : `${cmd} failed` };
  }
}

function setup() {
  const clock = new FakeClock();
  const prober = new ScriptedProber();
  const changes: string[] = [];
  const failures: string[] = [];
  const mgr = new ProbeManager({
    prober,
    clock,
    log: silentLogger(),
    onChange: (uid) => changes.push(uid),
    onFailure: (_p, c, type, msg) => failures.push(`${c.name}/${type}: ${msg}`),
  });
  return { clock, prober, changes, failures, mgr };
}

const probe = (cmd: string, p: Partial<Probe> = {}): Probe => ({ exec: { command: [cmd] }, periodSeconds: 10, failureThreshold: 3, successThreshold: 1, timeoutSeconds: 1, ...p });

function pod(c: Partial<Container>): Pod {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'ns', uid: 'u1' }, spec: { containers: [{ name: 'app', ...c }] } };
}

let live: ProbeManager | undefined;
afterEach(async () => {
  await live?.stop();
  live = undefined;
});

const run = (id: string, startedAt: number) => new Map<string, RunningInstance>([['app', { id, startedAt }]]);

describe('ProbeManager', () => {
  it('readiness starts false, turns true on the first success after initialDelaySeconds, false after failureThreshold failures', async () => {
    const { clock, prober, changes, failures, mgr } = setup();
    live = mgr;
    mgr.updatePod(pod({ readinessProbe: probe('check', { initialDelaySeconds: 5, failureThreshold: 2 }) }), run('c1', clock.now()), '10.0.0.1');
    expect(mgr.readiness('c1')).toBe(false);
    await clock.advance(4000);
    expect(prober.calls).toHaveLength(0);
    await clock.advance(1000);
    expect(prober.calls).toHaveLength(1);
    expect(mgr.readiness('c1')).toBe(true);
    expect(changes).toEqual(['u1']);
    prober.answers.set('c1/check', false);
    await clock.advance(10_000);
    expect(mgr.readiness('c1')).toBe(true);
    await clock.advance(10_000);
    expect(mgr.readiness('c1')).toBe(false);
    expect(changes).toEqual(['u1', 'u1']);
    expect(failures).toEqual(['app/readiness: Readiness probe failed: check failed', 'app/readiness: Readiness probe failed: check failed']);
  });

  it('liveness fails after failureThreshold failures in a row, then holds until the container is replaced', async () => {
    const { clock, prober, changes, mgr } = setup();
    live = mgr;
    const p = pod({ livenessProbe: probe('alive', { periodSeconds: 1, failureThreshold: 3 }) });
    mgr.updatePod(p, run('c1', clock.now()), '10.0.0.1');
    await clock.advance(1000);
    expect(mgr.failed('c1')).toBeUndefined();
    prober.answers.set('c1/alive', false);
    await clock.advance(2000);
    expect(mgr.failed('c1')).toBeUndefined();
    await clock.advance(1000);
    expect(mgr.failed('c1')).toBe('liveness');
    expect(changes).toEqual(['u1']);
    const before = prober.calls.length;
    await clock.advance(5000);
    expect(prober.calls.length).toBe(before);
    // The restarted container gets probes of its own, starting healthy.
    mgr.updatePod(p, run('c2', clock.now()), '10.0.0.1');
    expect(mgr.failed('c2')).toBeUndefined();
    await clock.advance(2000);
    expect(prober.calls.slice(before).every((c) => c.id === 'c2')).toBe(true);
  });

  it('startup holds liveness and readiness back until it passed, and fails the container when it does not', async () => {
    const { clock, prober, mgr } = setup();
    live = mgr;
    const p = pod({ startupProbe: probe('started', { periodSeconds: 1, failureThreshold: 2 }), livenessProbe: probe('alive', { periodSeconds: 1 }), readinessProbe: probe('ready', { periodSeconds: 1 }) });
    prober.answers.set('c1/started', false);
    mgr.updatePod(p, run('c1', clock.now()), '10.0.0.1');
    await clock.advance(1500);
    expect(prober.calls.map((c) => c.cmd)).toEqual(['started', 'started']);
    expect(mgr.startup('c1')).toBe(false);
    expect(mgr.failed('c1')).toBe('startup');
    // A second instance starts fine: startup passes, then the others run.
    mgr.updatePod(p, run('c2', clock.now()), '10.0.0.1');
    await clock.advance(3000);
    expect(mgr.startup('c2')).toBe(true);
    expect(mgr.readiness('c2')).toBe(true);
    const after = prober.calls.filter((c) => c.id === 'c2').map((c) => c.cmd);
    expect(after[0]).toBe('started');
    expect(after).toEqual(expect.arrayContaining(['alive', 'ready']));
    expect(after.filter((c) => c === 'started')).toHaveLength(1);
  });

  it('seeds readiness from the last status when adopting the same container (a kubelet restart)', () => {
    const { clock, mgr } = setup();
    live = mgr;
    const p = pod({ readinessProbe: probe('ready') });
    mgr.updatePod(p, run('c1', clock.now()), '10.0.0.1', { containerStatuses: [{ name: 'app', containerID: 'docker://c1', ready: true, started: true, restartCount: 0, image: '', imageID: '' }] });
    expect(mgr.readiness('c1')).toBe(true);
  });

  it('stops the workers of removed pods and containers without probes', async () => {
    const { clock, mgr } = setup();
    live = mgr;
    mgr.updatePod(pod({ livenessProbe: probe('a'), readinessProbe: probe('b') }), run('c1', clock.now()), '10.0.0.1');
    expect(mgr.workerCount).toBe(2);
    mgr.updatePod(pod({ livenessProbe: probe('a') }), run('c1', clock.now()), '10.0.0.1');
    expect(mgr.workerCount).toBe(1);
    mgr.removePod('u1');
    expect(mgr.workerCount).toBe(0);
    expect(mgr.readiness('c1')).toBeUndefined();
    const types: ProbeType[] = ['liveness'];
    expect(types).toHaveLength(1);
  });
});
