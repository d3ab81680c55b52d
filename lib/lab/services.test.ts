import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { NetnsServiceManager, restartPolicyOf, stopTimeoutOf } from './services.js';
import type { RenderedUnit } from './units.js';

test('stopTimeoutOf reads a unit\'s TimeoutStopSec', () => {
  expect(stopTimeoutOf('[Service]\nExecStart=/bin/true\nTimeoutStopSec=60\n')).toBe(60_000);
  expect(stopTimeoutOf('[Service]\nTimeoutStopSec=5s\n')).toBe(5000);
  expect(stopTimeoutOf('[Service]\nExecStart=/bin/true\n')).toBeUndefined();
});

const canRun = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v nsenter']).status === 0;

describe.skipIf(!canRun)('NetnsServiceManager.stop', () => {
  let dir = '';
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  /** A service that takes 1.5 s to finish after SIGTERM, then writes a file. */
  function slowStopper(timeoutStopSec?: number): RenderedUnit {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-test-services-'));
    const script = `trap 'sleep 1.5; echo clean > ${dir}/stopped; exit 0' TERM; while :; do sleep 0.1; done`;
    const argv = ['sh', '-c', script];
    const text = ['[Service]', `ExecStart=${argv.join(' ')}`, ...(timeoutStopSec ? [`TimeoutStopSec=${timeoutStopSec}`] : []), ''].join('\n');
    return { component: 'slow', name: 'slow.service', description: 'slow to stop', text, pre: [], argv };
  }

  function manager(): NetnsServiceManager {
    // The test's own namespace: nsenter into the namespace it is already in.
    return new NetnsServiceManager({ netnsPath: '/proc/self/ns/net', unitDir: path.join(dir, 'units'), logDir: path.join(dir, 'logs'), runDir: path.join(dir, 'run'), defaultStopTimeoutMs: 300 });
  }

  test('waits for the unit\'s TimeoutStopSec before it kills: the service finishes its shutdown', async () => {
    const unit = slowStopper(10);
    const s = manager();
    expect(await s.apply(unit)).toBe('started');
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.stop(unit.name)).toBe(true);
    expect(s.isRunning(unit.name)).toBe(false);
    expect(fs.readFileSync(path.join(dir, 'stopped'), 'utf8').trim()).toBe('clean');
  }, 20_000);

  test('without TimeoutStopSec, the default grace: killed before it finished', async () => {
    const unit = slowStopper();
    const s = manager();
    expect(await s.apply(unit)).toBe('started');
    const pid = s.pidOf(unit.name)!;
    await new Promise((r) => setTimeout(r, 300));
    expect(await s.stop(unit.name)).toBe(true);
    await new Promise((r) => setTimeout(r, 1800));
    expect(fs.existsSync(`/proc/${pid}/cmdline`) && fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('trap')).toBe(false);
    expect(fs.existsSync(path.join(dir, 'stopped'))).toBe(false);
  }, 20_000);
});

test('restartPolicyOf reads Restart= and RestartSec=', () => {
  expect(restartPolicyOf('[Service]\nRestart=always\nRestartSec=5\n')).toEqual({ policy: 'always', delaySec: 5 });
  expect(restartPolicyOf('[Service]\nRestart=on-failure\n')).toEqual({ policy: 'on-failure', delaySec: 0.1 });
  expect(restartPolicyOf('[Service]\nRestart=no\n')).toBeUndefined();
  expect(restartPolicyOf('[Service]\nExecStart=/bin/true\n')).toBeUndefined();
});

describe.skipIf(!canRun)('NetnsServiceManager: a unit with Restart=always', () => {
  let dir = '';
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('started again when it exits or is killed (as systemd would); stop ends it for good; an unchanged unit is left running', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-test-services-'));
    const argv = ['sh', '-c', `echo started >> ${dir}/starts; exec sleep 100`];
    const unit: RenderedUnit = { component: 'again', name: 'again.service', description: 'restarts', text: `[Service]\nExecStart=${argv.join(' ')}\nRestart=always\nRestartSec=0.2\n`, pre: [], argv };
    const s = new NetnsServiceManager({ netnsPath: '/proc/self/ns/net', unitDir: path.join(dir, 'units'), logDir: path.join(dir, 'logs'), runDir: path.join(dir, 'run') });
    const starts = () => (fs.existsSync(path.join(dir, 'starts')) ? fs.readFileSync(path.join(dir, 'starts'), 'utf8').split('\n').filter(Boolean).length : 0);
    const command = () => spawnSync('pgrep', ['-f', `^sleep 100$`, '-s', String(s.pidOf(unit.name))], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean).map(Number);
    const waitFor = async (what: string, f: () => boolean) => {
      for (let i = 0; i < 100 && !f(); i++) await new Promise((r) => setTimeout(r, 100));
      expect(f(), what).toBe(true);
    };
    expect(await s.apply(unit)).toBe('started');
    await waitFor('started once', () => starts() === 1 && command().length === 1);
    expect(await s.apply(unit)).toBe('unchanged');
    // Killed (as a test kills a component): started again after RestartSec.
    const first = command()[0]!;
    process.kill(first, 'SIGKILL');
    await waitFor('started again', () => starts() === 2 && command().length === 1 && command()[0] !== first);
    expect(fs.readFileSync(s.logFile(unit.name), 'utf8')).toMatch(/again\.service exited \(status 137\); starting it again in 0\.2s \(Restart=always\)/);
    const second = command()[0]!;
    const session = s.pidOf(unit.name)!;
    expect(await s.stop(unit.name)).toBe(true);
    await new Promise((r) => setTimeout(r, 600));
    expect(fs.existsSync(`/proc/${second}`)).toBe(false);
    expect(spawnSync('pgrep', ['-s', String(session)]).status).toBe(1);
    expect(starts()).toBe(2);
    expect(s.isRunning(unit.name)).toBe(false);
    // The supervisor killed outright: its command goes with it.
    expect(await s.apply(unit)).toBe('started');
    await waitFor('started', () => starts() === 3 && command().length === 1);
    const third = command()[0]!;
    process.kill(s.pidOf(unit.name)!, 'SIGKILL');
    await waitFor('the command gone with its supervisor', () => !fs.existsSync(`/proc/${third}`) || fs.readFileSync(`/proc/${third}/stat`, 'utf8').split(' ')[2] === 'Z');
  }, 30_000);
});

describe.skipIf(!canRun)('NetnsServiceManager: the recorded command line', () => {
  let dir = '';
  afterEach(() => {
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  test('a process caught inside execve (an empty command line) is waited for, not recorded: the unit reads as running', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-test-services-'));
    const argv = ['sleep', '100'];
    const unit: RenderedUnit = { component: 'exec', name: 'exec.service', description: 'mid-exec', text: `[Service]\nExecStart=${argv.join(' ')}\n`, pre: [], argv };
    // /proc/<pid>/cmdline is empty between execve's switch of memory and its setting up the new
    // arguments; the first reads of the new process land there.
    let midExec = 3;
    const readCmdline = (pid: number): string[] | undefined => {
      const raw = fs.existsSync(`/proc/${pid}/cmdline`) ? fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8') : undefined;
      if (raw === undefined) return undefined;
      if (midExec > 0) {
        midExec--;
        return [];
      }
      return raw.split('\0').slice(0, -1);
    };
    const s = new NetnsServiceManager({ netnsPath: '/proc/self/ns/net', unitDir: path.join(dir, 'units'), logDir: path.join(dir, 'logs'), runDir: path.join(dir, 'run'), defaultStopTimeoutMs: 300, readCmdline });
    try {
      expect(await s.apply(unit)).toBe('started');
      expect(s.isRunning(unit.name)).toBe(true);
      expect(await s.apply(unit)).toBe('unchanged');
    } finally {
      await s.stop(unit.name);
    }
  }, 30_000);
});
