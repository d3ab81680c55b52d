/**
 * A lab host's container runtime: its own dockerd, started inside the host's namespace with
 * its own data-root, exec-root and socket, leaving networking and iptables to the kubelet (a VM
 * uses Debian's docker.service instead). Images come from the machine's Docker (built there by
 * `npm run images`) with `docker save | docker load`, as there is no registry.
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import type { RenderedUnit } from './units.js';

export const nodeImages = ['tkube/pause:3.10', 'tkube/busybox:1.36', 'tkube/tkube:0.1.0'];

export interface LabDockerPaths {
  hostDir: string;
}

export function dockerSocket(hostDir: string): string {
  return path.join(hostDir, 'docker.sock');
}

/** The lab's docker.service for one host (the same shape as a rendered deploy/ unit). */
export function labDockerUnit(hostName: string, hostDir: string): RenderedUnit {
  const argv = [
    '/usr/sbin/dockerd',
    `--data-root=${path.join(hostDir, 'docker')}`,
    `--exec-root=${path.join(hostDir, 'docker-exec')}`,
    `--host=unix://${dockerSocket(hostDir)}`,
    `--pidfile=${path.join(hostDir, 'docker.pid')}`,
    '--bridge=none',
    '--iptables=false',
    '--ip-masq=false',
    '--ip-forward=false',
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
