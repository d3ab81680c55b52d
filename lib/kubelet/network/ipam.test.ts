import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HostLocalIPAM, IPAMExhaustedError } from './ipam.js';

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'tkube-ipam-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const ipam = (podCIDR = '10.244.1.0/24') => new HostLocalIPAM({ dir, podCIDR });

describe('HostLocalIPAM', () => {
  it('hands out addresses after the bridge address and records the pod uid in one file per IP', async () => {
    const a = ipam();
    const first = await a.allocate({ podUID: 'uid-a', sandboxId: 'sb1', namespace: 'default', name: 'web' });
    expect(first.ip).toBe('10.244.1.2');
    const second = await a.allocate({ podUID: 'uid-b' });
    expect(second.ip).toBe('10.244.1.3');
    const onDisk = JSON.parse(await fs.readFile(path.join(dir, '10.244.1.2'), 'utf8'));
    expect(onDisk).toMatchObject({ podUID: 'uid-a', sandboxId: 'sb1', namespace: 'default', name: 'web' });
    // no temporary files are left behind
    expect((await fs.readdir(dir)).sort()).toEqual(['10.244.1.2', '10.244.1.3', 'last_reserved_ip']);
  });

  it('returns the address a pod already holds when asked again', async () => {
    const a = ipam();
    const x = await a.allocate({ podUID: 'uid-a' });
    await a.allocate({ podUID: 'uid-b' });
    expect((await a.allocate({ podUID: 'uid-a' })).ip).toBe(x.ip);
    expect(await a.list()).toHaveLength(2);
  });

  it('keeps allocations across a restart and never hands a held address to another pod', async () => {
    const before = ipam();
    const held = await Promise.all(['p1', 'p2', 'p3'].map((u) => before.allocate({ podUID: u })));
    await before.release('p2');
    // A new instance over the same folder stands for a restarted kubelet.
    const after = ipam();
    expect((await after.get('p1'))).toBe(held[0]!.ip);
    expect((await after.get('p3'))).toBe(held[2]!.ip);
    expect(await after.get('p2')).toBeUndefined();
    const next = await after.allocate({ podUID: 'p4' });
    expect([held[0]!.ip, held[2]!.ip]).not.toContain(next.ip);
    // Round robin: the address released a moment ago is not reused at once.
    expect(next.ip).not.toBe(held[1]!.ip);
    expect(next.ip).toBe('10.244.1.5');
  });

  it('gives distinct addresses to many concurrent requests, also from two instances sharing the folder', async () => {
    const a = ipam();
    const b = ipam(); // as if a second process raced on the same folder
    const reqs = Array.from({ length: 60 }, (_, i) => (i % 2 ? a : b).allocate({ podUID: `pod-${i}` }));
    const ips = (await Promise.all(reqs)).map((x) => x.ip);
    expect(new Set(ips).size).toBe(60);
    const files = (await fs.readdir(dir)).filter((f) => f.startsWith('10.'));
    expect(files).toHaveLength(60);
  });

  it('hands out one address to the same pod asked for concurrently', async () => {
    const a = ipam();
    const ips = await Promise.all(Array.from({ length: 10 }, () => a.allocate({ podUID: 'same' })));
    expect(new Set(ips.map((x) => x.ip)).size).toBe(1);
    expect(await a.list()).toHaveLength(1);
  });

  it('fails with a clear error when the range is full, and recovers after a release', async () => {
    const a = ipam('10.244.1.0/29'); // .2 .. .6: five addresses
    expect(a.range).toEqual({ first: '10.244.1.2', last: '10.244.1.6', size: 5 });
    for (let i = 0; i < 5; i++) await a.allocate({ podUID: `p${i}` });
    const err = await a.allocate({ podUID: 'one-too-many' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IPAMExhaustedError);
    expect((err as Error).message).toMatch(/no free IP in podCIDR 10\.244\.1\.0\/29/);
    await a.release('p3');
    expect((await a.allocate({ podUID: 'one-too-many' })).ip).toBe('10.244.1.5');
  });

  it('garbage-collects the addresses of pods that no longer exist', async () => {
    const a = ipam();
    for (const u of ['alive', 'gone-1', 'gone-2']) await a.allocate({ podUID: u });
    // A claim half-written by a process that died long ago, and one being written right now.
    await fs.writeFile(path.join(dir, '.tmp-dead'), '{}');
    await fs.utimes(path.join(dir, '.tmp-dead'), new Date(Date.now() - 3_600_000), new Date(Date.now() - 3_600_000));
    await fs.writeFile(path.join(dir, '.tmp-fresh'), '{}');
    const freed = await a.garbageCollect(['alive']);
    expect(freed.map((f) => f.podUID).sort()).toEqual(['gone-1', 'gone-2']);
    expect((await fs.readdir(dir)).filter((f) => f.startsWith('.tmp-'))).toEqual(['.tmp-fresh']);
    expect((await a.list()).map((x) => x.podUID)).toEqual(['alive']);
  });

  it('release touches only the named pod and reports when it held nothing', async () => {
    const a = ipam();
    await a.allocate({ podUID: 'keep' });
    expect(await a.release('never-had-one')).toBeUndefined();
    expect(await a.list()).toHaveLength(1);
  });

  it('reads files that hold a bare pod uid (as left by hand or other tools)', async () => {
    await fs.mkdir(dir, { recursive: true });
    await fs.writeFile(path.join(dir, '10.244.1.2'), 'legacy-uid\n');
    const a = ipam();
    expect(await a.get('legacy-uid')).toBe('10.244.1.2');
    expect((await a.allocate({ podUID: 'new' })).ip).toBe('10.244.1.3');
  });

  it('acts on what a claim file says now, not on what it said when first read (another process may have replaced it)', async () => {
    const a = ipam();
    const x = await a.allocate({ podUID: 'p1' });
    await a.allocate({ podUID: 'p2' });
    // Behind its back: p1's claim removed and the address claimed for p9.
    await fs.writeFile(path.join(dir, x.ip), JSON.stringify({ ip: x.ip, podUID: 'p9' }));
    expect(await a.get('p1')).toBeUndefined();
    expect(await a.release('p1')).toBeUndefined();
    expect(JSON.parse(await fs.readFile(path.join(dir, x.ip), 'utf8')).podUID).toBe('p9');
    const again = await a.allocate({ podUID: 'p1' });
    expect(again.ip).not.toBe(x.ip);
    // A claim removed behind its back is gone for it too, and one added is seen.
    await fs.rm(path.join(dir, again.ip));
    await fs.writeFile(path.join(dir, '10.244.1.200'), JSON.stringify({ podUID: 'p7' }));
    expect((await a.list()).map((c) => `${c.ip}=${c.podUID}`)).toEqual([`${x.ip}=p9`, '10.244.1.3=p2', '10.244.1.200=p7']);
    expect((await a.garbageCollect(['p2', 'p7'])).map((c) => c.podUID)).toEqual(['p9']);
    expect((await fs.readdir(dir)).sort()).toEqual(['10.244.1.200', '10.244.1.3', 'last_reserved_ip']);
  });

  it('refuses podCIDRs it cannot serve', () => {
    expect(() => ipam('10.244.1.7/24')).toThrow(/host bits are set; did you mean 10\.244\.1\.0\/24/);
    expect(() => ipam('10.0.0.0/8')).toThrow(/between \/16 and \/30/);
    expect(() => ipam('banana')).toThrow(/invalid IPv4 CIDR/);
  });
});
