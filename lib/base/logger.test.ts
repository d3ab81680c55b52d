import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { createLogger, stderrDestination, TurnBatchedDestination } from './logger.js';

const root = path.resolve(import.meta.dirname, '../..');
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});
function tempFile(): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-log-'));
  dirs.push(d);
  return path.join(d, 'log');
}

test('into a file, the lines of one turn are written together when it ends, in order', async () => {
  const file = tempFile();
  const fd = fs.openSync(file, 'a');
  try {
    const dest = stderrDestination(fd);
    expect(dest).toBeInstanceOf(TurnBatchedDestination);
    const log = createLogger({ component: 'test', destination: dest as never });
    for (let i = 0; i < 100; i++) log.info({ i }, 'line');
    expect(fs.readFileSync(file, 'utf8')).toBe('');
    await new Promise((r) => setImmediate(r));
    const lines = fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { i: number; component: string });
    expect(lines.map((l) => l.i)).toEqual(Array.from({ length: 100 }, (_, i) => i));
    expect(lines[0]!.component).toBe('test');
  } finally {
    fs.closeSync(fd);
  }
});

test('into a pipe, the writer is the asynchronous one that never blocks', () => {
  // A child's stdout given as a pipe: stderrDestination there must not be the batched writer.
  const script = `import { stderrDestination, TurnBatchedDestination } from ${JSON.stringify(path.join(root, 'dist/lib/base/logger.js'))}; process.stdout.write(String(stderrDestination(1) instanceof TurnBatchedDestination));`;
  const out = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  expect(out.stderr).toBe('');
  expect(out.stdout).toBe('false');
});

test('lines logged just before the program exits are not lost', () => {
  const file = tempFile();
  const script = `import { createLogger } from ${JSON.stringify(path.join(root, 'dist/lib/base/logger.js'))}; const log = createLogger({ component: 'x' }); log.info('first'); log.info('stopped'); process.exit(0);`;
  const fd = fs.openSync(file, 'a');
  try {
    const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'ignore', fd] });
    expect(r.status).toBe(0);
  } finally {
    fs.closeSync(fd);
  }
  expect(fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { msg: string }).msg)).toEqual(['first', 'stopped']);
});
