/**
 * What "privileged" can mean on this node. Docker gives a privileged container every capability
 * the kernel knows; where this node's own bounding set lacks some (seen: a Firecracker guest
 * whose processes never hold CAP_SYS_RESOURCE), runc cannot grant them and every privileged
 * container fails at start ("unable to apply caps: operation not permitted"). There the kubelet
 * asks for privileged's other parts itself (see containerCreateOptions) with the capabilities
 * the node can grant. What differs from Docker's privileged mode: the missing capabilities, and
 * /sys, which stays read-only.
 */
import fs from 'node:fs';

/** Linux capability names by number (linux/capability.h), CAP_CHOWN (0) to CAP_CHECKPOINT_RESTORE (40). */
export const capabilityNames = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER',
  'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/**
 * The capabilities the kernel knows (up to `lastCap`) that the bounding set `capBndHex` (as
 * /proc/<pid>/status prints it) lacks.
 */
export function missingCapabilities(capBndHex: string, lastCap: number): string[] {
  const bnd = BigInt(`0x${capBndHex.trim()}`);
  const out: string[] = [];
  for (let i = 0; i <= Math.min(lastCap, capabilityNames.length - 1); i++) if (!((bnd >> BigInt(i)) & 1n)) out.push(capabilityNames[i]!);
  return out;
}

/**
 * The capabilities a privileged container may get on this node: undefined when the node can
 * grant all the kernel knows (Docker's own privileged mode then works), else those it can and
 * those it cannot.
 */
export function capabilityLimits(procStatus = '/proc/self/status', lastCapFile = '/proc/sys/kernel/cap_last_cap'): { grantable: string[]; missing: string[] } | undefined {
  try {
    const bnd = /^CapBnd:\s*([0-9a-f]+)$/m.exec(fs.readFileSync(procStatus, 'utf8'))?.[1];
    const last = Number(fs.readFileSync(lastCapFile, 'utf8').trim());
    if (!bnd || !Number.isInteger(last)) return undefined;
    const missing = missingCapabilities(bnd, last);
    if (missing.length === 0) return undefined;
    return { grantable: capabilityNames.slice(0, last + 1).filter((c) => !missing.includes(c)), missing };
  } catch {
    return undefined;
  }
}

/** The host's device nodes, as runc lists them for a privileged container (no pts, shm, fd, mqueue, console). */
export function hostDevices(root = '/dev'): string[] {
  const skip = new Set(['pts', 'shm', 'fd', 'mqueue', '.lxc', '.lxd-mounts', '.udev']);
  const out: string[] = [];
  const walk = (dir: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      const p = `${dir}/${e.name}`;
      if (e.isDirectory()) {
        if (!skip.has(e.name)) walk(p);
      } else if ((e.isCharacterDevice() || e.isBlockDevice()) && p !== `${root}/console`) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}
