/**
 * The local image builder against the real Docker engine, with a throwaway image spec (so the
 * node's real images are left alone) and the real specs' hashes.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import Docker from 'dockerode';
import { afterAll, describe, expect, it } from 'vitest';
import { contentHash, contentHashLabel, ensureImage, imageSpecs, pauseImage, type ImageSpec } from '../../hack/images/images.js';
import { randomSuffix } from '../support/node-host.js';

const run = randomSuffix();
const docker = new Docker();
const name = `tkube/e2e-image-${run}:1`;
let greeting = 'first';

const spec: ImageSpec = {
  name,
  description: 'throwaway test image',
  inputs: async () => [greeting],
  stage: async (rootfs) => {
    await fs.writeFile(path.join(rootfs, 'greeting'), greeting);
    await fs.copyFile('/usr/bin/busybox', path.join(rootfs, 'busybox'));
    return ['ENTRYPOINT ["/busybox", "cat", "/greeting"]'];
  },
};

afterAll(async () => {
  await docker.getImage(name).remove({ force: true }).catch(() => undefined);
});

describe('hack/images', () => {
  it('builds an image once, skips it while its inputs are unchanged, rebuilds when they change', async () => {
    const lines: string[] = [];
    expect(await ensureImage(spec, { docker, progress: (l) => lines.push(l) })).toBe('built');
    expect(lines.some((l) => l.includes('Step 1/'))).toBe(true);
    const info = await docker.getImage(name).inspect();
    expect(info.Config.Labels[contentHashLabel]).toBe(await contentHash(spec));

    expect(await ensureImage(spec, { docker })).toBe('present');
    expect(await ensureImage(spec, { docker, force: true })).toBe('built');

    const firstId = info.Id;
    greeting = 'second';
    expect(await ensureImage(spec, { docker })).toBe('built');
    // The replaced build is not left behind as a dangling image.
    await expect(docker.getImage(firstId).inspect()).rejects.toMatchObject({ statusCode: 404 });
    const c = await docker.createContainer({ Image: name, HostConfig: { NetworkMode: 'none' } });
    try {
      await c.start();
      await c.wait();
      const out = (await c.logs({ stdout: true, follow: false })) as unknown as Buffer;
      expect(out.subarray(8).toString()).toBe('second');
    } finally {
      await c.remove({ force: true });
    }
  });

  it('gives the node images stable content hashes that change with their sources', async () => {
    const pause = imageSpecs.find((s) => s.name === pauseImage)!;
    expect(await contentHash(pause)).toBe(await contentHash(pause));
    expect(await contentHash(pause)).not.toBe(await contentHash({ ...pause, inputs: async () => [...(await pause.inputs()), 'changed'] }));
  });
});
