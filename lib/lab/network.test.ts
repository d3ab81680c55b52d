import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { ensureHostUTS, labRules, mountsUnder, unmountUnder } from './network.js';

describe('labRules', () => {
  const rules = labRules('tkl0', '192.168.56.0/24');

  test('forwards between the lab hosts, out of the lab, and replies back in', () => {
    const filter = rules.filter((r) => r.table === 'filter').map((r) => r.rule.join(' '));
    expect(filter).toEqual([
      expect.stringMatching(/^-i tkl0 -o tkl0 .* -j ACCEPT$/),
      expect.stringMatching(/^-i tkl0 ! -o tkl0 .* -j ACCEPT$/),
      expect.stringMatching(/^-o tkl0 -m conntrack --ctstate RELATED,ESTABLISHED .* -j ACCEPT$/),
    ]);
    expect(rules.filter((r) => r.table === 'filter').every((r) => r.hook === 'FORWARD')).toBe(true);
  });

  test('masquerades only what leaves the lab from its own network (hosts see each other as they are)', () => {
    const nat = rules.filter((r) => r.table === 'nat');
    expect(nat).toHaveLength(1);
    expect(nat[0]!.hook).toBe('POSTROUTING');
    expect(nat[0]!.rule.join(' ')).toMatch(/^-s 192\.168\.56\.0\/24 ! -o tkl0 .* -j MASQUERADE$/);
  });

  test('every rule names the bridge in its comment (down and the host checks find them)', () => {
    for (const r of rules) expect(r.rule.join(' ')).toContain('tkube-lab tkl0:');
  });
});

describe.skipIf(process.getuid?.() !== 0)('ensureHostUTS (root)', () => {
  test('a namespace of its own with the host name as hostname, kept by a bind mount; this machine keeps its name; idempotent', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-test-uts-'));
    const file = path.join(dir, 'uts');
    const name = `tkube-test-${randomBytes(3).toString('hex')}`;
    const hostnameIn = () => spawnSync('nsenter', [`--uts=${file}`, '--', 'hostname'], { encoding: 'utf8' }).stdout.trim();
    try {
      ensureHostUTS(file, name);
      expect(mountsUnder(dir)).toEqual([file]);
      expect(hostnameIn()).toBe(name);
      expect(os.hostname()).not.toBe(name);
      ensureHostUTS(file, name);
      expect(mountsUnder(dir)).toEqual([file]);
      ensureHostUTS(file, `${name}-b`);
      expect(hostnameIn()).toBe(`${name}-b`);
      expect(mountsUnder(dir)).toEqual([file]);
    } finally {
      unmountUnder(dir);
      fs.rmSync(dir, { recursive: true, force: true });
    }
    expect(fs.existsSync(dir)).toBe(false);
  });
});
