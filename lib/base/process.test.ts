import { describe, expect, it } from 'vitest';
import { runProcess } from './process.js';

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
