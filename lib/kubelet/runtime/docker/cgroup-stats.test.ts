import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, expect, test } from 'vitest';
import { cgroupStats } from './cgroup-stats.js';

let dir = '';
afterEach(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

function tree(files: Record<string, string>): { root: string; proc: string } {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-test-cgroup-'));
  for (const [f, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
    fs.writeFileSync(path.join(dir, f), text);
  }
  return { root: path.join(dir, 'sys/fs/cgroup'), proc: path.join(dir, 'proc') };
}

test('cgroup v1 (cpu,cpuacct mounted together): CPU in ns, memory usage, inactive file, rss and the limit', async () => {
  const t = tree({
    'proc/42/cgroup': '12:pids:/docker/abc\n4:cpu,cpuacct:/docker/abc\n9:memory:/docker/abc\n1:name=systemd:/docker/abc\n',
    'sys/fs/cgroup/cpu,cpuacct/docker/abc/cpuacct.usage': '123456789\n',
    'sys/fs/cgroup/memory/docker/abc/memory.usage_in_bytes': '10485760\n',
    'sys/fs/cgroup/memory/docker/abc/memory.stat': 'cache 4096\nrss 999\ntotal_rss 2097152\ntotal_inactive_file 1048576\n',
    'sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes': '50331648\n',
  });
  expect(await cgroupStats(42, t)).toEqual({ cpuUsageCoreNanoSeconds: 123456789, memoryUsageBytes: 10485760, memoryInactiveFileBytes: 1048576, memoryRssBytes: 2097152, memoryLimitBytes: 50331648 });
});

test('cgroup v1 without a memory limit reports none', async () => {
  const t = tree({
    'proc/7/cgroup': '3:cpuacct:/docker/x\n5:memory:/docker/x\n',
    'sys/fs/cgroup/cpuacct/docker/x/cpuacct.usage': '5\n',
    'sys/fs/cgroup/memory/docker/x/memory.usage_in_bytes': '6\n',
    'sys/fs/cgroup/memory/docker/x/memory.limit_in_bytes': '9223372036854771712\n',
  });
  expect(await cgroupStats(7, t)).toEqual({ cpuUsageCoreNanoSeconds: 5, memoryUsageBytes: 6, memoryInactiveFileBytes: 0 });
});

test('cgroup v2: usage_usec in ns, memory.current, anon as rss, memory.max', async () => {
  const t = tree({
    'proc/9/cgroup': '0::/system.slice/docker-abc.scope\n',
    'sys/fs/cgroup/system.slice/docker-abc.scope/cpu.stat': 'usage_usec 2500\nuser_usec 2000\nsystem_usec 500\n',
    'sys/fs/cgroup/system.slice/docker-abc.scope/memory.current': '8192\n',
    'sys/fs/cgroup/system.slice/docker-abc.scope/memory.stat': 'anon 4096\nfile 4096\ninactive_file 1024\n',
    'sys/fs/cgroup/system.slice/docker-abc.scope/memory.max': 'max\n',
  });
  expect(await cgroupStats(9, t)).toEqual({ cpuUsageCoreNanoSeconds: 2_500_000, memoryUsageBytes: 8192, memoryInactiveFileBytes: 1024, memoryRssBytes: 4096 });
});

test('a process that is gone, or a cgroup that cannot be read: undefined, no throw', async () => {
  const t = tree({ 'proc/1/cgroup': '4:cpu,cpuacct:/docker/gone\n9:memory:/docker/gone\n' });
  expect(await cgroupStats(1, t)).toBeUndefined();
  expect(await cgroupStats(2, t)).toBeUndefined();
});
