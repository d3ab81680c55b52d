/**
 * Where a burst's CPU went, read from /proc: the whole machine's busy time, and each lab unit's
 * (the unit's process group: tkube-lab starts every unit in a group of its own, so a unit's
 * children, such as the kubelet's process launcher and the programs it reaps, count with it).
 * Docker's containerd shims and runc run in sessions of their own and land in "the rest".
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import type { Row } from './table.js';

export interface CPUSnapshot {
  /** Busy ticks of the whole machine (all CPUs, idle and iowait excluded). */
  machine: number;
  /** Ticks of each unit's process group, by "unit (host)". */
  units: Map<string, number>;
}

let ticksPerSecond: number | undefined;
function hz(): number {
  if (ticksPerSecond === undefined) {
    const r = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' });
    ticksPerSecond = Number(r.stdout?.trim()) || 100;
  }
  return ticksPerSecond;
}

function machineBusyTicks(): number {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  // user nice system idle iowait irq softirq steal ...
  return fields.reduce((a, b) => a + b, 0) - (fields[3] ?? 0) - (fields[4] ?? 0);
}

/** Process group → ticks of its live members, with what they reaped of exited children. */
function ticksByGroup(): Map<number, number> {
  const out = new Map<number, number>();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces): state ppid pgrp ... utime(14) stime cutime cstime.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    out.set(pgrp, (out.get(pgrp) ?? 0) + ticks);
  }
  return out;
}

/** The machine's busy ticks, and those of each unit's process group (`unitGroups`: "unit (host)" → group id). */
export function cpuSnapshot(unitGroups: Map<string, number> = new Map()): CPUSnapshot {
  const machine = machineBusyTicks();
  const units = new Map<string, number>();
  if (unitGroups.size > 0) {
    const groups = ticksByGroup();
    for (const [unit, pgid] of unitGroups) units.set(unit, groups.get(pgid) ?? 0);
  }
  return { machine, units };
}

/** Core-seconds between two snapshots: the machine's, and per kind of unit (summed over hosts). */
export function cpuRows(before: CPUSnapshot, after: CPUSnapshot, what: string): Row[] {
  const s = (ticks: number) => ticks / hz();
  const machine = s(after.machine - before.machine);
  const byKind = new Map<string, number>();
  for (const [unit, t1] of after.units) {
    const t0 = before.units.get(unit);
    if (t0 === undefined) continue; // started during the burst: no baseline
    const kind = unit.replace(/ \(.*\)$/, '');
    byKind.set(kind, (byKind.get(kind) ?? 0) + s(Math.max(0, t1 - t0)));
  }
  const rows: Row[] = [{ name: `CPU during ${what}: the whole machine (core-seconds)`, measured: machine, unit: 's' }];
  if (byKind.size === 0) return rows;
  let units = 0;
  for (const [kind, v] of [...byKind].sort((a, b) => b[1] - a[1])) {
    units += v;
    rows.push({ name: `  of which ${kind} (all hosts)`, measured: v, unit: 's' });
  }
  rows.push({ name: '  of which the rest: containerd shims, runc, the kernel, other programs', measured: Math.max(0, machine - units), unit: 's' });
  return rows;
}
