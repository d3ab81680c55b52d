/**
 * A lab host's container runtime: its own dockerd, started inside the host's namespace with
 * its own data-root, exec-root and socket, leaving networking and iptables to the kubelet (a VM
 * uses Debian's docker.service instead). Images come from the machine's Docker (built there by
 * `npm run images`) with `docker save | docker load`, as there is no registry.
 *
 * Storage: by default each host's data-root and exec-root are tmpfs mounts of their own. A VM
 * has a disk of its own and its /run in memory; here every host's Docker, etcd and the machine
 * share one disk, and the kernel's work for every new container's files there (ext4 inode
 * allocation, writeback of layers, configs, logs, runc and containerd state) is CPU a starting
 * pod waits for: 20 pods at once on one engine started in 1.6 s instead of 2.0 s with the
 * data-root in memory. `--docker-storage=disk` keeps the data-root on disk under the state
 * folder. Either way it lives as long as the lab does: `down` unmounts and removes it.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { mountsUnder } from './network.js';
import type { RenderedUnit } from './units.js';

export const nodeImages = ['tkube/pause:3.10', 'tkube/busybox:1.36', 'tkube/tkube:0.1.0'];

export interface LabDockerPaths {
  hostDir: string;
}

export function dockerSocket(hostDir: string): string {
  return path.join(hostDir, 'docker.sock');
}

export const dockerStorages = ['tmpfs', 'disk'] as const;
export type DockerStorage = (typeof dockerStorages)[number];

export function parseDockerStorage(v: string): DockerStorage {
  if ((dockerStorages as readonly string[]).includes(v)) return v as DockerStorage;
  throw new Error(`--docker-storage must be ${dockerStorages.join(' or ')}, not ${JSON.stringify(v)}`);
}

export function dockerDataRoot(hostDir: string): string {
  return path.join(hostDir, 'docker');
}

export function dockerExecRoot(hostDir: string): string {
  return path.join(hostDir, 'docker-exec');
}

/** Mounts a tmpfs of its own at `dir` unless one is there; false when `dir` already holds files on disk (left alone). */
function ensureTmpfs(dir: string, name: string, size: string): boolean {
  fs.mkdirSync(dir, { recursive: true, mode: 0o711 });
  if (mountsUnder(dir).includes(dir)) return true;
  if (fs.readdirSync(dir).length > 0) return false;
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0711`, name, dir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`mounting a tmpfs on ${dir} failed: ${(r.stderr || r.error?.message || '').trim()}`);
  return true;
}

/**
 * Makes a host's Docker folders ready before its dockerd starts. The exec-root (runtime state:
 * runc's and containerd's state files, shim sockets, stdio fifos, several files per container)
 * is always a tmpfs, as /run is on a VM. The data-root is a tmpfs too (at most a quarter of the
 * machine's memory, used as files are written) unless `storage` is disk. Returns where the
 * data-root is. A folder that already holds files on disk (a lab made before) is not hidden
 * under a new mount; it stays until down.
 */
export function prepareDockerDirs(hostDir: string, storage: DockerStorage, hostName: string): 'tmpfs' | 'disk' {
  ensureTmpfs(dockerExecRoot(hostDir), `tkube-lab-docker-exec-${hostName}`, '10%');
  if (storage === 'disk') {
    fs.mkdirSync(dockerDataRoot(hostDir), { recursive: true, mode: 0o711 });
    return 'disk';
  }
  return ensureTmpfs(dockerDataRoot(hostDir), `tkube-lab-docker-${hostName}`, '25%') ? 'tmpfs' : 'disk';
}

/** The lab's docker.service for one host (the same shape as a rendered deploy/ unit). */
export function labDockerUnit(hostName: string, hostDir: string): RenderedUnit {
  const argv = [
    '/usr/sbin/dockerd',
    `--data-root=${dockerDataRoot(hostDir)}`,
    `--exec-root=${dockerExecRoot(hostDir)}`,
    `--host=unix://${dockerSocket(hostDir)}`,
    `--pidfile=${path.join(hostDir, 'docker.pid')}`,
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--ip-forward=false',
    // The kubelet's container log rotation (upstream's containerLogMaxSize 10Mi, 5 files).
    '--log-opt=max-size=10m',
    '--log-opt=max-file=5',
  ];
  const text = [
    `# The single-machine lab's container runtime for ${hostName} (a VM uses Debian's docker.service).`,
    '[Unit]',
    `Description=Docker Engine of lab host ${hostName}`,
    '',
    '[Service]',
    `ExecStart=${argv.join(' \\\n  ')}`,
    '# dockerd stops every container (each with its own stop timeout) before it exits; killed',
    '# before that, it would leave them running without an engine.',
    'TimeoutStopSec=60',
    '',
  ].join('\n');
  return { component: 'docker', name: 'docker.service', description: `Docker Engine of lab host ${hostName}`, text, pre: [], argv };
}

function docker(args: string[], host?: string): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync('docker', [...(host ? ['-H', `unix://${host}`] : []), ...args], { encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

export function dockerAnswers(socket: string): boolean {
  return docker(['version', '--format', '{{.Server.Version}}'], socket).status === 0;
}

function imageID(image: string, socket?: string): string | undefined {
  const r = docker(['image', 'inspect', '--format', '{{.Id}}', image], socket);
  return r.status === 0 ? r.stdout.trim() : undefined;
}

/** Copies the images a node needs from the machine's Docker into a host's; skips those with the same ID. */
export function loadImages(socket: string, images = nodeImages): { loaded: string[]; present: string[] } {
  const missing: string[] = [];
  const present: string[] = [];
  for (const img of images) {
    const want = imageID(img);
    if (!want) throw new Error(`${img} is not in the machine's Docker; build it with: npm run images`);
    if (imageID(img, socket) === want) present.push(img);
    else missing.push(img);
  }
  if (missing.length) {
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', 'docker save "$@" | docker -H "unix://$SOCK" load -q', 'load', ...missing], { encoding: 'utf8', env: { ...process.env, SOCK: socket } });
    if (r.status !== 0) throw new Error(`loading ${missing.join(', ')} into ${socket} failed: ${(r.stderr || r.stdout).trim()}`);
  }
  return { loaded: missing, present };
}

/** Removes every container of a host's Docker (pods' sandboxes and containers); returns how many. */
export function removeAllContainers(socket: string): number {
  const r = docker(['ps', '-aq'], socket);
  if (r.status !== 0) return 0;
  const ids = r.stdout.split(/\s+/).filter(Boolean);
  if (ids.length) docker(['rm', '-f', '-v', ...ids], socket);
  return ids.length;
}
