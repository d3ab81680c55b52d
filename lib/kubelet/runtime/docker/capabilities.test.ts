import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { capabilityLimits, capabilityNames, missingCapabilities } from './capabilities.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, { recursive: true, force: true });
});

function procFiles(capBnd: string, lastCap: number): [string, string] {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'tkube-caps-'));
  dirs.push(d);
  fs.writeFileSync(path.join(d, 'status'), `Name:\tnode\nCapInh:\t0000000000000000\nCapBnd:\t${capBnd}\nCapAmb:\t0000000000000000\n`);
  fs.writeFileSync(path.join(d, 'cap_last_cap'), `${lastCap}\n`);
  return [path.join(d, 'status'), path.join(d, 'cap_last_cap')];
}

describe('capabilities', () => {
  it('names the capabilities a bounding set lacks, up to the last one the kernel knows', () => {
    expect(capabilityNames[24]).toBe('CAP_SYS_RESOURCE');
    expect(missingCapabilities('000001fffeffffff', 40)).toEqual(['CAP_SYS_RESOURCE']);
    expect(missingCapabilities('000001ffffffffff', 40)).toEqual([]);
    expect(missingCapabilities('0000003fffffffff', 40)).toEqual(['CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE']);
    expect(missingCapabilities('0000003fffffffff', 37)).toEqual([]);
  });

  it('a full bounding set needs no limits; a partial one gives what can be granted and what cannot', () => {
    expect(capabilityLimits(...procFiles('000001ffffffffff', 40))).toBeUndefined();
    const limits = capabilityLimits(...procFiles('000001fffeffffff', 40))!;
    expect(limits.missing).toEqual(['CAP_SYS_RESOURCE']);
    expect(limits.grantable).toHaveLength(40);
    expect(limits.grantable).toContain('CAP_SYS_ADMIN');
    expect(limits.grantable).not.toContain('CAP_SYS_RESOURCE');
    expect(capabilityLimits('/nonexistent/status', '/nonexistent/last')).toBeUndefined();
  });
});
