/**
 * The cluster bench's CPU breakdown: a lab unit's CPU is its process group's, children included,
 * and it is counted within the machine's.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { cpuRows, cpuSnapshot } from '../../bench/cpu.js';

describe('bench CPU breakdown', () => {
  let child: ChildProcess | undefined;

  afterEach(() => {
    if (child?.pid) {
      try {
        process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  });

  it("counts a unit's process group, a busy grandchild included, within the machine's CPU", async () => {
    // A "unit" like the lab's: a shell leading its own process group; a child of it burns CPU
    // for ~400 ms and exits, reaped by the shell, which then waits idle.
    const burn = 'const end = Date.now() + 400; while (Date.now() < end) {}';
    child = spawn('sh', ['-c', `"${process.execPath}" -e '${burn}'; sleep 30`], { detached: true, stdio: 'ignore' });
    // A second unit that does nothing (no such process group).
    const units = new Map([['busy (node1)', child.pid!], ['idle (node1)', 999_999_999]]);
    const before = cpuSnapshot(units);
    await new Promise((r) => setTimeout(r, 1200));
    const after = cpuSnapshot(units);

    const rows = cpuRows(before, after, 'the test');
    const machine = rows[0]!;
    const busy = rows.find((r) => r.name.includes('of which busy (all hosts)'));
    const idle = rows.find((r) => r.name.includes('of which idle (all hosts)'));
    const rest = rows.find((r) => r.name.includes('the rest'));
    expect(machine.name).toContain('the whole machine');
    expect(busy?.measured).toBeGreaterThanOrEqual(0.3);
    expect(busy?.measured).toBeLessThanOrEqual(machine.measured);
    expect(idle?.measured).toBe(0);
    expect(rest!.measured).toBeCloseTo(Math.max(0, machine.measured - busy!.measured), 5);
  });

  it('without a lab gives the machine alone', () => {
    const before = cpuSnapshot();
    const after = cpuSnapshot();
    const rows = cpuRows(before, after, 'nothing');
    expect(rows).toHaveLength(1);
    expect(rows[0]!.measured).toBeGreaterThanOrEqual(0);
  });
});
