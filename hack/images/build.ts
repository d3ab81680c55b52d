#!/usr/bin/env node
/**
 * tkube-images: builds the node's local images (tkube/pause, tkube/busybox) into the local
 * Docker engine from Debian packages, with no registry. Safe to run again: an image present
 * with the same content hash is skipped.
 */
import Docker from 'dockerode';
import { flag, parseProgramFlags } from '../../lib/base/index.js';
import { ensureImages, imageSpecs } from './images.js';

const specs = {
  force: flag('bool', false, 'Rebuild images even when they are present with the same content.'),
  only: flag('stringList', [], `Build only these images, comma-separated (known: ${imageSpecs.map((s) => s.name).join(', ')}).`),
  host: flag('string', '/var/run/docker.sock', 'Docker engine socket.'),
};

const { flags } = parseProgramFlags('tkube-images', 'builds the local images a tkube node needs (no registry needed)', specs);

const docker = new Docker({ socketPath: flags.host });
try {
  const started = Date.now();
  const out = await ensureImages({ docker, force: flags.force, only: flags.only, progress: (line) => process.stdout.write(line + '\n') });
  const built = Object.values(out).filter((o) => o === 'built').length;
  process.stdout.write(`done: ${built} built, ${Object.keys(out).length - built} already present (${((Date.now() - started) / 1000).toFixed(1)}s)\n`);
} catch (err) {
  const e = err as Error;
  process.stderr.write(`Error: ${e.message}${e.cause instanceof Error ? `\n  cause: ${e.cause.message}` : ''}\n`);
  process.exit(1);
}
