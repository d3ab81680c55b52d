import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProcessLauncher, processLauncherPid, runProcess } from './process.js';

const root = path.resolve(import.meta.dirname, '../..');

describe('runProcess', () => {
  it('collects stdout and stderr apart, less one final newline, and the exit code', async () => {
    const r = await runProcess('sh', ['-c', 'printf "a\\nb\\n\\n"; echo oops >&2; exit 3']);
    expect(r).toEqual({ stdout: 'a\nb\n', stderr: 'oops', exitCode: 3, signal: undefined, timedOut: false });
    expect((await runProcess('sh', ['-c', 'printf "x\\r\\n"'])).stdout).toBe('x');
  });

  it('feeds input to stdin, and without input the program reads an empty stdin', async () => {
    const big = 'line\n'.repeat(200_000); // 1 MB: more than a pipe holds
    expect((await runProcess('wc', ['-l'], { input: big })).stdout.trim()).toBe('200000');
    expect((await runProcess('cat', [])).stdout).toBe('');
  });

  it('resolves when the program exits without reading its input', async () => {
    const r = await runProcess('true', [], { input: 'x'.repeat(4 << 20) });
    expect(r.exitCode).toBe(0);
  });

  it('kills a program that outlives its timeout', async () => {
    const started = Date.now();
    const r = await runProcess('sleep', ['30'], { timeoutMs: 100 });
    expect(r).toMatchObject({ exitCode: undefined, signal: 'SIGKILL', timedOut: true });
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it('adds to the environment rather than replacing it', async () => {
    const r = await runProcess('sh', ['-c', 'echo "$TKUBE_X $PATH"'], { env: { TKUBE_X: 'set' } });
    expect(r.stdout).toBe(`set ${process.env.PATH}`);
  });

  it('rejects when the program cannot be started', async () => {
    await expect(runProcess('tkube-no-such-program', [])).rejects.toThrow(/ENOENT/);
  });
});

describe('the launcher process', () => {
  it('runs the programs, so that this process never forks', async () => {
    const r = await runProcess('sh', ['-c', 'echo $PPID']);
    const launcher = processLauncherPid();
    expect(launcher).toBeGreaterThan(0);
    expect(launcher).not.toBe(process.pid);
    expect(Number(r.stdout)).toBe(launcher);
  });

  it('when it dies, the programs it ran fail clearly and the next one gets a new launcher', async () => {
    await runProcess('true', []);
    const first = processLauncherPid()!;
    const running = runProcess('sleep', ['30']);
    await new Promise((r) => setTimeout(r, 100));
    // The program outlives its launcher: stopped by hand after, so that the test leaves nothing behind.
    const orphans = spawnSync('pgrep', ['-P', String(first)], { encoding: 'utf8' }).stdout.split(/\s+/).filter(Boolean).map(Number);
    process.kill(first, 'SIGKILL');
    await expect(running).rejects.toThrow('the process launcher was killed by SIGKILL before the program\'s result came back');
    for (const pid of orphans) process.kill(pid, 'SIGKILL');
    const r = await runProcess('sh', ['-c', 'echo $PPID']);
    expect(r.exitCode).toBe(0);
    expect(processLauncherPid()).not.toBe(first);
    expect(Number(r.stdout)).toBe(processLauncherPid());
  });

  it('one that dies before it ever answered is not started again: programs are spawned here', async () => {
    const broken = new ProcessLauncher('process.exit(3)');
    await expect(broken.run('true', [], {})).rejects.toThrow('the process launcher exited with code 3');
    const r = await broken.run('sh', ['-c', 'echo $PPID'], {});
    expect(Number(r.stdout)).toBe(process.pid);
    expect(broken.pid).toBeUndefined();
  });

  it('keeps its parent alive while a program runs, and not once it is idle; it exits with its parent', () => {
    const mod = JSON.stringify(path.join(root, 'dist/lib/base/process.js'));
    // The program's output arrives after a while (held open meanwhile); then the parent ends by itself.
    const script = `import { runProcess, processLauncherPid } from ${mod}; const r = await runProcess('sh', ['-c', 'sleep 0.3; echo done']); process.stdout.write(r.stdout + ' ' + processLauncherPid());`;
    const started = Date.now();
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(r.status).toBe(0);
    const [said, pid] = r.stdout.split(' ');
    expect(said).toBe('done');
    expect(Date.now() - started).toBeLessThan(15_000);
    // The launcher goes with it (it sees its channel close).
    const alive = () => {
      try {
        process.kill(Number(pid), 0);
        return true;
      } catch {
        return false;
      }
    };
    const until = Date.now() + 5000;
    while (alive() && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    expect(alive()).toBe(false);
  });
});
